"""Survey checks every period, whatever the backup window, spread by a jitter of their own;
the forecast at a civil hour of the server's working days; both planned beside the checks."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone

from bot.alerts.schedule.leases import key_of
from bot.alerts.schedule.plan import Job, RunRecord, SchedulePolicy, plan
from bot.alerts.schedule.survey import ForecastTiming, Periodic, next_forecast, periodic, surveys
from checks.inventory import Inventory, Server
from checks.windows import jitter_for

JST = timezone(timedelta(hours=9))
TIMING = ForecastTiming(survey_every=timedelta(hours=6))
GRACE = timedelta(minutes=30)
FS01 = {"name": "fs01", "address": "a", "backup_times": ["21:00"], "timezone": "Asia/Tokyo"}
# No backup_times: its window is what it reports, unknown until a discovery.
DC01 = {"name": "dc01", "address": "b", "timezone": "Asia/Tokyo"}


def server(entry: dict[str, object]) -> Server:
    (found,) = Inventory.model_validate({"servers": [entry]}).resolved()
    return found


def jst(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment of the week of Monday, November 23, 2026, in Tokyo."""
    return datetime(2026, 11, 23, hour, minute, second, tzinfo=JST) + timedelta(days=day)


def test_a_survey_per_period_counted_from_midnight_utc_at_the_server_s_own_offset() -> None:
    offset = jitter_for("fs01", TIMING.survey_spread)
    assert timedelta(0) <= offset < timedelta(hours=1)
    # 10:00 in Tokyo is 01:00 UTC: the period began at 00:00 UTC (09:00 in Tokyo).
    assert surveys(server(FS01), jst(0, 10), TIMING) == [
        Periodic("survey", jst(0, 9), jst(0, 9) + offset),
        Periodic("survey", jst(0, 15), jst(0, 15) + offset),
    ]


def test_the_survey_spread_is_a_sixth_of_the_period_and_at_most_an_hour() -> None:
    assert ForecastTiming(survey_every=timedelta(hours=3)).survey_spread == timedelta(minutes=30)
    assert ForecastTiming(survey_every=timedelta(hours=24)).survey_spread == timedelta(hours=1)


def test_the_forecast_runs_at_its_civil_hour_on_working_days_in_the_server_s_zone() -> None:
    monday = next_forecast(server(FS01), jst(0, 8), TIMING, GRACE)
    assert monday == Periodic("forecast", jst(0, 9, 30), jst(0, 9, 30))
    # Within the grace it is still today's; after it, tomorrow's.
    assert next_forecast(server(FS01), jst(0, 9, 50), TIMING, GRACE) == monday
    tuesday = next_forecast(server(FS01), jst(0, 10, 1), TIMING, GRACE)
    assert tuesday is not None
    assert tuesday.at == jst(1, 9, 30)
    # Friday afternoon: the next working morning is Monday's.
    following = next_forecast(server(FS01), jst(4, 15), TIMING, GRACE)
    assert following is not None
    assert following.at == jst(7, 9, 30)


def test_working_days_and_hour_come_from_the_settings_and_a_server_without_zone_uses_utc() -> None:
    weekend = ForecastTiming(notify_at=time(8, 0), days=("sat", "sun"))
    found = next_forecast(server(FS01), jst(0, 8), weekend, GRACE)
    assert found is not None
    assert found.at == jst(5, 8)  # Saturday 08:00 in Tokyo
    utc = next_forecast(server({"name": "x", "address": "c"}), jst(0, 8), TIMING, GRACE)
    assert utc is not None
    assert utc.at == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def test_the_forecast_keeps_the_civil_hour_across_a_dst_change() -> None:
    berlin = server({"name": "de01", "address": "d", "timezone": "Europe/Berlin"})
    before = next_forecast(berlin, datetime(2026, 3, 27, 12, tzinfo=UTC), TIMING, GRACE)
    after = next_forecast(berlin, datetime(2026, 3, 30, 0, tzinfo=UTC), TIMING, GRACE)
    assert before is not None
    assert after is not None
    assert before.at == datetime(2026, 3, 30, 7, 30, tzinfo=UTC)  # Monday 09:30 CEST, UTC+2
    assert after.at == before.at
    friday = next_forecast(berlin, datetime(2026, 3, 27, 6, tzinfo=UTC), TIMING, GRACE)
    assert friday is not None
    assert friday.at == datetime(2026, 3, 27, 8, 30, tzinfo=UTC)  # 09:30 CET, UTC+1


def test_without_forecasting_there_are_no_surveys_nor_forecasts() -> None:
    assert periodic(server(FS01), jst(0, 10), None, GRACE) == []


POLICY = SchedulePolicy(jitter=timedelta(0), forecast=TIMING)


def test_the_plan_surveys_a_server_whose_window_is_unknown() -> None:
    result = plan([server(DC01)], {"dc01": (None, jst(0, 9, 45))}, [], [], jst(0, 10), POLICY)
    offset = jitter_for("dc01", TIMING.survey_spread)
    assert result.windows == {"dc01": None}
    survey = Job("dc01", "survey", jst(0, 9), jst(0, 9) + offset)
    assert survey in (result.due if survey.run_at <= jst(0, 10) else result.later)
    assert Job("dc01", "forecast", jst(0, 9, 30), jst(0, 9, 30)) in result.due  # within the grace


def test_a_survey_is_never_missed_within_its_period_and_never_run_twice() -> None:
    offset = jitter_for("fs01", TIMING.survey_spread)
    late = plan([server(FS01)], {}, [], [], jst(0, 14, 59), POLICY)
    survey = Job("fs01", "survey", jst(0, 9), jst(0, 9) + offset)
    assert survey in late.due
    assert late.missed == []
    done = [RunRecord("fs01", jst(0, 9), "survey", "done", jst(0, 9, 5))]
    again = plan([server(FS01)], {}, done, [], jst(0, 14, 59), POLICY)
    assert [j.kind for j in again.due] == []
    assert [j.kind for j in again.later] == ["survey", "forecast", "check"]


def test_the_morning_forecast_is_due_at_its_time_and_held_under_another_replica_s_lease() -> None:
    forecast = Job("fs01", "forecast", jst(0, 9, 30).astimezone(UTC), jst(0, 9, 30))
    assert forecast in plan([server(FS01)], {}, [], [], jst(0, 9, 29), POLICY).later
    assert forecast in plan([server(FS01)], {}, [], [], jst(0, 9, 30), POLICY).due
    leased = [RunRecord("fs01", jst(0, 9, 30), "forecast", "running", None, jst(0, 9, 31))]
    held = plan([server(FS01)], {}, leased, [], jst(0, 9, 30, 30), POLICY)
    assert held.held == {forecast.id: jst(0, 9, 31)}


def test_surveys_and_forecasts_are_claimed_by_their_moment_and_are_never_too_late() -> None:
    survey = key_of(Job("fs01", "survey", jst(0, 9), jst(0, 9, 7)))
    forecast = key_of(Job("fs01", "forecast", jst(0, 9, 30), jst(0, 9, 30)))
    assert (survey.kind, survey.at, survey.deadline) == ("survey", jst(0, 9), None)
    assert (forecast.kind, forecast.at, forecast.deadline) == ("forecast", jst(0, 9, 30), None)
