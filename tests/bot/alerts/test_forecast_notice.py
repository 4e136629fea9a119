"""The morning forecast's decisions with plain data: which volume is at risk and for which
window, what the alert says (en and ja), and what each morning does to the window's alert."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.alerts.forecast_notice import (
    FORECAST_CODE,
    VolumeSeries,
    at_risk,
    backup_windows,
    forecast_only,
    forecast_report,
    on_forecast,
    target_window,
    windows_to_decide,
)
from bot.alerts.lifecycle import Alert, Effect
from bot.i18n import catalog
from checks.forecast import Observation, hosted_minimum
from checks.inventory import Inventory, Server
from checks.report import Status
from checks.units import GB, MB

JST = timezone(timedelta(hours=9))
MONDAY = datetime(2026, 11, 23, 9, 30, tzinfo=JST)
CAPACITY = 40 * GB
MINIMUM = 320 * MB
HORIZON = timedelta(days=7)
LEAD = timedelta(hours=1)
EN = catalog("en")


def jst(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of the week of Monday, November 23, 2026, in Tokyo."""
    return datetime(2026, 11, 23, hour, minute, tzinfo=JST) + timedelta(days=day)


def server(**entry: object) -> Server:
    document = {"name": "fs01", "address": "a", "timezone": "Asia/Tokyo", **entry}
    (found,) = Inventory.model_validate({"servers": [document]}).resolved()
    return found


def drained(free_now: int, per_day: int, days: float = 3, name: str = "D:\\") -> VolumeSeries:
    """A volume read every 6 hours for `days` up to MONDAY, losing per_day a day."""
    readings = []
    for n in range(int(days * 4) + 1):
        back = timedelta(hours=6) * n
        free = free_now + int(per_day * (back / timedelta(days=1)))
        readings.append(Observation(MONDAY - back, CAPACITY, free))
    return VolumeSeries("vol-d", name, tuple(reversed(readings)), MINIMUM)


