"""The alert state machine: check results and people's actions in, the new alert and what to
tell Slack out. Pure: no clock, no database, no Slack; the scheduler and listeners apply it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bot.alerts.verdict import WindowVerdict
from checks.report import Report, Status


class Effect(StrEnum):
    """What Slack should be told; the outbox turns each into a post or an update."""

    POST_ALERT = "post_alert"  # the one-line alert message with its buttons
    UPDATE_ALERT = "update_alert"  # edit that message in place
    POST_DETAILS = "post_details"  # per-volume details and tips, in the thread
    REPLY_CHANGED = "reply_changed"  # a thread reply: the findings changed
    REPLY_RESOLVED = "reply_resolved"
    REPLY_REOPENED = "reply_reopened"
    REPLY_ACKNOWLEDGED = "reply_acknowledged"
    REPLY_UNACKNOWLEDGED = "reply_unacknowledged"
    REPLY_ESCALATED = "reply_escalated"  # mentions the on-call people
    REPLY_SILENCED = "reply_silenced"
    REPLY_UNSILENCED = "reply_unsilenced"
    REPLY_OUTCOME = "reply_outcome"  # after the window: how the backup went (verify_plan.py)


# A failed backup's alert escalates by itself within this long of its window; older ones (say,
# from before an upgrade) are left as they are.
VERDICT_ESCALATES_FOR = timedelta(days=1)


@dataclass(frozen=True)
class AlertPolicy:
    """When a result alerts, and when an unacknowledged alert escalates by itself."""

    min_severity: Status = Status.WARNING
    escalate_after: timedelta = timedelta(minutes=30)
    escalate_before_window: timedelta = timedelta(minutes=10)


@dataclass(frozen=True)
class Alert:
    """One server's alert for one backup window."""

    server: str
    window_at: datetime
    severity: Status
    fingerprint: tuple[tuple[str, str, str], ...]
    opened_at: datetime
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    escalated_by: str | None = None  # a user id, or "auto"
    escalated_at: datetime | None = None
    resolved_at: datetime | None = None
    silenced_by: str | None = None
    silenced_until: datetime | None = None
    outcome: WindowVerdict | None = None  # set once the window's backup was verified

    def silenced(self, now: datetime) -> bool:
        """Whether a silence holds this alert back at `now`."""
        return self.silenced_until is not None and self.silenced_until > now

    @property
    def state(self) -> str:
        """open, acknowledged, escalated or resolved."""
        if self.resolved_at is not None:
            return "resolved"
        if self.acknowledged_at is not None:
            return "acknowledged"
        if self.escalated_at is not None:
            return "escalated"
        return "open"


@dataclass(frozen=True)
class Transition:
    """The alert after an event (None: there is none) and the effects to carry out, in order."""

    alert: Alert | None
    effects: tuple[Effect, ...] = ()


def alerting(report: Report, policy: AlertPolicy) -> bool:
    """Whether a result is bad enough to alert (ok and info never are)."""
    if report.status in (Status.OK, Status.INFO):
        return False
    return report.status.rank >= policy.min_severity.rank


def fingerprint(report: Report) -> tuple[tuple[str, str, str], ...]:
    """What a check found, for telling "still the same problem" from "something changed"."""
    return tuple(
        sorted(
            (f.code, f.volume_id or "", f.severity.value)
            for f in report.findings
            if f.severity not in (Status.OK, Status.INFO)
        )
    )


