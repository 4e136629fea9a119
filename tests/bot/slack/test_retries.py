"""Slack calls wait out a short 429 and retry, and give up at once on a long one, rather than
holding a check worker or a listener for as long as Slack asks."""

from __future__ import annotations

import time

import pytest
from slack_sdk.errors import SlackApiError

from bot.slack.client import web_client
from tests.support.slack_api import BOT_TOKEN, SlackStandIn

pytestmark = pytest.mark.timeout(60)


def test_a_short_retry_after_is_waited_out_and_the_call_goes_through(
    stand_in: SlackStandIn,
) -> None:
    stand_in.queue_response("chat.postMessage", status=429, headers={"Retry-After": "1"})
    started = time.monotonic()
    answer = web_client(BOT_TOKEN, stand_in.api_url).chat_postMessage(channel="C123", text="hi")
    assert answer["ok"] is True
    assert 1.0 <= time.monotonic() - started < 10
    assert len(stand_in.calls("chat.postMessage")) == 2


@pytest.mark.parametrize("retry_after", ["3600", "soon", "-5"])
def test_a_long_or_unreadable_retry_after_gives_up_at_once(
    stand_in: SlackStandIn, retry_after: str
) -> None:
    stand_in.queue_response("chat.postMessage", status=429, headers={"Retry-After": retry_after})
    started = time.monotonic()
    with pytest.raises(SlackApiError) as raised:
        web_client(BOT_TOKEN, stand_in.api_url).chat_postMessage(channel="C123", text="hi")
    assert raised.value.response["error"] == "ratelimited"
    assert time.monotonic() - started < 5
    assert len(stand_in.calls("chat.postMessage")) == 1
