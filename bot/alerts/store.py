"""Keeps alerts in the database and turns each transition into outbox messages, in one commit."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.alert_posts import (
    Context,
    Destinations,
    digest_key,
    digest_text,
    effect_messages,
    in_zone,
)
from bot.alerts.demo_mark import demo_marked
from bot.alerts.lifecycle import Alert, Effect, Transition
from bot.alerts.message import alert_summary
from bot.alerts.outbox import enqueue
from bot.alerts.verdict import WindowVerdict
from bot.storage.models import Alert as AlertRow
from bot.storage.models import AlertEvent, OutboxMessage
from checks.i18n import Catalog
from checks.report import Report, Status
from checks.windows import server_zone

# Destinations is built by the wiring beside the store that uses it.
__all__ = ["AlertStore", "Decide", "Destinations", "StoredAlert"]


# Given the alert as stored now (None: there is none), the transition and the report its
# messages show; None: nothing to store.
Decide = Callable[["StoredAlert | None"], "tuple[Transition, Report] | None"]


@dataclass(frozen=True)
class StoredAlert:
    """An alert as stored, with the last check's report that its message shows."""

    id: int
    alert: Alert
    report: Report | None


class AlertStore:
    """Alerts of one channel; every change and every message for Slack commit together."""

    def __init__(self, sessions: sessionmaker[Session], destinations: Destinations) -> None:
        self._sessions = sessions
        self._to = destinations
        # One decision at a time in this process; the row lock covers other processes.
        self._lock = threading.RLock()

    def get(self, server: str, window_at: datetime) -> Alert | None:
        """The server's alert for this window, if there is one."""
        stored = self.find(server, window_at)
        return stored.alert if stored is not None else None

    def find(self, server: str, window_at: datetime) -> StoredAlert | None:
        """The server's alert for this window, with its last report."""
        with self._sessions() as session:
            row = _find(session, server, window_at)
            return _stored(row) if row is not None else None

    def find_by_message(self, ts: str) -> StoredAlert | None:
        """The alert whose message in the channel has this ts (a thread reply's thread_ts)."""
        with self._sessions() as session:
            post = session.scalar(
                select(OutboxMessage).where(
                    OutboxMessage.result_ts == ts,
                    OutboxMessage.alert_id.is_not(None),
                    OutboxMessage.idempotency_key.endswith("/post"),
                )
            )
            row = session.get(AlertRow, post.alert_id) if post and post.alert_id else None
            return _stored(row) if row is not None else None

    def unresolved(self, after: datetime | None = None) -> list[StoredAlert]:
        """Alerts not resolved yet (with `after`: only for windows later than it), oldest first."""
        query = select(AlertRow).where(AlertRow.resolved_at.is_(None))
        if after is not None:
            query = query.where(AlertRow.window_at > after)
        with self._sessions() as session:
            return [_stored(row) for row in session.scalars(query.order_by(AlertRow.id)).all()]

    def open_windows(self, after: datetime) -> list[tuple[str, datetime]]:
        """(server, window) of every unresolved alert for a window later than `after`."""
        with self._sessions() as session:
            rows = session.execute(
                select(AlertRow.server, AlertRow.window_at).where(
                    AlertRow.resolved_at.is_(None), AlertRow.window_at > after
                )
            ).all()
            return [(server, window_at) for server, window_at in rows]

    def apply(
        self,
        server: str,
        window_at: datetime,
        decide: Decide,
        t: Catalog,
        kind: str,
        actor: str | None,
        now: datetime,
        zone: tzinfo | None = None,
    ) -> int | None:
        """Decide the transition from the alert as stored right now, and store it with its
        audit entry and its Slack messages, all in one transaction. Returns the alert's id.

        Deciding inside the transaction (with the row locked) means two people pressing
        buttons, or a person and the escalation job, never overwrite each other.

        Times are shown in `zone`, the server's configured zone; without one, in the offset the
        server reported its next backup with (so every message of an alert uses one zone)."""
        with self._lock, self._sessions.begin() as session:
            row = _find(session, server, window_at, for_update=True)
            decided = decide(_stored(row) if row is not None else None)
            if decided is None:
                return None
            transition, report = decided
            alert = transition.alert
            if alert is None:
                return None
            if row is None:
                row = AlertRow(
                    server=alert.server,
                    window_at=alert.window_at,
                    channel=self._to.channel,
                    created_at=now,
                )
                session.add(row)
            previous = Report.model_validate(row.report) if row.report else None
            _copy(alert, row, alert_summary(alert, report, t), report, now)
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
            if Effect.POST_ALERT in transition.effects and self._crowded(session, alert):
                row.digest_key = digest_key(alert.window_at)
            shown = in_zone(alert, zone or server_zone(None, report.next_backup_at))
            thread = row.digest_key or post
            if row.digest_key is not None and transition.effects:
                # First, so the digest is posted before the entries that go in its thread.
                self._refresh_digest(session, row.digest_key, shown.window_at, t, now, event.id)
            for effect in transition.effects:
                context = Context(shown, report, previous, t, actor, now)
                messages = effect_messages(effect, context, self._to, post, thread)
                for n, (method, payload) in enumerate(messages):
                    key = (
                        post
                        if effect is Effect.POST_ALERT
                        else f"alert-{row.id}/{event.id}/{effect}/{n}"
                    )
                    payload = demo_marked(payload, t) if self._to.demo else payload
                    enqueue(session, key, method, payload, now, alert_id=row.id)
            return row.id

    def record(
        self,
        transition: Transition,
        report: Report,
        t: Catalog,
        kind: str,
        actor: str | None,
        now: datetime,
        zone: tzinfo | None = None,
    ) -> int | None:
        """Store a transition decided beforehand (tests and tools; the service uses apply)."""
        alert = transition.alert
        if alert is None:
            return None
        return self.apply(
            alert.server, alert.window_at, lambda _: (transition, report), t, kind, actor, now, zone
        )

    def _crowded(self, session: Session, alert: Alert) -> bool:
        """Whether this window already has as many open alerts as a digest starts from."""
        count = session.scalar(
            select(func.count(AlertRow.id)).where(
                AlertRow.window_at == alert.window_at, AlertRow.resolved_at.is_(None)
            )
        )
        return int(count or 0) > self._to.digest_threshold

    def _refresh_digest(
        self, session: Session, key: str, window_at: datetime, t: Catalog, now: datetime, event: int
    ) -> None:
        """Post the window's digest, or edit it to list the servers failing now (edits of one
        message are coalesced by the outbox, so 500 alerts make one or two edits)."""
        servers = session.scalars(
            select(AlertRow.server)
            .where(AlertRow.window_at == window_at, AlertRow.resolved_at.is_(None))
            .order_by(AlertRow.server)
        ).all()
        text = digest_text(servers, window_at, t)
        payload: dict[str, Any] = {"channel": self._to.channel, "text": text}
        payload = demo_marked(payload, t) if self._to.demo else payload
        posted = session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)
        )
        if posted is None:
            enqueue(session, key, "chat.postMessage", payload, now)
        else:
            update = {**payload, "ts_of": key}
            enqueue(session, f"{key}/update/{event}", "chat.update", update, now)


