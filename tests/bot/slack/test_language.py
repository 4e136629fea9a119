"""Replies follow the user's Slack locale when allowed; when Slack cannot say in time, the
default language answers at once and the user is asked about again later."""

from __future__ import annotations

import time

import pytest

from bot.slack.client import ACK_PATH_TIMEOUT_S, single_try_client
from bot.slack.language import RETRY_AFTER_S, LanguagePicker
from tests.support.slack_api import BOT_TOKEN, SlackStandIn


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def picker(stand_in: SlackStandIn, clock: Clock | None = None) -> LanguagePicker:
    client = single_try_client(BOT_TOKEN, stand_in.api_url, ACK_PATH_TIMEOUT_S)
    return LanguagePicker("en", True, client, clock or Clock())


def test_a_japanese_locale_gives_japanese_and_is_cached(stand_in: SlackStandIn) -> None:
    stand_in.users["U123"].locale = "ja-JP"
    languages = picker(stand_in)
    assert languages.for_user("U123") == "ja"
    assert languages.for_user("U123") == "ja"
    (call,) = stand_in.calls("users.info")
    assert call.params["include_locale"] in ("1", "true", True)


def test_the_config_default_when_locales_are_off_or_unknown(stand_in: SlackStandIn) -> None:
    stand_in.users["U123"].locale = "fr-FR"
    client = single_try_client(BOT_TOKEN, stand_in.api_url, ACK_PATH_TIMEOUT_S)
    assert LanguagePicker("ja", True, client).for_user("U123") == "ja"
    assert LanguagePicker("en", False, client).for_user("U123") == "en"


def test_slack_errors_fall_back_to_the_default_for_good(stand_in: SlackStandIn) -> None:
    stand_in.queue_response("users.info", body={"ok": False, "error": "user_not_found"})
    clock = Clock()
    languages = picker(stand_in, clock)
    assert languages.for_user("U404") == "en"
    clock.now += 10 * RETRY_AFTER_S
    assert languages.for_user("U404") == "en"
    assert len(stand_in.calls("users.info")) == 1


@pytest.mark.parametrize(
    "trouble",
    [
        {"drop": True},
        {"delay": 3.0},
        {"status": 429, "headers": {"Retry-After": "20"}},
        {"status": 503},
        {"body": "<html>gateway</html>"},
        {"body": {"ok": False, "error": "internal_error"}},
    ],
    ids=["dropped", "slow", "rate-limited", "unavailable", "not-json", "internal-error"],
)
def test_when_slack_cannot_say_the_default_answers_at_once_and_slack_is_asked_again_later(
    stand_in: SlackStandIn, trouble: dict[str, object]
) -> None:
    stand_in.users["U123"].locale = "ja-JP"
    stand_in.queue_response("users.info", **trouble)  # type: ignore[arg-type]
    clock = Clock()
    languages = picker(stand_in, clock)
    started = time.monotonic()
    assert languages.for_user("U123") == "en"
    assert time.monotonic() - started < 2 * ACK_PATH_TIMEOUT_S + 0.5  # within Slack's 3 s ack
    clock.now += RETRY_AFTER_S - 1
    assert languages.for_user("U123") == "en"
    assert len(stand_in.calls("users.info")) <= 1  # not asked again meanwhile
    clock.now += 2
    assert languages.for_user("U123") == "ja"
