"""The alert state machine, driven with plain data: an evening of checks and people."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from bot.alerts.lifecycle import (
    VERDICT_ESCALATES_FOR,
    Alert,
    AlertPolicy,
    Effect,
    acknowledge,
    auto_escalate,
    escalate,
    escalation_due,
    on_check,
    silence,
    unacknowledge,
)
from bot.alerts.verdict import VerdictKind, WindowVerdict
from checks.evaluate import evaluate
from checks.i18n import Catalog
from checks.report import Report, Status
from checks.snapshot import Snapshot
from checks.units import GB, MB

JST = timezone(timedelta(hours=9))
WINDOW = datetime(2026, 11, 24, 21, 0, tzinfo=JST)
POLICY = AlertPolicy()


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 11, 24, hour, minute, tzinfo=JST)


@pytest.fixture
def report_with(load_snapshot: Callable[[str], Snapshot], en: Catalog) -> Callable[[int], Report]:
    """The seed's fs01 with D: at the given free space."""
    seed = load_snapshot("seed-incident")

    def make(d_free: int) -> Report:
        volumes = [
            v.model_copy(update={"free_bytes": d_free}) if v.letter == "D:" else v
            for v in seed.volumes
        ]
        snapshot = seed.model_copy(update={"host": "fs01", "volumes": volumes})
        return evaluate(snapshot, at(20, 0), en)

    return make


def test_the_evening_alert_escalate_acknowledge_resolve(
    report_with: Callable[[int], Report],
) -> None:
    critical, fixed = report_with(235 * MB), report_with(5 * GB)

    opened = on_check(None, critical, WINDOW, at(20, 0), POLICY)
    assert opened.effects == (Effect.POST_ALERT, Effect.POST_DETAILS)
    assert opened.alert is not None
    assert (opened.alert.state, opened.alert.severity) == ("open", Status.CRITICAL)

    assert not escalation_due(opened.alert, at(20, 29), POLICY)
    escalated = auto_escalate(opened.alert, at(20, 30), POLICY)
    assert escalated.effects == (Effect.UPDATE_ALERT, Effect.REPLY_ESCALATED)
    assert escalated.alert is not None
    assert (escalated.alert.state, escalated.alert.escalated_by) == ("escalated", "auto")

    taken = acknowledge(escalated.alert, "U123", at(20, 35))
    assert taken.alert is not None
    assert (taken.alert.state, taken.alert.acknowledged_by) == ("acknowledged", "U123")

    resolved = on_check(taken.alert, fixed, WINDOW, at(20, 45), POLICY)
    assert resolved.effects == (Effect.UPDATE_ALERT, Effect.REPLY_RESOLVED)
    assert resolved.alert is not None
    assert (resolved.alert.state, resolved.alert.resolved_at) == ("resolved", at(20, 45))
    assert resolved.alert.acknowledged_by == "U123"  # who took it stays on the record


def test_a_healthy_server_never_alerts(report_with: Callable[[int], Report]) -> None:
    assert on_check(None, report_with(5 * GB), WINDOW, at(20, 0), POLICY) == on_check(
        None, report_with(6 * GB), WINDOW, at(20, 0), POLICY
    )
    assert on_check(None, report_with(5 * GB), WINDOW, at(20, 0), POLICY).alert is None


def test_the_same_problem_again_changes_nothing_a_new_one_updates_in_place(
    report_with: Callable[[int], Report],
) -> None:
    first = on_check(None, report_with(235 * MB), WINDOW, at(20, 0), POLICY).alert
    assert first is not None
    again = on_check(first, report_with(200 * MB), WINDOW, at(20, 45), POLICY)
    assert again == on_check(first, report_with(235 * MB), WINDOW, at(20, 45), POLICY)
    assert again.effects == ()
    better = on_check(first, report_with(700 * MB), WINDOW, at(20, 45), POLICY)  # now a warning
    assert better.effects == (Effect.UPDATE_ALERT, Effect.REPLY_CHANGED, Effect.POST_DETAILS)
    assert better.alert is not None
    assert better.alert.severity is Status.WARNING


def test_a_warning_does_not_alert_when_only_critical_should(
    report_with: Callable[[int], Report],
) -> None:
    strict = AlertPolicy(min_severity=Status.CRITICAL)
    assert on_check(None, report_with(700 * MB), WINDOW, at(20, 0), strict).alert is None
    assert on_check(None, report_with(235 * MB), WINDOW, at(20, 0), strict).alert is not None


def test_a_resolved_alert_reopens_when_the_problem_comes_back(
    report_with: Callable[[int], Report],
) -> None:
    alert = on_check(None, report_with(235 * MB), WINDOW, at(20, 0), POLICY).alert
    assert alert is not None
    resolved = on_check(alert, report_with(5 * GB), WINDOW, at(20, 10), POLICY).alert
    assert resolved is not None
    reopened = on_check(resolved, report_with(235 * MB), WINDOW, at(20, 45), POLICY)
    assert reopened.effects[:2] == (Effect.UPDATE_ALERT, Effect.REPLY_REOPENED)
    assert reopened.alert is not None
    assert reopened.alert.state == "open"


def _open(opened_at: datetime) -> Alert:
    return Alert("fs01", WINDOW, Status.CRITICAL, (), opened_at)


def test_escalation_comes_at_the_latest_just_before_the_window() -> None:
    late = _open(at(20, 45))
    assert not escalation_due(late, at(20, 49), POLICY)
    assert escalation_due(late, at(20, 50), POLICY)