def on_check(
    alert: Alert | None, report: Report, window_at: datetime, now: datetime, policy: AlertPolicy
) -> Transition:
    """A check of the server for this window finished."""
    bad = alerting(report, policy)
    if alert is not None and alert.outcome is not None:
        # The window is over and verified: its backup's verdict, not today's free space, says
        # whether it is settled. A re-check posts its figures in the thread and changes nothing
        # else; a failed backup stays open until someone takes it or a later window succeeds.
        return Transition(replace(alert, fingerprint=fingerprint(report)), (Effect.POST_DETAILS,))
    if alert is None:
        if not bad:
            return Transition(None)
        opened = Alert(report.host, window_at, report.status, fingerprint(report), now)
        return Transition(opened, (Effect.POST_ALERT, Effect.POST_DETAILS))
    if not bad:
        if alert.resolved_at is not None:
            return Transition(alert)
        resolved = replace(alert, resolved_at=now)
        return Transition(resolved, (Effect.UPDATE_ALERT, Effect.REPLY_RESOLVED))
    found = fingerprint(report)
    if alert.resolved_at is not None:
        reopened = replace(alert, resolved_at=None, severity=report.status, fingerprint=found)
        return Transition(
            reopened, (Effect.UPDATE_ALERT, Effect.REPLY_REOPENED, Effect.POST_DETAILS)
        )
    if found == alert.fingerprint and report.status is alert.severity:
        return Transition(alert)
    changed = replace(alert, severity=report.status, fingerprint=found)
    return Transition(changed, (Effect.UPDATE_ALERT, Effect.REPLY_CHANGED, Effect.POST_DETAILS))


def acknowledge(alert: Alert, user: str, now: datetime) -> Transition:
    """A person takes the alert; acknowledging a resolved or already-taken alert changes nothing."""
    if alert.resolved_at is not None or alert.acknowledged_by is not None:
        return Transition(alert)
    taken = replace(alert, acknowledged_by=user, acknowledged_at=now)
    return Transition(taken, (Effect.UPDATE_ALERT, Effect.REPLY_ACKNOWLEDGED))


def unacknowledge(alert: Alert, user: str, now: datetime) -> Transition:
    """Undo an acknowledgement, so the alert can escalate again."""
    if alert.resolved_at is not None or alert.acknowledged_by is None:
        return Transition(alert)
    released = replace(alert, acknowledged_by=None, acknowledged_at=None)
    return Transition(released, (Effect.UPDATE_ALERT, Effect.REPLY_UNACKNOWLEDGED))


def escalate(alert: Alert, actor: str, now: datetime) -> Transition:
    """Pull in the on-call people (actor is a user id, or "auto"); once per alert."""
    if alert.resolved_at is not None or alert.escalated_at is not None:
        return Transition(alert)
    escalated = replace(alert, escalated_by=actor, escalated_at=now)
    return Transition(escalated, (Effect.UPDATE_ALERT, Effect.REPLY_ESCALATED))


def silence(alert: Alert, user: str, until: datetime, now: datetime) -> Transition:
    """Hold the alert back until `until`: no escalation; the message says who and until when."""
    if alert.resolved_at is not None or until <= now:
        return Transition(alert)
    held = replace(alert, silenced_by=user, silenced_until=until)
    return Transition(held, (Effect.UPDATE_ALERT, Effect.REPLY_SILENCED))


def unsilence(alert: Alert, user: str, now: datetime) -> Transition:
    """End a silence early; the alert can escalate again."""
    if alert.resolved_at is not None or not alert.silenced(now):
        return Transition(alert)
    released = replace(alert, silenced_by=None, silenced_until=None)
    return Transition(released, (Effect.UPDATE_ALERT, Effect.REPLY_UNSILENCED))


def escalation_due(alert: Alert, now: datetime, policy: AlertPolicy) -> bool:
    """Unacknowledged alerts escalate after a while, or at the latest just before the window;
    once the backup has started, calling people in is too late (say, after a restart). An alert
    whose window's verdict needs someone (a failed backup) escalates after the same while,
    counted from the verdict: the next window is its deadline now."""
    if alert.state != "open" or alert.silenced(now):
        return False
    if alert.outcome is not None and not alert.outcome.kind.good:
        too_old = now - alert.window_at > VERDICT_ESCALATES_FOR
        if too_old or alert.severity.rank < policy.min_severity.rank:
            return False
        told = alert.outcome.decided_at or alert.window_at
        return now - max(alert.opened_at, told) >= policy.escalate_after
    if now >= alert.window_at:
        return False
    waited_long_enough = now - alert.opened_at >= policy.escalate_after
    window_close = alert.window_at - now <= policy.escalate_before_window
    return waited_long_enough or window_close


def auto_escalate(alert: Alert, now: datetime, policy: AlertPolicy) -> Transition:
    """Escalate by itself when due; otherwise nothing happens."""
    if not escalation_due(alert, now, policy):
        return Transition(alert)
    return escalate(alert, "auto", now)
