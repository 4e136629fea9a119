"""The alert message and its thread replies, as Block Kit. Pure."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    Option,
    SectionBlock,
    StaticSelectElement,
)

from bot.alerts.lifecycle import Alert, Effect
from bot.alerts.verify_message import outcome_reply, outcome_summary
from bot.alerts.volume_trends import falling_per_day
from bot.slack.blocks import EMOJI, clip, escape, mrkdwn
from checks.i18n import Catalog
from checks.report import Report, Status

ACK_ACTION = "alert_ack"
UNACK_ACTION = "alert_unack"
ESCALATE_ACTION = "alert_escalate"
SILENCE_ACTION = "alert_silence"
UNSILENCE_ACTION = "alert_unsilence"
ALERT_RECHECK_ACTION = "alert_recheck"
# How long the Silence menu's choices last; "window" ends when the backup window starts.
SILENCE_CHOICES = ("window", "24h", "7d")


def alert_summary(alert: Alert, report: Report, t: Catalog) -> str:
    """One line: the server, its worst problem, and the backup it threatens (once the
    window is verified: how its backup went)."""
    if alert.outcome is not None:
        return outcome_summary(alert, t)
    top = next((f for f in report.findings if f.severity is report.status), None)
    problem = escape(top.message) if top else t.text("slack.all_ok")
    falling = falling_per_day(report, top.volume_id) if top else None
    if top is not None and falling is not None:
        volume = next(v for v in report.volumes if v.id == top.volume_id)
        name = escape(volume.letter or volume.label or volume.name)
        phrase = t.text("alerts.trend_falling", volume=name, size=t.size(falling))
        problem += t.text("tip.sentence_separator") + phrase
    when = t.datetime(alert.window_at)
    return t.text("alerts.summary", server=escape(alert.server), problem=problem, when=when)


def alert_blocks(alert: Alert, report: Report, t: Catalog, now: datetime) -> list[Block]:
    """The alert message: summary, who has it, and the buttons that still make sense."""
    blocks: list[Block] = [
        SectionBlock(text=mrkdwn(clip(f"{_emoji(alert)} {alert_summary(alert, report, t)}"))),
        ContextBlock(elements=[mrkdwn(clip(alert_state_line(alert, t, now)))]),
    ]
    if alert.resolved_at is None:
        blocks.append(ActionsBlock(block_id="alert_actions", elements=_controls(alert, t, now)))
    return blocks


def _emoji(alert: Alert) -> str:
    return EMOJI[Status.OK if alert.resolved_at is not None else alert.severity]


def _controls(alert: Alert, t: Catalog, now: datetime) -> list[ButtonElement | StaticSelectElement]:
    # Every control carries the alert's id: the server alone would not say which window.
    ref = _reference(alert)
    taken = alert.acknowledged_by is not None
    controls: list[ButtonElement | StaticSelectElement] = [
        ButtonElement(
            text=t.text("alerts.unacknowledge" if taken else "alerts.acknowledge"),
            action_id=UNACK_ACTION if taken else ACK_ACTION,
            value=ref,
            style=None if taken else "primary",
        )
    ]
    if alert.escalated_at is None:
        controls.append(
            ButtonElement(
                text=t.text("alerts.escalate"), action_id=ESCALATE_ACTION, value=ref, style="danger"
            )
        )
    controls.append(
        ButtonElement(text=t.text("slack.recheck"), action_id=ALERT_RECHECK_ACTION, value=ref)
    )
    if alert.silenced(now):
        controls.append(
            ButtonElement(text=t.text("alerts.unsilence"), action_id=UNSILENCE_ACTION, value=ref)
        )
    else:
        controls.append(
            StaticSelectElement(
                action_id=SILENCE_ACTION,
                placeholder=t.text("alerts.silence"),
                options=[
                    Option(value=f"{ref}|{choice}", text=t.text(f"alerts.silence_{choice}"))
                    for choice in SILENCE_CHOICES
                ],
            )
        )
    return controls


def _reference(alert: Alert) -> str:
    return f"{alert.server}|{alert.window_at.isoformat()}"


def parse_reference(value: str) -> tuple[str, datetime] | None:
    """The (server, window) a control's value names; None when it is not one of ours."""
    server, _, window = value.partition("|")
    try:
        when = datetime.fromisoformat(window)
    except ValueError:
        return None
    return (server, when) if server and when.tzinfo is not None else None


