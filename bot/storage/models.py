"""The tables, as SQLAlchemy 2 models. Schema changes go through an alembic migration."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored in UTC; SQLite would otherwise hand them back without a zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("backupcheck stores only time-zone-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """All backupcheck tables."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON,
    }


class Alert(Base):
    """One alert per server per backup window; later checks update it in place."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("server", "window_at", name="uq_alert_server_window"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    server: Mapped[str] = mapped_column(String(253))
    window_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))  # open, acknowledged, escalated, resolved
    severity: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    # What the last check found, to tell "the same problem" from "something changed".
    fingerprint: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # The last check's Report v1, so an acknowledgement can redraw the message without a check.
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    channel: Mapped[str | None] = mapped_column(String(64))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime | None]
    escalated_by: Mapped[str | None] = mapped_column(String(64))
    escalated_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    silenced_by: Mapped[str | None] = mapped_column(String(64))
    silenced_until: Mapped[datetime | None]
    # Set when the alert lives in a window's digest thread instead of a message of its own.
    digest_key: Mapped[str | None] = mapped_column(String(200))
    # How the window's backup went, once verified after it (bot.alerts.verdict).
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The day (in the server's zone) a forecast chart was last put in its thread: one a day.
    chart_day: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    events: Mapped[list[AlertEvent]] = relationship(
        back_populates="alert", cascade="all, delete-orphan", order_by="AlertEvent.id"
    )


class AlertEvent(Base):
    """The audit trail: who did what to an alert and when, and what each check found."""

    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

    alert: Mapped[Alert] = relationship(back_populates="events")


class CheckResult(Base):
    """One volume's figures at one check: the history kept for `retention`."""

    __tablename__ = "check_results"
    __table_args__ = (Index("ix_check_results_server_at", "server", "checked_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    server: Mapped[str] = mapped_column(String(253))
    checked_at: Mapped[datetime]
    host_status: Mapped[str] = mapped_column(String(16))
    volume_id: Mapped[str | None] = mapped_column(String(512))
    volume_name: Mapped[str | None] = mapped_column(String(512))
    status: Mapped[str] = mapped_column(String(16))
    # Bytes outgrow 32-bit integers: a 2 TB volume is 2**41.
    capacity_bytes: Mapped[int | None] = mapped_column(BigInteger)
    free_bytes: Mapped[int | None] = mapped_column(BigInteger)
    required_free_bytes: Mapped[int | None] = mapped_column(BigInteger)


class OutboxMessage(Base):
    """A Slack post or update waiting to be delivered; the idempotency key makes it once-only."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    method: Mapped[str] = mapped_column(String(64))  # chat.postMessage, chat.update, …
    # For an edit: the key of the post it edits, so edits of one message can be coalesced.
    edits: Mapped[str | None] = mapped_column(String(200), index=True)
    payload: Mapped[dict[str, Any]]
    # pending, sent, dead, or superseded (a newer edit of the same message replaced it)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    result_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # The post's key for its replies and updates (a top-level post's own key): one thread's
    # messages go out in id order. None only for rows enqueued before the column existed.
    thread: Mapped[str | None] = mapped_column(String(200))
    # Which replica's delivery round holds the message, and until when; an expired lease is
    # anybody's, so a replica that died mid-delivery does not keep its messages.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]

    __table_args__ = (Index("ix_outbox_state", "state"),)


class ScheduledRun(Base):
    """A scheduled check of one server for one window; claimed before it runs, so never twice.
    A claim is leased to one replica, so another takes it over when that replica dies."""

    __tablename__ = "scheduled_runs"
    __table_args__ = (
        UniqueConstraint("server", "window_at", "kind", name="uq_run_server_window_kind"),
        # A replica renews and hands back its own claims.
        Index("ix_scheduled_runs_owner", "owner"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    server: Mapped[str] = mapped_column(String(253))
    window_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16))  # check, recheck
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))  # running, done, missed
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    owner: Mapped[str | None] = mapped_column(String(200))  # the replica running it
    # While running: renewed by its owner; once past, any replica may take the run over.
    lease_until: Mapped[datetime | None]


class ServerWindow(Base):
    """What a server last said about its own schedule, and when we last asked."""

    __tablename__ = "server_windows"

    server: Mapped[str] = mapped_column(String(253), primary_key=True)
    discovered_at: Mapped[datetime | None]  # the server's next WSB run, as last reported
    refreshed_at: Mapped[datetime]


class Silence(Base):
    """A server whose alerts are held back until `until`; it is still checked meanwhile."""

    __tablename__ = "silences"
    __table_args__ = (Index("ix_silences_server_until", "server", "until"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    server: Mapped[str] = mapped_column(String(253))
    until: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    lifted_by: Mapped[str | None] = mapped_column(String(64))
    lifted_at: Mapped[datetime | None]


class SeenRequest(Base):
    """A signed Slack request some replica accepted, kept while its timestamp would still
    verify: the unique digest refuses its replay at every replica (bot/slack/replay.py)."""

    __tablename__ = "seen_requests"
    __table_args__ = (Index("ix_seen_requests_request_ts", "request_ts"),)

    # SHA-256 of the X-Slack-Signature header, in hex.
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The request's X-Slack-Request-Timestamp (Unix seconds): rows older than the window go.
    request_ts: Mapped[int] = mapped_column(BigInteger)


class ReplicaBeat(Base):
    """A `serve` process's last heartbeat: who is alive, and, once all were down, since when."""

    __tablename__ = "replicas"

    # The id its scheduled runs and outbox claims carry (bot.alerts.outbox.replica_id).
    replica: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(253))
    pid: Mapped[int]
    started_at: Mapped[datetime]
    seen_at: Mapped[datetime]
    # Set on a clean stop, so a status view tells "stopped" from "died".
    stopped_at: Mapped[datetime | None]


class WindowOutcome(Base):
    """How one server's backup window went, verified after it, beside what the check before
    it said: the history of predictions and outcomes."""

    __tablename__ = "window_outcomes"
    __table_args__ = (UniqueConstraint("server", "window_at", name="uq_outcome_server_window"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    server: Mapped[str] = mapped_column(String(253))
    window_at: Mapped[datetime]
    # The status of the last check before the window (ok, warning, critical, unknown), if any.
    precheck: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # a VerdictKind
    verdict: Mapped[dict[str, Any]]
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime]
