"""The alert message and its thread replies, as Block Kit. Pure."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.alert_lifecycle import Alert, Effect
from bot.blocks import EMOJI, RECHECK_ACTION, clip, escape
from checks.i18n import Catalog
from checks.report import Report

ACK_ACTION = "alert_ack"
UNACK_ACTION = "alert_unack"
ESCALATE_ACTION = "alert_escalate"


def alert_summary(alert: Alert, report: Report, t: Catalog) -> str:
    """One line: the server, its worst problem, and the backup it threatens."""
    top = next((f for f in report.findings if f.severity is report.status), None)
    problem = escape(top.message) if top else t.text("slack.all_ok")
    when = t.datetime(alert.window_at)
    return t.text("alerts.summary", server=escape(alert.server), problem=problem, when=when)


def alert_blocks(alert: Alert, report: Report, t: Catalog) -> list[Block]:
    """The alert message: summary, who has it, and the buttons that still make sense."""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=clip(f"{EMOJI[alert.severity]} {alert_summary(alert, report, t)}")
            )
        ),
        ContextBlock(elements=[MarkdownTextObject(text=clip(alert_state_line(alert, t)))]),
    ]
    if alert.resolved_at is None:
        buttons = [
            ButtonElement(
                text=t.text(
                    "alerts.unacknowledge" if alert.acknowledged_by else "alerts.acknowledge"
                ),
                action_id=UNACK_ACTION if alert.acknowledged_by else ACK_ACTION,
                value=alert.server,
            )
        ]
        if alert.escalated_at is None:
            buttons.append(
                ButtonElement(
                    text=t.text("alerts.escalate"), action_id=ESCALATE_ACTION, value=alert.server
                )
            )
        buttons.append(
            ButtonElement(
                text=t.text("slack.recheck"), action_id=RECHECK_ACTION, value=alert.server
            )
        )
        blocks.append(ActionsBlock(elements=buttons))
    return blocks


def alert_state_line(alert: Alert, t: Catalog) -> str:
    """Who has the alert and since when, for the context line under the summary."""
    parts = []
    if alert.resolved_at is not None:
        parts.append(t.text("alerts.resolved", when=t.datetime(alert.resolved_at)))
    if alert.acknowledged_by is not None and alert.acknowledged_at is not None:
        who = f"<@{alert.acknowledged_by}>"
        parts.append(t.text("alerts.acknowledged", who=who, when=t.datetime(alert.acknowledged_at)))
    if alert.escalated_at is not None:
        when = t.datetime(alert.escalated_at)
        if alert.escalated_by == "auto":
            parts.append(t.text("alerts.escalated_auto", when=when))
        else:
            parts.append(t.text("alerts.escalated_by", who=f"<@{alert.escalated_by}>", when=when))
    if not parts:
        parts.append(t.text("alerts.unowned"))
    return t.text("tip.sentence_separator").join(parts)


def reply_text(effect: Effect, alert: Alert, t: Catalog, on_call: str = "") -> str:
    """The thread reply for one effect of a transition."""
    if effect is Effect.REPLY_ESCALATED:
        return t.text("alerts.reply_escalated", on_call=on_call or t.text("alerts.no_on_call"))
    return (
        alert_state_line(alert, t)
        if effect is not Effect.REPLY_CHANGED
        else t.text("alerts.reply_changed")
    )