def alert_state_line(alert: Alert, t: Catalog, now: datetime) -> str:
    """Who has the alert and since when, for the context line under the summary."""
    parts = []
    if alert.resolved_at is not None:
        # Closed by the verdict after the window, or resolved by a check before it.
        verified = alert.outcome is not None and alert.resolved_at >= alert.window_at
        key = "verify.closed" if verified else "alerts.resolved"
        parts.append(t.text(key, when=t.datetime(alert.resolved_at)))
    if alert.acknowledged_by is not None and alert.acknowledged_at is not None:
        who = f"<@{alert.acknowledged_by}>"
        parts.append(t.text("alerts.acknowledged", who=who, when=t.datetime(alert.acknowledged_at)))
    if alert.escalated_at is not None:
        when = t.datetime(alert.escalated_at)
        if alert.escalated_by == "auto":
            parts.append(t.text("alerts.escalated_auto", when=when))
        else:
            parts.append(t.text("alerts.escalated_by", who=f"<@{alert.escalated_by}>", when=when))
    if alert.silenced(now) and alert.silenced_until is not None and alert.resolved_at is None:
        until = t.datetime(alert.silenced_until)
        parts.append(t.text("alerts.silenced", who=f"<@{alert.silenced_by}>", until=until))
    if not parts:
        parts.append(t.text("alerts.unowned"))
    return t.text("tip.sentence_separator").join(parts)


def reply_text(
    effect: Effect,
    alert: Alert,
    t: Catalog,
    now: datetime,
    on_call: str = "",
    actor: str | None = None,
    previous: Report | None = None,
    report: Report | None = None,
) -> str:
    """The thread reply for one effect of a transition."""
    who = f"<@{actor}>" if actor else ""
    if effect is Effect.REPLY_OUTCOME:
        return outcome_reply(alert, t)
    if effect is Effect.REPLY_ESCALATED:
        return t.text("alerts.reply_escalated", on_call=on_call or t.text("alerts.no_on_call"))
    if effect is Effect.REPLY_CHANGED:
        return t.text("alerts.reply_changed")
    if effect is Effect.REPLY_SILENCED and alert.silenced_until is not None:
        until = t.datetime(alert.silenced_until)
        return t.text("alerts.reply_silenced", who=f"<@{alert.silenced_by}>", until=until)
    if effect is Effect.REPLY_UNSILENCED:
        return t.text("alerts.reply_unsilenced", who=who)
    if effect is Effect.REPLY_RESOLVED and alert.resolved_at is not None:
        fixed = fixed_volumes(previous, report, t)
        return t.text("alerts.reply_resolved", when=t.datetime(alert.resolved_at), fixed=fixed)
    return alert_state_line(alert, t, now)


def fixed_volumes(previous: Report | None, report: Report | None, t: Catalog) -> str:
    """What got fixed: each volume that alerted before, with its free space now."""
    if previous is None or report is None:
        return t.text("alerts.fixed_nothing")
    bad_before = {
        v.id for v in previous.volumes if v.status not in (Status.OK, Status.INFO) and v.id
    }
    now_by_id = {v.id: v for v in report.volumes}
    fixed = [
        t.text(
            "alerts.fixed_volume",
            volume=escape(v.letter or v.label or v.name),
            free=t.size(v.free_bytes),
        )
        for volume_id in sorted(bad_before)
        if (v := now_by_id.get(volume_id)) is not None
    ]
    return t.text("list_separator").join(fixed) if fixed else t.text("alerts.fixed_nothing")
