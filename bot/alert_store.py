"""Keeps alerts in the database and turns each transition into outbox messages, in one commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.alert_blocks import alert_blocks, alert_summary, reply_text
from bot.alert_lifecycle import Alert, Effect, Transition
from bot.blocks import report_blocks
from bot.outbox import enqueue
from bot.storage.models import Alert as AlertRow
from bot.storage.models import AlertEvent
from checks.i18n import Catalog
from checks.report import Report, Status


class AlertStore:
    """Alerts of one channel; every change and every message for Slack commit together."""

    def __init__(self, sessions: sessionmaker[Session], channel: str, on_call: str = "") -> None:
        self._sessions = sessions
        self._channel = channel
        self._on_call = on_call

    def get(self, server: str, window_at: datetime) -> Alert | None:
        """The server's alert for this window, if there is one."""
        with self._sessions() as session:
            row = _find(session, server, window_at)
            return _to_alert(row) if row is not None else None

    def record(
        self,
        transition: Transition,
        report: Report,
        t: Catalog,
        kind: str,
        actor: str | None,
        now: datetime,
    ) -> None:
        """Store the alert after an event, its audit entry, and what to tell Slack."""
        alert = transition.alert
        if alert is None:
            return
        with self._sessions.begin() as session:
            row = _find(session, alert.server, alert.window_at)
            if row is None:
                row = AlertRow(server=alert.server, window_at=alert.window_at, created_at=now)
                session.add(row)
            _copy(alert, row, alert_summary(alert, report, t), now)
            event = AlertEvent(
                at=now,
                kind=kind,
                actor=actor,
                detail={
                    "status": report.status.value,
                    "effects": [e.value for e in transition.effects],
                },
            )
            row.events.append(event)
            session.flush()  # ids for the idempotency keys
            post = f"alert-{row.id}/post"
            for effect in transition.effects:
                method, payload = self._message(effect, alert, report, t, post)
                key = post if effect is Effect.POST_ALERT else f"alert-{row.id}/{event.id}/{effect}"
                enqueue(session, key, method, payload, now, alert_id=row.id)

    def _message(
        self, effect: Effect, alert: Alert, report: Report, t: Catalog, post: str
    ) -> tuple[str, dict[str, Any]]:
        summary = alert_summary(alert, report, t)
        if effect in (Effect.POST_ALERT, Effect.UPDATE_ALERT):
            blocks = [b.to_dict() for b in alert_blocks(alert, report, t)]
            payload: dict[str, Any] = {"channel": self._channel, "text": summary, "blocks": blocks}
            if effect is Effect.UPDATE_ALERT:
                payload["ts_of"] = post
                return "chat.update", payload
            return "chat.postMessage", payload
        if effect is Effect.POST_DETAILS:
            blocks = [b.to_dict() for b in report_blocks(report, t)]
            return "chat.postMessage", {
                "channel": self._channel,
                "thread_ts_of": post,
                "text": summary,
                "blocks": blocks,
            }
        text = reply_text(effect, alert, t, self._on_call)
        return "chat.postMessage", {"channel": self._channel, "thread_ts_of": post, "text": text}


def _find(session: Session, server: str, window_at: datetime) -> AlertRow | None:
    return session.scalar(
        select(AlertRow).where(AlertRow.server == server, AlertRow.window_at == window_at)
    )


def _copy(alert: Alert, row: AlertRow, summary: str, now: datetime) -> None:
    row.state = alert.state
    row.severity = alert.severity.value
    row.summary = summary
    row.fingerprint = [list(item) for item in alert.fingerprint]
    row.acknowledged_by, row.acknowledged_at = alert.acknowledged_by, alert.acknowledged_at
    row.escalated_by, row.escalated_at = alert.escalated_by, alert.escalated_at
    row.resolved_at = alert.resolved_at
    row.updated_at = now


def _to_alert(row: AlertRow) -> Alert:
    return Alert(
        server=row.server,
        window_at=row.window_at,
        severity=Status(row.severity),
        fingerprint=tuple((str(a), str(b), str(c)) for a, b, c in row.fingerprint),
        opened_at=row.created_at,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
        escalated_by=row.escalated_by,
        escalated_at=row.escalated_at,
        resolved_at=row.resolved_at,
    )