NIGHTLY = [jst(day, 21) for day in range(8)]
# 1.59 GB at Monday 09:30, 400 MB a day: 600 MB at Wednesday's 21:00, 200 MB at Thursday's.
DRAINING = drained(200 * MB + 400 * MB * 83 // 24, 400 * MB)


class TestAtRisk:
    def test_a_draining_volume_is_at_risk_at_the_first_window_below_its_minimum(self) -> None:
        outlook = at_risk([DRAINING], NIGHTLY, MONDAY, HORIZON, LEAD)
        (risk,) = outlook.risks
        assert risk.window.at == jst(3, 21)  # Thursday
        assert risk.forecast.trend is not None
        assert round(-risk.forecast.trend.free_bytes_per_day) == 400 * MB
        # Enough for the 7 days: the minimum plus 7 days' drain, less what is free now.
        assert risk.bytes_to_free == MINIMUM - (DRAINING.history[-1].free_bytes - 2800 * MB)
        assert target_window(outlook.risks) == jst(3, 21)
        assert outlook.undecided == frozenset()

    def test_a_flat_volume_and_a_far_crossing_are_not_at_risk(self) -> None:
        flat = drained(2 * GB, 0)
        slow = drained(5 * GB, 400 * MB)  # below 320 MB in 12 days: beyond the horizon
        assert at_risk([flat, slow], NIGHTLY, MONDAY, HORIZON, LEAD).risks == ()

    def test_a_window_whose_lead_time_check_comes_first_is_left_to_that_check(self) -> None:
        tonight = drained(300 * MB, 400 * MB)  # below the minimum already: tonight's window
        assert at_risk([tonight], NIGHTLY, MONDAY, HORIZON, LEAD).risks[0].window.at == jst(0, 21)
        evening = jst(0, 20, 30)  # its check ran at 20:00
        assert at_risk([tonight], NIGHTLY, evening, HORIZON, LEAD).risks == ()

    def test_a_volume_with_too_little_history_is_undecided(self) -> None:
        young = drained(300 * MB, 400 * MB, days=1)
        outlook = at_risk([young], NIGHTLY, MONDAY, HORIZON, LEAD)
        assert outlook.risks == ()
        assert outlook.undecided == frozenset({"vol-d"})

    def test_a_diff_area_host_is_at_risk_against_the_summed_minimum(self) -> None:
        summed = hosted_minimum([CAPACITY, CAPACITY, CAPACITY])  # three volumes' shadow copies
        host = VolumeSeries("vol-d", "D:\\", drained(2 * GB, 200 * MB).history, summed)
        alone = VolumeSeries("vol-d", "D:\\", host.history, MINIMUM)
        (risk,) = at_risk([host], NIGHTLY, MONDAY, HORIZON, LEAD).risks
        assert summed == 3 * MINIMUM
        assert risk.window.at == jst(5, 21)  # 2 GB − 960 MB: 5.4 days of 200 MB
        assert at_risk([alone], NIGHTLY, MONDAY, HORIZON, LEAD).risks == ()


class TestWindows:
    def test_configured_times_on_their_days_within_the_horizon(self) -> None:
        weekdays = server(backup_times=["21:00"], backup_days=["mon", "thu"])
        found = backup_windows(weekdays, None, MONDAY, MONDAY + HORIZON)
        assert found == [jst(0, 21), jst(3, 21)]

    def test_a_server_s_own_schedule_is_taken_to_repeat_daily(self) -> None:
        reported = jst(-2, 22)  # last reported two days ago
        found = backup_windows(server(), reported, MONDAY, MONDAY + timedelta(days=2))
        assert found == [jst(0, 22), jst(1, 22)]
        assert backup_windows(server(), None, MONDAY, MONDAY + HORIZON) == []


class TestReport:
    # 1,583 MB free at Monday 09:30 and 2,800 MB less in 7 days: 1,537 MB short of 320 MB.
    def test_the_alert_names_the_trend_the_minimum_the_window_and_what_to_free(self) -> None:
        outlook = at_risk([DRAINING], NIGHTLY, MONDAY, HORIZON, LEAD)
        report = forecast_report("fs01", MONDAY, [DRAINING], outlook.risks, HORIZON, EN, JST)
        (finding,) = report.findings
        assert finding.code == FORECAST_CODE
        assert finding.message == (
            "D: loses about 400 MB a day; it falls below the 320 MB a shadow copy needs before "
            "Thursday's 21:00 (UTC+09:00) backup. Free at least 1.6 GB to get through the next "
            "7 days."
        )
        assert report.status is Status.WARNING
        assert report.next_backup_at == jst(3, 21)
        (volume,) = report.volumes
        assert (volume.letter, volume.status, volume.free_bytes) == (
            "D:",
            Status.WARNING,
            DRAINING.history[-1].free_bytes,
        )

    def test_in_japanese(self) -> None:
        outlook = at_risk([DRAINING], NIGHTLY, MONDAY, HORIZON, LEAD)
        ja = catalog("ja")
        report = forecast_report("fs01", MONDAY, [DRAINING], outlook.risks, HORIZON, ja, JST)
        assert report.findings[0].message == (
            "D: は 1 日に約 400 MB ずつ減っています。木曜日 21:00 (UTC+09:00) のバックアップまでに"
            "シャドウコピーに必要な 320 MB を下回ります。今後 7 日をしのぐには少なくとも 1.6 GB "
            "を空けてください。"
        )

    def test_a_window_a_week_away_is_named_by_its_date(self) -> None:
        later = [jst(day, 21) for day in range(11)]
        slow = drained(320 * MB + 400 * MB * 158 // 24, 400 * MB)  # crosses on Sunday night
        ten = timedelta(days=10)
        outlook = at_risk([slow], later, MONDAY, ten, LEAD)
        report = forecast_report("fs01", MONDAY, [slow], outlook.risks, ten, EN, JST)
        assert outlook.risks[0].window.at == jst(7, 21)
        assert "before the backup at Nov 30, 2026, 9:00:00\u202fPM (UTC+09:00)" in (
            report.findings[0].message
        )

    def test_a_clear_forecast_has_no_findings(self) -> None:
        report = forecast_report("fs01", MONDAY, [DRAINING], [], HORIZON, EN, JST)
        assert (report.status, report.findings, report.volumes[0].status) == (
            Status.OK,
            [],
            Status.OK,
        )


THURSDAY = jst(3, 21)
AT_RISK = forecast_report(
    "fs01",
    MONDAY,
    [DRAINING],
    at_risk([DRAINING], NIGHTLY, MONDAY, HORIZON, LEAD).risks,
    HORIZON,
    EN,
    JST,
)
CLEAR = forecast_report("fs01", MONDAY, [DRAINING], [], HORIZON, EN, JST)
POSTED = Alert("fs01", THURSDAY, Status.WARNING, ((FORECAST_CODE, "vol-d", "warning"),), MONDAY)


class TestTransitions:
    def test_a_window_at_risk_posts_a_warning_alert_once(self) -> None:
        moved = on_forecast(None, AT_RISK, THURSDAY, MONDAY)
        assert moved.alert == POSTED
        assert moved.effects == (Effect.POST_ALERT,)
        assert forecast_only(POSTED)

    def test_a_silenced_server_gets_no_new_forecast_alert(self) -> None:
        assert on_forecast(None, AT_RISK, THURSDAY, MONDAY, silenced=True).alert is None

    def test_the_next_morning_updates_it_in_place(self) -> None:
        tuesday = jst(1, 9, 30)
        moved = on_forecast(POSTED, AT_RISK, THURSDAY, tuesday)
        assert moved.effects == (Effect.UPDATE_ALERT,)
        assert moved.alert == POSTED

    def test_a_cleared_forecast_resolves_it(self) -> None:
        moved = on_forecast(POSTED, CLEAR, THURSDAY, jst(2, 9, 30))
        assert moved.alert is not None
        assert moved.alert.resolved_at == jst(2, 9, 30)
        assert moved.effects == (Effect.UPDATE_ALERT, Effect.REPLY_RESOLVED)
        assert on_forecast(None, CLEAR, THURSDAY, jst(2, 9, 30)).effects == ()

    def test_a_volume_that_could_not_be_forecast_keeps_its_alert(self) -> None:
        kept = on_forecast(POSTED, CLEAR, THURSDAY, jst(2, 9, 30), undecided=frozenset({"vol-d"}))
        assert (kept.alert, kept.effects) == (POSTED, ())

    def test_a_resolved_forecast_alert_reopens_when_the_risk_returns(self) -> None:
        resolved = on_forecast(POSTED, CLEAR, THURSDAY, jst(1, 9, 30)).alert
        assert resolved is not None
        moved = on_forecast(resolved, AT_RISK, THURSDAY, jst(2, 9, 30))
        assert moved.alert is not None
        assert moved.alert.resolved_at is None
        assert moved.effects == (Effect.UPDATE_ALERT, Effect.REPLY_REOPENED)

    @pytest.mark.parametrize("report", [AT_RISK, CLEAR], ids=["at-risk", "clear"])
    def test_once_the_lead_time_check_has_the_alert_the_forecast_leaves_it_alone(
        self, report: object
    ) -> None:
        checked = Alert(
            "fs01", THURSDAY, Status.CRITICAL, (("VSS_MIN_FREE", "vol-d", "critical"),), MONDAY
        )
        assert not forecast_only(checked)
        moved = on_forecast(checked, AT_RISK if report is AT_RISK else CLEAR, THURSDAY, MONDAY)
        assert (moved.alert, moved.effects) == (checked, ())

    def test_the_morning_decides_today_s_window_and_every_open_forecast_alert(self) -> None:
        assert windows_to_decide([THURSDAY], jst(2, 21)) == [jst(2, 21), THURSDAY]
        assert windows_to_decide([THURSDAY], THURSDAY) == [THURSDAY]
        assert windows_to_decide([], None) == []