def _find(
    session: Session, server: str, window_at: datetime, for_update: bool = False
) -> AlertRow | None:
    query = select(AlertRow).where(AlertRow.server == server, AlertRow.window_at == window_at)
    # PostgreSQL locks the row; SQLite ignores it (one writer at a time, and the store's lock).
    return session.scalar(query.with_for_update() if for_update else query)


def _copy(alert: Alert, row: AlertRow, summary: str, report: Report, now: datetime) -> None:
    row.state = alert.state
    row.severity = alert.severity.value
    row.summary = summary
    row.fingerprint = [list(item) for item in alert.fingerprint]
    row.report = report.model_dump(mode="json", by_alias=True)
    row.acknowledged_by, row.acknowledged_at = alert.acknowledged_by, alert.acknowledged_at
    row.escalated_by, row.escalated_at = alert.escalated_by, alert.escalated_at
    row.resolved_at = alert.resolved_at
    row.silenced_by, row.silenced_until = alert.silenced_by, alert.silenced_until
    row.outcome = alert.outcome.to_json() if alert.outcome is not None else None
    row.updated_at = now


def _stored(row: AlertRow) -> StoredAlert:
    alert = Alert(
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
        silenced_by=row.silenced_by,
        silenced_until=row.silenced_until,
        outcome=WindowVerdict.from_json(row.outcome) if row.outcome else None,
    )
    report = Report.model_validate(row.report) if row.report else None
    return StoredAlert(row.id, alert, report)
