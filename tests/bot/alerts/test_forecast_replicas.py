"""Replicas on one PostgreSQL database, in one test process: each server's survey and its
morning forecast run once, whichever replicas get there, under the checks' leases."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.bot.alerts.test_forecast_week import MONDAY
from tests.bot.conftest import Clock
from tests.bot.test_replicas_jobs import at_once
from tests.support.replica_group import Replicas, runs

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


def test_each_survey_and_forecast_runs_once_across_replicas(
    replicas: Callable[..., Replicas], clock: Clock, database_url: str
) -> None:
    group = replicas(3, forecast={"survey_every_h": 6})
    first, second = group.add(), group.add()
    # Monday 10:00 in Tokyo: every server's survey of the 09:00 period is due (each within its
    # first hour), and the 09:30 forecast is within the grace.
    clock.now = MONDAY.replace(hour=10)
    planned = first.driver.plan().due
    assert sorted((j.kind, j.server) for j in planned) == [
        (kind, server) for kind in ("forecast", "survey") for server in ("s1", "s2", "s3")
    ]
    at_once(first.driver.run_due, second.driver.run_due)
    assert group.checks_per_server() == {"s1": 2, "s2": 2, "s3": 2}
    stored = runs(database_url)
    assert {key: run.state for key, run in stored.items()} == {
        f"{kind}:{server}": "done"
        for kind in ("forecast", "survey")
        for server in ("s1", "s2", "s3")
    }
    assert {run.window_at for key, run in stored.items() if key.startswith("forecast")} == {
        MONDAY.replace(hour=9, minute=30)
    }
    assert first.driver.run_due() == second.driver.run_due() == []
