"""An evening of one alert, through the store and the outbox to a loopback Slack."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient

from bot.alerts.lifecycle import AlertPolicy, acknowledge, auto_escalate, escalate, on_check
from bot.alerts.outbox import Outbox
from bot.alerts.store import AlertStore, Destinations
from bot.storage.database import open_database
from checks.evaluate import evaluate
from checks.i18n import Catalog
from checks.report import Report
from checks.snapshot import Snapshot
from checks.units import GB, MB
from tests.support.slack_api import BOT_TOKEN, SlackStandIn

JST = timezone(timedelta(hours=9))
WINDOW = datetime(2026, 11, 24, 21, 0, tzinfo=JST)
CHANNEL = "C-alerts"


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 11, 24, hour, minute, tzinfo=JST)


def open_at_eight(store: AlertStore, report: Report, t: Catalog) -> None:
    """The 20:00 check's result, recorded as the scheduled check would."""
    transition = on_check(None, report, WINDOW, at(20, 0), AlertPolicy())
    store.record(transition, report, t, "checked", None, at(20, 0), JST)


def drain(outbox: Outbox) -> None:
    """Deliver until nothing is left to try now."""
    while any(d.state == "pending" for d in outbox.deliver_due()):
        pass


def test_the_evening_posts_one_alert_and_keeps_it_up_to_date(
    database_url: str,
    stand_in: SlackStandIn,
    load_snapshot: Callable[[str], Snapshot],
    en: Catalog,
) -> None:
    seed = load_snapshot("seed-incident").model_copy(update={"host": "fs01"})

    def check(d_free: int, when: datetime) -> Report:
        volumes = [
            v.model_copy(update={"free_bytes": d_free}) if v.letter == "D:" else v
            for v in seed.volumes
        ]
        return evaluate(seed.model_copy(update={"volumes": volumes}), when, en)

    sessions = open_database(database_url)
    store = AlertStore(sessions, Destinations(CHANNEL, on_call="<!subteam^S123>"))
    now = [at(20, 0)]
    outbox = Outbox(sessions, WebClient(token=BOT_TOKEN, base_url=stand_in.api_url), lambda: now[0])
    policy = AlertPolicy()

    report = check(235 * MB, at(20, 0))
    open_at_eight(store, report, en)
    stand_in.queue_response("chat.postMessage", status=503)  # Slack is down at first
    assert {d.state for d in outbox.deliver_due()} == {"pending"}
    now[0] = at(20, 5)
    assert {d.state for d in outbox.deliver_due()} == {"sent"}

    for when, event in (
        (at(20, 30), lambda a: auto_escalate(a, at(20, 30), policy)),
        (at(20, 35), lambda a: acknowledge(a, "U123", at(20, 35))),
    ):
        alert = store.get("fs01", WINDOW)
        assert alert is not None
        store.record(event(alert), report, en, "person", None, when, JST)
        now[0] = when
        assert {d.state for d in outbox.deliver_due()} == {"sent"}

    fixed = check(5 * GB, at(20, 45))
    alert = store.get("fs01", WINDOW)
    assert alert is not None
    store.record(
        on_check(alert, fixed, WINDOW, at(20, 45), policy),
        fixed,
        en,
        "checked",
        None,
        at(20, 45),
        JST,
    )
    now[0] = at(20, 45)
    assert {d.state for d in outbox.deliver_due()} == {"sent"}

    messages: list[dict[str, Any]] = [m for (c, _), m in stand_in.messages.items() if c == CHANNEL]
    (top,) = [m for m in messages if "thread_ts" not in m]
    replies = [m["text"] for m in messages if m.get("thread_ts") == top["ts"]]
    context = str(top["blocks"])
    assert "Resolved at Nov 24, 2026, 8:45:00" in context
    assert "Acknowledged by <@U123>" in context
    assert "Escalated automatically" in context
    assert "actions" not in [b["type"] for b in top["blocks"]]  # no buttons once resolved
    assert len(replies) == 4  # the details, the escalation, the acknowledgement, the resolution
    assert "Escalated to <!subteam^S123>" in replies[1]
    assert store.get("fs01", WINDOW).state == "resolved"  # type: ignore[union-attr]


