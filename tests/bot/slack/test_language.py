"""Replies follow the user's Slack locale when allowed; rate limits are waited out."""

from __future__ import annotations

from bot.slack.client import web_client
from bot.slack.language import LanguagePicker
from tests.support.slack_api import BOT_TOKEN, SlackStandIn


def test_a_japanese_locale_gives_japanese_and_is_cached(stand_in: SlackStandIn) -> None:
    stand_in.users["U123"].locale = "ja-JP"
    picker = LanguagePicker("en", True, web_client(BOT_TOKEN, stand_in.api_url))
    assert picker.for_user("U123") == "ja"
    assert picker.for_user("U123") == "ja"
    (call,) = stand_in.calls("users.info")
    assert call.params["include_locale"] in ("1", "true", True)


def test_the_config_default_when_locales_are_off_or_unknown(stand_in: SlackStandIn) -> None:
    stand_in.users["U123"].locale = "fr-FR"
    client = web_client(BOT_TOKEN, stand_in.api_url)
    assert LanguagePicker("ja", True, client).for_user("U123") == "ja"
    assert LanguagePicker("en", False, client).for_user("U123") == "en"


def test_a_rate_limit_is_retried_after_its_retry_after(stand_in: SlackStandIn) -> None:
    stand_in.users["U123"].locale = "ja-JP"
    stand_in.queue_response("users.info", status=429, headers={"Retry-After": "1"})
    picker = LanguagePicker("en", True, web_client(BOT_TOKEN, stand_in.api_url))
    assert picker.for_user("U123") == "ja"
    assert len(stand_in.calls("users.info")) == 2


def test_slack_errors_fall_back_to_the_default(stand_in: SlackStandIn) -> None:
    stand_in.queue_response("users.info", body={"ok": False, "error": "user_not_found"})
    picker = LanguagePicker("en", True, web_client(BOT_TOKEN, stand_in.api_url))
    assert picker.for_user("U404") == "en"
