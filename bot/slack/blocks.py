"""Block Kit messages built from typed slack_sdk models, kept inside Slack's limits. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Protocol

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.display import visible
from bot.trend_text import trend_text
from checks.i18n import Catalog
from checks.report import Finding, Report, Status, Tip, VolumeReport
from checks.windows import Window, server_zone


class Silenced(Protocol):
    """Who silenced a server and until when (bot.alerts.silences.ActiveSilence)."""

    @property
    def until(self) -> datetime: ...

    @property
    def by(self) -> str: ...


MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_HEADER = 150
MAX_VALUE = 2000
# Blocks kept for findings and tips; volumes get what is left.
FINDINGS_BUDGET = 24
RECHECK_ACTION = "recheck"

EMOJI = {
    Status.OK: ":white_check_mark:",
    Status.WARNING: ":warning:",
    Status.CRITICAL: ":red_circle:",
    Status.UNKNOWN: ":grey_question:",
    Status.INFO: ":white_circle:",
}


def escape(text: str) -> str:
    """Host text for mrkdwn: &, < and > escaped, so no mention or link; control characters shown."""
    # Formatting marks (* _ ~ `) have no escape in mrkdwn: host text can change the emphasis
    # around it, but every character stays on screen. Commands are the exception (tip_text).
    # https://api.slack.com/reference/surfaces/formatting#escaping
    return visible(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str) -> MarkdownTextObject:
    """A mrkdwn text object that Slack shows verbatim: no automatic links from bare URLs."""
    # Without verbatim, Slack turns a host's "https://…" or "#channel" into a link by itself;
    # our own <@U…> mentions are explicit and still work.
    return MarkdownTextObject(text=text, verbatim=True)


def clip(text: str, limit: int = MAX_TEXT) -> str:
    """Cut text to a Block Kit limit, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def report_blocks(
    report: Report, t: Catalog, zone: tzinfo | None = None, window_at: datetime | None = None
) -> list[Block]:
    """A host's report: verdict, volumes, findings with tips, a Re-check button, when.

    Times are in `zone` (default: the zone the server reported); `window_at`, an alert's
    window, is shown as the next backup, so that an alert and its details name one time."""
    shown = zone or server_zone(None, report.next_backup_at)
    status = t.text(f"status.{report.status.value}")
    head: list[Block] = [
        # A header is plain_text: no markup to escape, but control characters are still shown.
        HeaderBlock(
            text=clip(f"{EMOJI[report.status]} {visible(report.host)}: {status}", MAX_HEADER)
        ),
        SectionBlock(text=mrkdwn(clip(_summary(report, t, shown, window_at)))),
    ]
    tail: list[Block] = [
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=t.text("slack.recheck"),
                    action_id=RECHECK_ACTION,
                    value=clip(report.host, MAX_VALUE),
                )
            ]
        ),
        ContextBlock(
            elements=[
                mrkdwn(t.text("report.checked_at", when=t.datetime(report.checked_at, shown)))
            ]
        ),
    ]
    findings = _finding_blocks(report.findings, t, FINDINGS_BUDGET)
    room = MAX_BLOCKS - len(head) - len(tail) - len(findings) - 2  # two dividers
    volumes = _volume_blocks(report.volumes, t, room, shown)
    body: list[Block] = []
    if volumes:
        body += [DividerBlock(), *volumes]
    if findings:
        body += [DividerBlock(), *findings]
    return head + body + tail


def _summary(report: Report, t: Catalog, zone: tzinfo, window_at: datetime | None) -> str:
    emoji = EMOJI[report.status]
    top = next((f for f in report.findings if f.severity is report.status), None)
    if report.status is Status.OK or top is None:
        line = t.text("slack.all_ok")
    else:
        line = escape(top.message)
    nxt = window_at or report.next_backup_at
    when = (
        t.text("report.next_backup", when=t.datetime(nxt, zone))
        if nxt
        else t.text("report.no_next_backup")
    )
    return f"{emoji} {line}\n{when}"


def volume_line(v: VolumeReport, t: Catalog, zone: tzinfo | None = None) -> str:
    """One volume in mrkdwn: name, label, roles; status and sizes; a usage bar."""
    name = f"*{escape(v.letter or v.name)}*"
    if v.label:
        name += f" {escape(v.label)}"
    roles = ", ".join(t.text(f"role.{r.value}") for r in v.roles)
    first = f"{name}  ·  _{roles}_" if roles else name
    sizes = t.text(
        "slack.volume_sizes",
        free=t.size(v.free_bytes),
        size=t.size(v.capacity_bytes),
    )
    if v.required_free_bytes is not None:
        sizes += "  ·  " + t.text("slack.volume_needs", required=t.size(v.required_free_bytes))
    if v.recommended_free_bytes is not None:
        sizes += "  ·  " + t.text(
            "slack.volume_recommended", recommended=t.size(v.recommended_free_bytes)
        )
    trend = trend_text(v, t, zone)
    if trend is not None:
        sizes += "  ·  " + t.text("slack.volume_trend", trend=trend)
    status = f"{EMOJI[v.status]} *{t.text(f'status.{v.status.value}')}*"
    return f"{first}\n{status}  {sizes}\n`{usage_bar(v)}`"


def usage_bar(v: VolumeReport, width: int = 10) -> str:
    """A text bar of how full the volume is."""
    share = (v.capacity_bytes - v.free_bytes) / v.capacity_bytes if v.capacity_bytes else 0.0
    filled = min(width, round(share * width))
    return "█" * filled + "░" * (width - filled) + f" {100 * share:3.0f}%"


