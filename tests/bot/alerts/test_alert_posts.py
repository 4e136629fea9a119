"""What each effect of an alert's transition sends to Slack, and where: plain data in, Web API
calls out, no database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.alerts.alert_posts import Context, Destinations, digest_key, effect_messages, in_zone
from bot.alerts.lifecycle import AlertPolicy, Effect, escalate, on_check
from checks.evaluate import evaluate
from checks.i18n import Catalog
from checks.snapshot import Snapshot

JST = timezone(timedelta(hours=9))
WINDOW = datetime(2026, 11, 24, 21, 0, tzinfo=JST)
NOW = WINDOW - timedelta(hours=1)
TO = Destinations("C123", on_call="<!subteam^S1>", escalation_channel="C999")
POST, DIGEST = "alert-1/post", "digest-x/post"


@pytest.fixture
def context(load_snapshot: Callable[[str], Snapshot], en: Catalog) -> Context:
    seed = load_snapshot("seed-incident").model_copy(update={"host": "fs01"})
    report = evaluate(seed, NOW, en)
    alert = on_check(None, report, WINDOW, NOW, AlertPolicy()).alert
    assert alert is not None
    return Context(alert, report, None, en, None, NOW)


def test_a_new_alert_is_posted_in_the_channel_or_in_its_digests_thread(context: Context) -> None:
    ((method, payload),) = effect_messages(Effect.POST_ALERT, context, TO, POST, POST)
    assert (method, payload["channel"]) == ("chat.postMessage", "C123")
    assert payload["text"].startswith("*fs01*: D: has 235 MB free")
    assert "thread_ts_of" not in payload
    ((_, digested),) = effect_messages(Effect.POST_ALERT, context, TO, POST, DIGEST)
    assert digested["thread_ts_of"] == DIGEST


def test_an_update_edits_the_alerts_own_message(context: Context) -> None:
    ((method, payload),) = effect_messages(Effect.UPDATE_ALERT, context, TO, POST, DIGEST)
    assert (method, payload["ts_of"]) == ("chat.update", POST)


def test_an_escalation_mentions_on_call_in_the_thread_and_is_cross_posted(
    context: Context,
) -> None:
    escalated = escalate(context.alert, "U1", NOW).alert
    assert escalated is not None
    shown = Context(escalated, context.report, None, context.t, "U1", NOW)
    reply, cross = effect_messages(Effect.REPLY_ESCALATED, shown, TO, POST, POST)
    assert (reply[1]["channel"], reply[1]["thread_ts_of"]) == ("C123", POST)
    assert cross[1]["channel"] == "C999"
    assert cross[1]["text"].startswith("<!subteam^S1> ")
    alone = Destinations("C123")
    assert len(effect_messages(Effect.REPLY_ESCALATED, shown, alone, POST, POST)) == 1


def test_a_digest_is_keyed_by_its_window_in_utc_and_times_are_shown_in_the_servers_zone(
    context: Context,
) -> None:
    assert digest_key(WINDOW) == digest_key(WINDOW.astimezone(UTC))
    assert digest_key(WINDOW) == "digest-2026-11-24T12:00:00+00:00/post"
    shown = in_zone(context.alert, JST)
    assert (shown.window_at, shown.window_at.utcoffset()) == (WINDOW, timedelta(hours=9))
