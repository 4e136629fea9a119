"""Who may run checks; the lists are read from the config, group members from Slack."""

from __future__ import annotations

import time

import pytest

from bot.config import SlackSettings
from bot.slack.authz import (
    GROUP_CACHE_SECONDS,
    MAX_STALE_SECONDS,
    RETRY_SECONDS,
    Authorizer,
)
from bot.slack.client import ACK_PATH_TIMEOUT_S, single_try_client
from tests.support.slack_api import BOT_TOKEN, SlackStandIn


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _authorizer(
    stand_in: SlackStandIn, clock: Clock | None = None, **lists: list[str]
) -> Authorizer:
    settings = SlackSettings(**lists)
    return Authorizer(
        single_try_client(BOT_TOKEN, stand_in.api_url, ACK_PATH_TIMEOUT_S),
        settings.allowed_users,
        settings.allowed_usergroups,
        settings.allowed_channels,
        clock=clock or Clock(),
    )


def test_without_lists_everyone_may(stand_in: SlackStandIn) -> None:
    assert _authorizer(stand_in).refusal("U999", "C999") is None
    assert stand_in.calls() == []


@pytest.mark.parametrize(
    ("lists", "user", "channel", "allowed"),
    [
        ({"allowed_users": ["U123"]}, "U123", "C999", True),
        ({"allowed_users": ["U123"]}, "U999", "C999", False),
        ({"allowed_channels": ["C0PS"]}, "U999", "C0PS", True),
        ({"allowed_channels": ["C0PS"]}, "U999", "CDEV", False),
        ({"allowed_usergroups": ["S123"]}, "U123", "C999", True),  # U123 is in S123
        ({"allowed_usergroups": ["S123"]}, "U999", "C999", False),
    ],
)
def test_listed_users_groups_and_channels(
    stand_in: SlackStandIn, lists: dict[str, list[str]], user: str, channel: str, allowed: bool
) -> None:
    refusal = _authorizer(stand_in, **lists).refusal(user, channel)
    assert (refusal is None) is allowed
    if not allowed:
        assert refusal == "slack.not_allowed"


def test_group_members_are_cached(stand_in: SlackStandIn) -> None:
    authorizer = _authorizer(stand_in, allowed_usergroups=["S123"])
    for _ in range(5):
        authorizer.refusal("U123", None)
    assert len(stand_in.calls("usergroups.users.list")) == 1


def test_an_unreadable_group_grants_nothing(stand_in: SlackStandIn) -> None:
    stand_in.queue_response("usergroups.users.list", body={"ok": False, "error": "missing_scope"})
    authorizer = _authorizer(stand_in, allowed_usergroups=["S123"])
    assert authorizer.refusal("U123", None) == "slack.not_allowed"


TROUBLE = [{"drop": True}, {"delay": 3.0}, {"status": 429}, {"status": 503}]
TROUBLE_IDS = ["dropped", "slow", "rate-limited", "unavailable"]


@pytest.mark.parametrize("trouble", TROUBLE, ids=TROUBLE_IDS)
def test_when_slack_cannot_list_a_group_its_members_as_last_read_still_may(
    stand_in: SlackStandIn, trouble: dict[str, object]
) -> None:
    clock = Clock()
    authorizer = _authorizer(stand_in, clock, allowed_usergroups=["S123"])
    assert authorizer.refusal("U123", None) is None
    clock.now += GROUP_CACHE_SECONDS
    stand_in.queue_response("usergroups.users.list", **trouble)  # type: ignore[arg-type]
    started = time.monotonic()
    assert authorizer.refusal("U123", None) is None
    assert time.monotonic() - started < 2 * ACK_PATH_TIMEOUT_S + 0.5  # within Slack's 3 s ack
    assert authorizer.refusal("U999", None) == "slack.not_allowed"
    clock.now += RETRY_SECONDS  # asked again soon, and Slack answers this time
    assert authorizer.refusal("U123", None) is None
    # A slow answer is recorded once the stand-in has sent it, after the client gave up.
    assert len(stand_in.wait_for("usergroups.users.list", 3, timeout=5)) == 3


@pytest.mark.parametrize("trouble", TROUBLE, ids=TROUBLE_IDS)
def test_a_group_slack_has_never_listed_grants_nothing(
    stand_in: SlackStandIn, trouble: dict[str, object]
) -> None:
    stand_in.queue_response("usergroups.users.list", **trouble)  # type: ignore[arg-type]
    authorizer = _authorizer(stand_in, allowed_usergroups=["S123"])
    assert authorizer.refusal("U123", None) == "slack.not_allowed"


def test_members_read_long_ago_stop_counting_while_slack_stays_down(
    stand_in: SlackStandIn,
) -> None:
    clock = Clock()
    authorizer = _authorizer(stand_in, clock, allowed_usergroups=["S123"])
    assert authorizer.refusal("U123", None) is None
    stand_in.queue_response("usergroups.users.list", drop=True, times=1000)
    clock.now += GROUP_CACHE_SECONDS
    assert authorizer.refusal("U123", None) is None
    clock.now += MAX_STALE_SECONDS
    assert authorizer.refusal("U123", None) == "slack.not_allowed"
