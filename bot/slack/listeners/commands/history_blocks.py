"""`/backupcheck history`'s answer as Block Kit: a header, then one line per backup window.
Pure: history lines in, blocks out; the cells are the terminal's (history_lines.line_text)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import tzinfo

from slack_sdk.models.blocks import Block, HeaderBlock

from bot.alerts.history_lines import HistoryLine, line_text
from bot.slack.blocks import MAX_BLOCKS, MAX_HEADER, clip, escape, packed_sections
from checks.i18n import Catalog, in_zone, zone_label

# A Slack user id, as the acknowledgement stored it: only such text becomes a mention.
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")


def history_title(server: str, lines: Sequence[HistoryLine], zone: tzinfo, t: Catalog) -> str:
    """The title (and the notification text): the server, how many windows, the zone."""
    label = zone_label(in_zone(lines[0].window_at, zone)) if lines else ""
    return t.text("history.title", server=server, count=len(lines), zone=label)


def history_blocks(
    server: str, lines: Sequence[HistoryLine], zone: tzinfo, t: Catalog
) -> list[Block]:
    """A header, then the windows newest first, times in the server's zone."""
    blocks: list[Block] = [
        HeaderBlock(text=clip(history_title(server, lines, zone, t), MAX_HEADER))
    ]
    return blocks + packed_sections([_line(line, zone, t) for line in lines], MAX_BLOCKS - 1)


def _line(line: HistoryLine, zone: tzinfo, t: Catalog) -> str:
    who = line.acknowledged_by
    mention = f"<@{who}>" if who is not None and _USER_ID.fullmatch(who) else None
    cells = line_text(line, zone, t, who=mention)
    acknowledged = cells.acknowledged if mention is not None else escape(cells.acknowledged)
    return t.text(
        "history.line",
        window=escape(cells.window),
        precheck=escape(cells.precheck),
        outcome=escape(cells.outcome),
        acknowledged=acknowledged,
        freed=escape(cells.freed),
    )
