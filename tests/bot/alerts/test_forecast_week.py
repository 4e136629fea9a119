"""A simulated week, end to end: fs01's D: loses 400 MB a day; survey checks every 6 hours
feed its history; on working-day mornings at 09:30 (Tokyo) the forecast alert warns of the
21:00 backup that will lack the space, days ahead; that window's lead-time check then tells
its story in the same thread. A clean-up clears the forecast, and the alert resolves.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.alerts.schedule.plan import Job
from bot.alerts.wiring import build_alerting
from bot.config import Config
from bot.slack.client import web_client
from bot.storage.database import open_database
from bot.storage.models import CheckResult
from checks.collect.winrm import winrm_collect
from checks.units import GB, MB
from tests.bot.alerts.test_evening import channel_messages
from tests.bot.conftest import JST, AlertBot, alert_config, running_alert_bot
from tests.conftest import ENVIRON, PROFILES
from tests.support.fleet import SimulatedFleet
from tests.support.slack_api import BOT_TOKEN, SlackStandIn

pytestmark = pytest.mark.timeout(240)

SATURDAY = datetime(2026, 11, 21, 0, 0, tzinfo=JST)
MONDAY = SATURDAY + timedelta(days=2)
DRAIN_PER_DAY = 400 * MB
# D: has this much free at Monday 09:30, so that it falls below its 320 MB minimum between
# Wednesday's 21:00 backup (600 MB left) and Thursday's (200 MB left).
FREE_MONDAY_MORNING = 200 * MB + int(DRAIN_PER_DAY * (3 + 11.5 / 24))


def host_at(moment: datetime, free_bytes: int) -> Any:
    """fs01 as it answers at `moment`, with D: at `free_bytes` free."""
    snapshot = json.loads(PROFILES["fs01"].snapshot)
    snapshot["collected_at"] = moment.isoformat()
    for volume in snapshot["volumes"]:
        if volume["letter"] == "D:":
            volume["free_bytes"] = free_bytes
    tonight = moment.replace(hour=21, minute=0, second=0, microsecond=0)
    upcoming = tonight if tonight > moment else tonight + timedelta(days=1)
    snapshot["backup"]["next_backup_at"] = upcoming.isoformat()
    body = json.dumps(snapshot).encode("utf-8")
    return PROFILES["fs01"].model_copy(update={"snapshot": body})


class Week:
    """Walks the bot through time: before each step, D: is where the drain has taken it."""

    def __init__(self, bot: AlertBot, config: Config) -> None:
        self.bot = bot
        self.config = config
        self.freed_at: datetime | None = None
        self.freed_to = 0

    def free_at(self, moment: datetime) -> int:
        if self.freed_at is not None and moment >= self.freed_at:
            days = (moment - self.freed_at) / timedelta(days=1)
            return self.freed_to - int(DRAIN_PER_DAY * days)
        days = (moment - (MONDAY + timedelta(hours=9, minutes=30))) / timedelta(days=1)
        return FREE_MONDAY_MORNING - int(DRAIN_PER_DAY * days)

    def clean_up(self, moment: datetime, free_bytes: int) -> None:
        self.freed_at, self.freed_to = moment, free_bytes

    def until(self, end: datetime) -> list[Job]:
        """Every hour on the hour, and at 09:30 and 20:45, up to and including `end`."""
        ran: list[Job] = []
        for moment in _steps(self.bot.clock.now, end):
            self.bot.clock.now = moment
            self.bot.fleet.set_profile("fs01", host_at(moment, self.free_at(moment)))
            ran += self.bot.alerting.driver.run_due()
            self.bot.alerting.outbox.deliver_due()
        return ran


def _steps(start: datetime, end: datetime) -> Iterator[datetime]:
    moment = start.replace(minute=0, second=0, microsecond=0)
    while moment <= end:
        for at in (moment, moment.replace(minute=30), moment.replace(minute=45)):
            if start < at <= end and (at.minute == 0 or (at.hour, at.minute) in SPECIAL):
                yield at
        moment += timedelta(hours=1)


SPECIAL = {(9, 30), (20, 45)}
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def week(
    stand_in: SlackStandIn, evening_fleet: SimulatedFleet, database_url: str
) -> Iterator[Week]:
    """fs01 (21:00 Tokyo, checked at 20:00) with surveys every 6 hours and forecasts at 09:30 on
    working days, from Saturday 00:00; warnings stay quiet, so only the forecast speaks early."""
    config = alert_config(evening_fleet, forecast={"survey_every_h": 6}, min_severity="critical")
    # The week is about what is foreseen; what each night's backup did is test_evening_after's.
    config = config.model_copy(
        update={"verify": config.verify.model_copy(update={"enabled": False})}
    )
    with running_alert_bot(stand_in, evening_fleet, database_url, config) as bot:
        bot.clock.now = SATURDAY
        yield Week(bot, config)


def at(days: int, hour: int, minute: int = 0) -> datetime:
    """Monday plus days, at this time in Tokyo."""
    return MONDAY + timedelta(days=days, hours=hour, minutes=minute)


def tops(stand_in: SlackStandIn) -> list[dict[str, Any]]:
    return [m for m in channel_messages(stand_in) if m.get("thread_ts", m["ts"]) == m["ts"]]


def context_of(top: dict[str, Any]) -> str:
    (context,) = [b for b in top["blocks"] if b["type"] == "context"]
    return str(context["elements"][0]["text"])


def thread_of(stand_in: SlackStandIn, top: dict[str, Any]) -> list[str]:
    replies = [
        m
        for m in channel_messages(stand_in)
        if m.get("thread_ts") == top["ts"] and m["ts"] != top["ts"]
    ]
    return [str(m.get("text", "")) for m in sorted(replies, key=lambda m: float(m["ts"]))]


def test_a_draining_volume_is_forecast_days_ahead_and_its_lead_time_alert_joins_the_thread(
    week: Week, stand_in: SlackStandIn
) -> None:
    ran = week.until(at(0, 9))
    assert {j.kind for j in ran} == {"survey", "check"}  # the weekend: no forecasts
    # Periods of 6 hours from midnight UTC (03:00, 09:00, 15:00 and 21:00 in Tokyo): one
    # survey each, from the period the week began in (Friday 21:00) to Monday 03:00's.
    surveyed = [j.window_at for j in ran if j.kind == "survey"]
    assert surveyed == [SATURDAY - timedelta(hours=3) + timedelta(hours=6) * n for n in range(10)]
    assert tops(stand_in) == []

    ran = week.until(at(0, 9, 30))
    assert [j.kind for j in ran] == ["forecast"]
    (top,) = tops(stand_in)
    assert top["text"] == (
        "*fs01*: D: loses about 400 MB a day; it falls below the 320 MB a shadow copy needs "
        "before Thursday's 21:00 JST backup. Free at least 1.5 GB to get through the next 7 "
        "days. The backup runs at Nov 26, 2026, 9:00:00\u202fPM JST."
    )
    (actions,) = [b for b in top["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [
        "alert_ack",
        "alert_escalate",
        "alert_recheck",
        "alert_silence",
    ]
    assert thread_of(stand_in, top) == []
    (chart,) = stand_in.files.shared()  # and in its thread, the chart of D:
    assert (chart.channel, chart.thread_ts) == ("C123", top["ts"])
    assert (chart.filename, chart.title) == ("fs01-D-2026-11-23.png", "Free space on fs01 D:")
    assert chart.data is not None
    assert chart.data.startswith(PNG)
    assert 10_000 < len(chart.data) < 500_000

    week.until(at(0, 23))  # Monday: no second forecast alert, and no escalation by itself
    assert week.bot.alerting.service.escalate_due() == 0
    assert len(tops(stand_in)) == 1
    assert len(stand_in.calls("chat.update")) == 0

    week.until(at(1, 9, 30))  # Tuesday morning: the same alert, today's figures
    (top,) = tops(stand_in)
    assert len(stand_in.calls("chat.update")) == 1
    assert "before Thursday's 21:00 JST backup" in top["text"]
    # Today's chart under yesterday's, matching the message's figures.
    charts = stand_in.files.shared()
    assert [(c.filename, c.thread_ts) for c in charts] == [
        ("fs01-D-2026-11-23.png", top["ts"]),
        ("fs01-D-2026-11-24.png", top["ts"]),
    ]

    week.until(at(3, 19))  # Thursday, before the lead-time check: still one alert
    assert len(tops(stand_in)) == 1
    ran = week.until(at(3, 20))
    assert [j.kind for j in ran] == ["check"]
    (top,) = tops(stand_in)  # the lead-time alert is the same message, in the same thread
    # At 20:00, an hour before the 200 MB the forecast expected at 21:00: 217 MB.
    assert top["text"].startswith(
        "*fs01*: D: has 217 MB free, less than the 320 MB a volume shadow copy needs there. "
        "The backup will fail; free at least 104 MB."
    )
    replies = thread_of(stand_in, top)
    assert replies == [
        "The findings changed; the details follow.",
        top["text"],  # the details and tips, with the alert's summary as their text
    ]
    assert "Free at least 104 MB on D:" in str(channel_messages(stand_in))


def test_the_chart_goes_in_the_thread_once_a_day_whichever_replica_forecasts_again(
    week: Week, stand_in: SlackStandIn, database_url: str
) -> None:
    week.until(at(0, 9, 30))
    (top,) = tops(stand_in)
    assert [c.thread_ts for c in stand_in.files.shared()] == [top["ts"]]
    # At 10:30 a second replica runs the morning's forecast again (as after a lease taken
    # over), and so does the first: the alert is updated in place, and no second chart comes.
    week.bot.clock.now = at(0, 10, 30)
    config = week.config
    client = web_client(BOT_TOKEN, stand_in.api_url)
    collect = winrm_collect(config, ENVIRON)
    replica = build_alerting(config, open_database(database_url), client, collect, week.bot.clock)
    server = replica.service.inventory.find("fs01")
    assert server is not None
    for driver in (replica.driver, week.bot.alerting.driver):
        assert driver.forecaster is not None
        driver.forecaster(server)
    replica.outbox.deliver_due()
    assert len(tops(stand_in)) == 1
    assert len(stand_in.calls("chat.update")) == 2  # each run updated the alert in place
    assert len(stand_in.calls("files.getUploadURLExternal")) == 1
    assert len(stand_in.files.shared()) == 1


def test_a_failed_chart_upload_costs_one_log_line_and_never_the_alert(
    week: Week, stand_in: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    stand_in.queue_response(
        "files.completeUploadExternal", body={"ok": False, "error": "not_in_channel"}
    )
    caplog.set_level(logging.INFO, logger="bot.alerts.forecast_charts")
    week.until(at(0, 12))
    (top,) = tops(stand_in)
    assert "before Thursday's 21:00 JST backup" in top["text"]
    assert stand_in.files.shared() == []
    lines = [r for r in caplog.records if r.name == "bot.alerts.forecast_charts"]
    assert [(r.levelname, r.getMessage(), r.exc_info) for r in lines] == [
        (
            "WARNING",
            "the forecast chart of fs01 could not be uploaded (not_in_channel); the alert stands",
            None,
        )
    ]
    assert len(stand_in.calls("files.getUploadURLExternal")) == 1  # not tried again today


def test_a_clean_up_clears_the_forecast_and_resolves_its_alert(
    week: Week, stand_in: SlackStandIn
) -> None:
    week.until(at(0, 9, 30))
    (top,) = tops(stand_in)
    assert "before Thursday's 21:00 JST backup" in top["text"]

    week.clean_up(at(1, 12), 5 * GB)  # Tuesday noon: someone frees space on D:
    week.until(at(2, 9, 30))
    (top,) = tops(stand_in)
    assert context_of(top) == (
        "Resolved at Nov 25, 2026, 9:30:00\u202fAM JST: the last check found enough free space."
    )
    assert "actions" not in [b["type"] for b in top["blocks"]]
    # 5 GB at Tuesday noon, less 21.5 hours of the drain.
    assert thread_of(stand_in, top) == [
        "Resolved at Nov 25, 2026, 9:30:00\u202fAM JST: D: now has 4.7 GB free."
    ]

    week.until(at(4, 9, 30))  # nothing new while the forecast stays clear
    assert len(tops(stand_in)) == 1


def test_a_survey_that_finds_a_volume_below_its_minimum_records_it_and_posts_nothing(
    stand_in: SlackStandIn, evening_fleet: SimulatedFleet, database_url: str
) -> None:
    config = alert_config(evening_fleet, forecast={"survey_every_h": 6})
    with running_alert_bot(stand_in, evening_fleet, database_url, config) as bot:
        # 19:00 in Tokyo (fs01's D: has 235 MB free): the survey of the 15:00 period is due;
        # the 20:00 check is not.
        assert [j.kind for j in bot.alerting.driver.run_due()] == ["survey"]
        bot.alerting.outbox.deliver_due()
        assert channel_messages(stand_in) == []
        sessions = bot.alerting.service.history._sessions
        with sessions() as session:
            d_free = session.scalars(
                select(CheckResult.free_bytes).where(CheckResult.volume_name.like("D:%"))
            ).all()
        assert d_free == [246415360]
