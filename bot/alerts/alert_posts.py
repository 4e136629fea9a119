"""What each effect of an alert's transition sends to Slack, and where: pure, so the store only
stores what this module decides."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from typing import Any

from bot.alerts.lifecycle import Alert, Effect
from bot.alerts.message import alert_blocks, alert_summary, reply_text
from bot.slack.blocks import clip, escape, report_blocks
from checks.i18n import Catalog
from checks.report import Report

Message = tuple[str, dict[str, Any]]  # a Web API method and its payload


@dataclass(frozen=True)
class Destinations:
    """Where an alert goes, whom an escalation mentions, and where escalations are cross-posted."""

    channel: str
    on_call: str = ""  # Slack mention markup, such as <!subteam^S123>
    escalation_channel: str | None = None
    # More new alerts than this for one window go into one digest message's thread.
    digest_threshold: int = 10
    # `backupcheck demo`: every message says so, since it lands in a real workspace.
    demo: bool = False


@dataclass(frozen=True)
class Context:
    """What an effect's messages show: the alert (in the zone people read), the report, and
    the report before this transition."""

    alert: Alert
    report: Report
    previous: Report | None
    t: Catalog
    actor: str | None
    now: datetime


def effect_messages(
    effect: Effect, c: Context, to: Destinations, post: str, thread: str
) -> list[Message]:
    """The Slack calls one effect makes; `post` is the alert message's outbox key, `thread`
    the key of the message whose thread its replies go in (the alert's, or a digest's)."""
    summary = alert_summary(c.alert, c.report, c.t)
    channel = to.channel
    if effect in (Effect.POST_ALERT, Effect.UPDATE_ALERT):
        blocks = [b.to_dict() for b in alert_blocks(c.alert, c.report, c.t, c.now)]
        payload: dict[str, Any] = {"channel": channel, "text": summary, "blocks": blocks}
        if effect is Effect.UPDATE_ALERT:
            return [("chat.update", {**payload, "ts_of": post})]
        if thread != post:  # in the window's digest thread
            payload["thread_ts_of"] = thread
        return [("chat.postMessage", payload)]
    if effect is Effect.POST_DETAILS:
        # The details name the alert's window as the next backup, in the alert's zone: the
        # server's own schedule may say otherwise, and the message and thread must agree.
        window = c.alert.window_at
        blocks = [b.to_dict() for b in report_blocks(c.report, c.t, window.tzinfo, window)]
        details = {"channel": channel, "thread_ts_of": thread, "text": summary, "blocks": blocks}
        return [("chat.postMessage", details)]
    text = reply_text(effect, c.alert, c.t, c.now, to.on_call, c.actor, c.previous, c.report)
    messages: list[Message] = [
        ("chat.postMessage", {"channel": channel, "thread_ts_of": thread, "text": text})
    ]
    if effect is Effect.REPLY_ESCALATED and to.escalation_channel:
        cross = c.t.text("alerts.cross_post", channel=channel, summary=summary)
        mention = f"{to.on_call} " if to.on_call else ""
        messages.append(
            ("chat.postMessage", {"channel": to.escalation_channel, "text": mention + cross})
        )
    return messages


def digest_text(servers: Sequence[str], window_at: datetime, t: Catalog) -> str:
    """The digest message of one window: how many servers fail before it, and which."""
    return clip(
        t.text(
            "alerts.digest",
            count=len(servers),
            when=t.datetime(window_at),
            servers=t.text("list_separator").join(escape(s) for s in servers),
        )
    )


def digest_key(window_at: datetime) -> str:
    """The outbox key of a window's digest message."""
    return f"digest-{window_at.astimezone(UTC).isoformat()}/post"


def in_zone(alert: Alert, zone: tzinfo) -> Alert:
    """The alert with its times in `zone`, for people to read."""

    def shown(moment: datetime | None) -> datetime | None:
        return moment.astimezone(zone) if moment is not None else None

    return replace(
        alert,
        window_at=alert.window_at.astimezone(zone),
        opened_at=alert.opened_at.astimezone(zone),
        acknowledged_at=shown(alert.acknowledged_at),
        escalated_at=shown(alert.escalated_at),
        resolved_at=shown(alert.resolved_at),
        silenced_until=shown(alert.silenced_until),
    )