def _volume_blocks(
    volumes: Sequence[VolumeReport], t: Catalog, room: int, zone: tzinfo | None = None
) -> list[Block]:
    """Problem volumes one by one; healthy ones too while there is room, else one summary line."""
    if room <= 0 or not volumes:
        return []
    ranked = sorted(volumes, key=lambda v: -v.status.rank)
    problems = [v for v in ranked if v.status.rank > 0]
    healthy = [v for v in ranked if v.status.rank == 0]
    if len(volumes) <= room:
        shown, rest = ranked, []
    else:
        shown = problems[: room - 1]
        rest = problems[room - 1 :] + healthy
    blocks: list[Block] = [SectionBlock(text=mrkdwn(clip(volume_line(v, t, zone)))) for v in shown]
    if rest:
        names = ", ".join(escape(v.letter or v.label or v.name) for v in rest)
        line = t.text("slack.more_volumes", count=len(rest), names=names)
        blocks.append(ContextBlock(elements=[mrkdwn(clip(line))]))
    return blocks


def _finding_blocks(findings: Sequence[Finding], t: Catalog, budget: int) -> list[Block]:
    blocks: list[Block] = []
    for finding in findings:
        if len(blocks) >= budget - 1:
            blocks.append(ContextBlock(elements=[mrkdwn(t.text("slack.more_in_terminal"))]))
            break
        text = f"{EMOJI[finding.severity]} {escape(finding.message)}  `{finding.code}`"
        blocks.append(SectionBlock(text=mrkdwn(clip(text))))
        for tip in finding.tips:
            if len(blocks) >= budget - 1:
                break
            blocks.append(SectionBlock(text=mrkdwn(clip(tip_text(tip, t)))))
    return blocks


def tip_text(tip: Tip, t: Catalog) -> str:
    """A tip in mrkdwn: the advice, then its commands in a code block."""
    text = f"→ {escape(tip.text)}"
    if any("`" in c.text for c in tip.commands):
        # A backtick could close the code block, and mrkdwn would then reformat (and so change)
        # the rest of a command meant for an elevated prompt: the terminal shows it as it is.
        return f"{text}\n{t.text('slack.more_in_terminal')}"
    if tip.commands:
        commands = "\n".join(escape(c.text) for c in tip.commands)
        text += f"\n```{commands}```"
        if any(c.elevated for c in tip.commands):
            text += f"\n_{t.text('report.elevated')}_"
    return text


def help_blocks(t: Catalog, command: str, understood: bool = True) -> list[Block]:
    """Usage of the slash command; says first when the text was not understood."""
    lines = [t.text("slack.usage", command=command)]
    if not understood:
        lines.insert(0, t.text("slack.not_understood"))
    return [SectionBlock(text=mrkdwn(clip("\n".join(lines))))]


def summary_blocks(reports: Sequence[Report], t: Catalog, total: int) -> list[Block]:
    """A fleet at a glance, worst first; still-running hosts are counted in the header."""
    title = t.text("summary.title", count=total)
    if len(reports) < total:
        title = t.text("slack.summary_progress", done=len(reports), total=total)
    blocks: list[Block] = [HeaderBlock(text=clip(title, MAX_HEADER))]
    lines = []
    for report in sorted(reports, key=lambda r: (-r.status.rank, r.host.casefold())):
        top = next((f for f in report.findings if f.severity is report.status), None)
        detail = escape(top.message) if top else t.text("slack.all_ok")
        lines.append(f"{EMOJI[report.status]} *{escape(report.host)}*  {detail}")
    return blocks + packed_sections(lines, MAX_BLOCKS - len(blocks))


def windows_blocks(
    windows: Sequence[Window], t: Catalog, silences: Mapping[str, Silenced] | None = None
) -> list[Block]:
    """Each server's next backup and check time, soonest first, and who silenced it."""
    blocks: list[Block] = [HeaderBlock(text=clip(t.text("windows.title"), MAX_HEADER))]
    lines = []
    for w in windows:
        if w.next_backup_at is None or w.check_at is None:
            line = f"*{escape(w.server)}*  {t.text('windows.unknown')}  {escape(w.reason or '')}"
        else:
            line = f"*{escape(w.server)}*  " + t.text(
                "windows.line", next=t.datetime(w.next_backup_at), check=t.datetime(w.check_at)
            )
        silenced = (silences or {}).get(w.server)
        if silenced is not None:
            until = t.datetime(silenced.until)
            line += "  :no_bell: " + t.text(
                "windows.silenced", who=f"<@{silenced.by}>", until=until
            )
        lines.append(line.rstrip())
    return blocks + packed_sections(lines, MAX_BLOCKS - len(blocks))


def packed_sections(lines: Sequence[str], room: int) -> list[Block]:
    """Lines packed into as few sections as the 3,000-character limit allows, at most room."""
    sections: list[Block] = []
    chunk = ""
    for line in (clip(line, 1000) for line in lines):
        if chunk and len(chunk) + len(line) + 1 > MAX_TEXT:
            if len(sections) == room - 1:
                break
            sections.append(SectionBlock(text=mrkdwn(chunk)))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    if chunk and len(sections) < room:
        sections.append(SectionBlock(text=mrkdwn(chunk)))
    return sections
