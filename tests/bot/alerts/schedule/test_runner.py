"""APScheduler holds a timed job for each planned check; the jobs run the same code the
simulated evening drives, and a restart resumes the schedule (missed checks: run or skip)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.alerts.wiring import Alerting, build_alerting
from bot.config import Config
from bot.slack.client import web_client
from bot.storage.database import open_database
from bot.storage.models import ScheduledRun
from checks.collect.winrm import winrm_collect
from tests.bot.conftest import JST, Clock, alert_config
from tests.conftest import ENVIRON
from tests.support.fleet import SimulatedFleet
from tests.support.slack_api import BOT_TOKEN, SlackStandIn

pytestmark = pytest.mark.timeout(60)
WINDOW = datetime(2026, 11, 24, 21, 0, tzinfo=JST)


@pytest.fixture
def alerting(
    stand_in: SlackStandIn, evening_fleet: SimulatedFleet, database_url: str, clock: Clock
) -> Iterator[Alerting]:
    config = alert_config(evening_fleet)
    built = build_alerting(
        config,
        open_database(database_url),
        web_client(BOT_TOKEN, stand_in.api_url),
        winrm_collect(config, ENVIRON),
        clock,
    )
    yield built
    built.scheduler.stop(wait=True)


def unconfigured_alerting(
    stand_in: SlackStandIn, fleet: SimulatedFleet, database_url: str, clock: Clock
) -> Alerting:
    """Alerts for fs01 with no backup_times: its window comes from its own schedule."""
    document = alert_config(fleet).model_dump(exclude_none=True)
    for server in document["servers"]:
        del server["backup_times"]
    config = Config.model_validate(document)
    return build_alerting(
        config,
        open_database(database_url),
        web_client(BOT_TOKEN, stand_in.api_url),
        winrm_collect(config, ENVIRON),
        clock,
    )


def next_runs(alerting: Alerting) -> dict[str, datetime]:
    return {job.id: job.next_run_time for job in alerting.scheduler.apscheduler.get_jobs()}


def test_the_check_is_a_timed_job_the_lead_time_before_the_window(alerting: Alerting) -> None:
    alerting.scheduler.start(paused=True)
    runs = next_runs(alerting)
    assert {"plan", "outbox", "escalate", "retention"} <= set(runs)
    assert runs[f"check:fs01:{WINDOW.astimezone(UTC).isoformat()}"] == WINDOW - timedelta(hours=1)
    assert alerting.scheduler.running


def test_a_check_job_that_opens_an_alert_adds_the_re_check(
    alerting: Alerting, clock: Clock, stand_in: SlackStandIn
) -> None:
    alerting.scheduler.start(paused=True)
    (check,) = [j for j in alerting.scheduler.apscheduler.get_jobs() if j.id.startswith("check:")]
    clock.set(20, 0)
    check.func(*check.args)  # what APScheduler calls at 20:00
    runs = next_runs(alerting)
    (recheck,) = [at for job_id, at in runs.items() if job_id.startswith("recheck:fs01:")]
    assert recheck == WINDOW - timedelta(minutes=15)
    alerting.outbox.deliver_due()
    assert len(stand_in.calls("chat.postMessage")) == 2  # the alert and its details


def test_after_downtime_a_recent_missed_check_runs_at_once(
    alerting: Alerting, clock: Clock
) -> None:
    clock.set(20, 20)  # the 20:00 check was missed by 20 minutes; the grace is 30
    alerting.scheduler.start(paused=True)
    runs = next_runs(alerting)
    assert runs[f"check:fs01:{WINDOW.astimezone(UTC).isoformat()}"] == clock.now


def test_after_longer_downtime_the_missed_check_is_skipped_and_logged(
    alerting: Alerting, clock: Clock, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock.set(20, 31)
    with caplog.at_level(logging.WARNING, logger="bot.alerts.schedule.driver"):
        alerting.scheduler.start(paused=True)
    assert not [job_id for job_id in next_runs(alerting) if job_id.startswith("check:")]
    assert "skipped the check of fs01" in caplog.text
    with open_database(database_url)() as session:
        (run,) = session.scalars(select(ScheduledRun)).all()
        assert (run.kind, run.state) == ("check", "missed")


def test_a_check_runs_once_even_when_its_job_fires_twice(
    alerting: Alerting, clock: Clock, evening_fleet: SimulatedFleet
) -> None:
    clock.set(20, 0)
    (job,) = alerting.driver.plan().due
    alerting.driver.run(job)
    alerting.driver.run(job)  # a duplicate firing (say, a re-plan racing the first)
    history = alerting.service.history.of("fs01")
    assert len({r.checked_at for r in history}) == 1
    assert evening_fleet.actions_for("fs01").count("Create") == 1  # one shell, one check


def test_a_server_without_configured_times_is_asked_for_its_schedule_first(
    stand_in: SlackStandIn, evening_fleet: SimulatedFleet, database_url: str, clock: Clock
) -> None:
    alerting = unconfigured_alerting(stand_in, evening_fleet, database_url, clock)
    clock.set(10, 0)
    assert [j.kind for j in alerting.driver.run_due()] == ["discover"]
    # fs01 said its next backup is at 21:00 Tokyo time: the check is planned for 20:00.
    plan = alerting.driver.plan()
    assert plan.windows == {"fs01": WINDOW.astimezone(UTC)}
    assert [(j.kind, j.run_at) for j in plan.later] == [("check", WINDOW - timedelta(hours=1))]
    assert plan.due == []  # asked once; not again until the day is over
    # A discovery posts nothing, however bad the result.
    alerting.outbox.deliver_due()
    assert stand_in.calls("chat.postMessage") == []


def test_when_a_servers_own_schedule_moves_its_old_check_job_goes(
    stand_in: SlackStandIn, evening_fleet: SimulatedFleet, database_url: str, clock: Clock
) -> None:
    alerting = unconfigured_alerting(stand_in, evening_fleet, database_url, clock)
    clock.set(10, 0)
    alerting.service.schedule.remember("fs01", WINDOW, clock.now)
    alerting.scheduler.start(paused=True)
    try:
        assert f"check:fs01:{WINDOW.astimezone(UTC).isoformat()}" in next_runs(alerting)
        later = WINDOW + timedelta(hours=2)
        alerting.service.schedule.remember("fs01", later, clock.now)
        alerting.scheduler.sync()
        checks = [job_id for job_id in next_runs(alerting) if job_id.startswith("check:")]
        assert checks == [f"check:fs01:{later.astimezone(UTC).isoformat()}"]
    finally:
        alerting.scheduler.stop(wait=True)


def test_a_check_still_queued_when_the_backup_starts_is_given_up_not_run(
    alerting: Alerting, clock: Clock, evening_fleet: SimulatedFleet, database_url: str
) -> None:
    clock.set(20, 0)
    (job,) = alerting.driver.plan().due
    clock.set(21, 0)  # the workers were busy with slow hosts until now
    alerting.driver.run(job)
    assert alerting.service.history.of("fs01") == []
    with open_database(database_url)() as session:
        (run,) = session.scalars(select(ScheduledRun)).all()
        assert run.state == "missed"