def test_once_the_backup_has_started_an_old_alert_no_longer_escalates() -> None:
    # Say the bot was down from 20:05 to 23:00: nobody is called in for a backup already running.
    assert not escalation_due(_open(at(20, 0)), at(21, 0), POLICY)
    assert not escalation_due(_open(at(20, 0)), at(23, 0), POLICY)


@pytest.mark.parametrize("kind", [k for k in VerdictKind if not k.good])
def test_a_backup_the_verdict_says_needs_someone_escalates_after_its_window(
    kind: VerdictKind,
) -> None:
    # Opened by the verdict at 21:20: the next window is the deadline, so the usual while applies.
    failed = replace(_open(at(21, 20)), outcome=WindowVerdict(kind))
    assert not escalation_due(failed, at(21, 49), POLICY)
    assert escalation_due(failed, at(21, 50), POLICY)
    # A pre-check alert nobody took, marked failed later, escalates with the verdict.
    marked = replace(_open(at(20, 0)), outcome=WindowVerdict(kind))
    assert not escalation_due(marked, at(21, 29), POLICY)
    assert escalation_due(marked, at(23, 10), POLICY)
    # Old verdicts (say, from before an upgrade) are left as they are.
    assert not escalation_due(failed, WINDOW + VERDICT_ESCALATES_FOR + timedelta(1), POLICY)


def test_an_alert_the_verdict_reopens_gives_people_the_usual_while_from_the_verdict() -> None:
    # Resolved at 20:30 (space freed), reopened by the 23:00 verdict: the news is at 23:00.
    verdict = WindowVerdict(VerdictKind.FAILED, decided_at=at(23, 0))
    reopened = replace(_open(at(20, 0)), outcome=verdict)
    assert not escalation_due(reopened, at(23, 29), POLICY)
    assert escalation_due(reopened, at(23, 30), POLICY)


def test_a_verdict_below_min_severity_never_escalates() -> None:
    critical_only = AlertPolicy(min_severity=Status.CRITICAL)
    running = replace(
        _open(at(20, 0)),
        severity=Status.WARNING,
        outcome=WindowVerdict(VerdictKind.STILL_RUNNING, decided_at=at(21, 0)),
    )
    assert not escalation_due(running, at(23, 0), critical_only)
    assert escalation_due(running, at(23, 0), POLICY)


def test_a_backup_that_succeeded_never_escalates_its_alert() -> None:
    verified = replace(_open(at(20, 0)), outcome=WindowVerdict(VerdictKind.SUCCEEDED))
    assert not escalation_due(verified, at(23, 0), POLICY)


def test_silenced_alerts_do_not_escalate_until_the_silence_ends() -> None:
    held = silence(_open(at(20, 0)), "U1", at(20, 40), at(20, 1)).alert
    assert held is not None
    assert not escalation_due(held, at(20, 35), POLICY)
    assert escalation_due(held, at(20, 40), POLICY)


def test_acknowledged_and_resolved_alerts_never_escalate_by_themselves() -> None:
    taken = acknowledge(_open(at(20, 0)), "U1", at(20, 5)).alert
    assert taken is not None
    assert auto_escalate(taken, at(20, 59), POLICY).effects == ()
    released = unacknowledge(taken, "U1", at(20, 40)).alert
    assert released is not None
    assert released.state == "open"
    assert escalation_due(released, at(20, 40), POLICY)


def test_people_cannot_act_twice() -> None:
    taken = acknowledge(_open(at(20, 0)), "U1", at(20, 5)).alert
    assert taken is not None
    assert acknowledge(taken, "U2", at(20, 6)).effects == ()
    escalated = escalate(taken, "U2", at(20, 7)).alert
    assert escalated is not None
    assert escalate(escalated, "U3", at(20, 8)).effects == ()
    assert escalated.escalated_by == "U2"


def test_a_recheck_after_a_failed_backup_shows_its_figures_but_keeps_the_alert_failed(
    report_with: Callable[[int], Report],
) -> None:
    from bot.alerts.verdict import VerdictKind, WindowVerdict

    opened = on_check(None, report_with(235 * MB), WINDOW, at(20, 0), POLICY).alert
    assert opened is not None
    failed = WindowVerdict(VerdictKind.FAILED, at(21, 2), at(21, 9), 0x80780119)
    marked = Alert(
        "fs01", WINDOW, Status.CRITICAL, opened.fingerprint, opened.opened_at, outcome=failed
    )
    fixed = on_check(marked, report_with(5 * GB), WINDOW, at(21, 30), POLICY)
    assert fixed.effects == (Effect.POST_DETAILS,)
    assert fixed.alert is not None
    assert (fixed.alert.state, fixed.alert.severity) == ("open", Status.CRITICAL)
    assert fixed.alert.outcome == failed
    assert fixed.alert.fingerprint == ()  # the figures are today's


def test_a_recheck_after_a_verified_success_does_not_reopen_it(
    report_with: Callable[[int], Report],
) -> None:
    from bot.alerts.verdict import VerdictKind, WindowVerdict

    done = WindowVerdict(VerdictKind.SUCCEEDED, at(21, 2), at(21, 40))
    verified = Alert("fs01", WINDOW, Status.OK, (), at(20, 0), resolved_at=at(21, 45), outcome=done)
    again = on_check(verified, report_with(235 * MB), WINDOW, at(22, 0), POLICY)
    assert again.effects == (Effect.POST_DETAILS,)
    assert again.alert is not None
    assert (again.alert.state, again.alert.resolved_at) == ("resolved", at(21, 45))
