"""Block Kit for `/backupcheck status`: the replicas, what each holds, the next checks (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import Block, HeaderBlock, SectionBlock

from bot.alerts.replicas import Heartbeat, ReplicaStatus
from bot.slack.blocks import MAX_BLOCKS, MAX_HEADER, clip, escape, mrkdwn, packed_sections
from checks.i18n import Catalog
from checks.windows import Window

MAX_NEXT = 10  # the soonest checks; `/backupcheck windows` lists them all


def replica_state(beat: Heartbeat, now: datetime, t: Catalog) -> str:
    """alive, stopped at …, or silent since … (it died, or cannot reach the database)."""
    if beat.alive(now):
        return t.text("replicas.alive")
    if beat.stopped_at is not None:
        return t.text("replicas.stopped", when=t.datetime(beat.stopped_at))
    return t.text("replicas.silent", when=t.datetime(beat.seen_at))


def holdings(status: ReplicaStatus, replica: str, t: Catalog) -> str:
    """What a replica holds under a live lease, in a few words."""
    parts = [
        t.text("replicas.check_held", kind=h.kind, server=h.server, until=t.datetime(h.lease_until))
        for h in status.held.get(replica, [])
    ]
    if status.sending.get(replica):
        parts.append(t.text("replicas.messages_held", count=status.sending[replica]))
    return t.text("list_separator").join(parts) or t.text("replicas.nothing")


def status_blocks(
    status: ReplicaStatus, windows: Sequence[Window], t: Catalog, now: datetime
) -> list[Block]:
    """The replicas, newest first, then the soonest scheduled checks."""
    blocks: list[Block] = [HeaderBlock(text=clip(t.text("replicas.title"), MAX_HEADER))]
    lines = [
        t.text(
            "replicas.line",
            replica=escape(beat.replica),
            host=escape(beat.host),
            pid=beat.pid,
            state=replica_state(beat, now, t),
            seen=t.datetime(beat.seen_at),
            holds=escape(holdings(status, beat.replica, t)),
        )
        for beat in sorted(status.beats, key=lambda b: b.started_at, reverse=True)
    ] or [t.text("replicas.none")]
    if status.beats and not any(beat.alive(now) for beat in status.beats):
        lines.insert(0, t.text("replicas.none_alive"))
    blocks += packed_sections(lines, MAX_BLOCKS // 2)
    blocks.append(HeaderBlock(text=clip(t.text("replicas.next_checks"), MAX_HEADER)))
    soonest = [w for w in windows if w.check_at is not None and w.next_backup_at is not None]
    checks = [
        f"*{escape(w.server)}*  "
        + t.text("windows.line", next=t.datetime(w.next_backup_at), check=t.datetime(w.check_at))
        for w in soonest[:MAX_NEXT]
        if w.next_backup_at is not None and w.check_at is not None
    ]
    if not checks:
        blocks.append(SectionBlock(text=mrkdwn(t.text("replicas.no_checks"))))
    return blocks + packed_sections(checks, MAX_BLOCKS - len(blocks))