def test_past_the_threshold_new_alerts_go_into_one_digest_for_the_window(
    database_url: str,
    stand_in: SlackStandIn,
    load_snapshot: Callable[[str], Snapshot],
    en: Catalog,
) -> None:
    sessions = open_database(database_url)
    store = AlertStore(sessions, Destinations(CHANNEL, digest_threshold=2))
    outbox = Outbox(
        sessions, WebClient(token=BOT_TOKEN, base_url=stand_in.api_url), lambda: at(20, 1)
    )
    names = ["fs01", "fs02", "fs03", "fs04"]
    for name in names:
        seed = load_snapshot("seed-incident").model_copy(update={"host": name})
        report = evaluate(seed, at(20, 0), en)
        open_at_eight(store, report, en)
    drain(outbox)
    messages = [m for (c, _), m in stand_in.messages.items() if c == CHANNEL]
    top = [m for m in messages if "thread_ts" not in m]
    assert [m["text"].split(":")[0] for m in top[:2]] == ["*fs01*", "*fs02*"]
    (digest,) = top[2:]
    assert digest["text"].startswith(
        "*4 servers* will fail their backup at Nov 24, 2026, 9:00:00\u202fPM (UTC+09:00): "
        "fs01, fs02, fs03, fs04."
    )
    in_digest = [m for m in messages if m.get("thread_ts") == digest["ts"]]
    # fs03 and fs04: each its alert entry (with buttons) and its details.
    assert sorted(m["text"].split(":")[0] for m in in_digest) == [
        "*fs03*",
        "*fs03*",
        "*fs04*",
        "*fs04*",
    ]
    assert sum("alert_ack" in str(m.get("blocks")) for m in in_digest) == 2


def test_an_escalation_is_cross_posted_to_the_escalation_channel(
    database_url: str,
    stand_in: SlackStandIn,
    load_snapshot: Callable[[str], Snapshot],
    en: Catalog,
) -> None:
    sessions = open_database(database_url)
    store = AlertStore(
        sessions, Destinations(CHANNEL, on_call="<!subteam^S123>", escalation_channel="C-esc")
    )
    outbox = Outbox(
        sessions, WebClient(token=BOT_TOKEN, base_url=stand_in.api_url), lambda: at(20, 30)
    )
    seed = load_snapshot("seed-incident").model_copy(update={"host": "fs01"})
    report = evaluate(seed, at(20, 0), en)
    open_at_eight(store, report, en)
    alert = store.get("fs01", WINDOW)
    assert alert is not None
    store.record(escalate(alert, "U42", at(20, 30)), report, en, "escalate", "U42", at(20, 30), JST)
    drain(outbox)
    (cross,) = [m for (c, _), m in stand_in.messages.items() if c == "C-esc"]
    assert cross["text"].startswith(
        "<!subteam^S123> Escalated from <#C-alerts>: *fs01*: D: has 235 MB free"
    )


@pytest.mark.parametrize(
    ("zone", "label"),
    [(ZoneInfo("Asia/Tokyo"), "JST"), (None, "(UTC+09:00)")],  # configured, or as reported
)
def test_the_alert_and_its_thread_name_the_same_backup_time(
    database_url: str,
    stand_in: SlackStandIn,
    load_snapshot: Callable[[str], Snapshot],
    en: Catalog,
    zone: ZoneInfo | None,
    label: str,
) -> None:
    # The configured window (21:45 on Nov 30) is not the next run the server reported (21:00
    # on Nov 24): the details in the thread name the window the alert is about.
    window = datetime(2026, 11, 30, 12, 45, tzinfo=UTC)
    sessions = open_database(database_url)
    store = AlertStore(sessions, Destinations(CHANNEL))
    outbox = Outbox(
        sessions, WebClient(token=BOT_TOKEN, base_url=stand_in.api_url), lambda: at(20, 1)
    )
    report = evaluate(
        load_snapshot("seed-incident").model_copy(update={"host": "fs01"}), at(20, 0), en
    )
    assert report.next_backup_at == WINDOW
    transition = on_check(None, report, window, at(20, 0), AlertPolicy())
    store.record(transition, report, en, "checked", None, at(20, 0), zone)
    drain(outbox)

    messages = [m for (c, _), m in stand_in.messages.items() if c == CHANNEL]
    (top,) = [m for m in messages if "thread_ts" not in m]
    (details,) = [m for m in messages if m.get("thread_ts") == top["ts"]]
    when = f"Nov 30, 2026, 9:45:00\u202fPM {label}"
    assert f"The backup runs at {when}." in top["text"]
    shown = json.dumps(details["blocks"], ensure_ascii=False)
    assert f"Next backup: {when}." in shown
    assert f"Checked Nov 24, 2026, 8:00:00\u202fPM {label}." in shown  # in the same zone
