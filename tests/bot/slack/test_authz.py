"""Who may run checks; the lists are read from the config, group members from Slack."""

from __future__ import annotations

import pytest

from bot.config import SlackSettings
from bot.slack.authz import Authorizer
from bot.slack.client import web_client
from tests.support.slack_api import BOT_TOKEN, SlackStandIn


def _authorizer(stand_in: SlackStandIn, **lists: list[str]) -> Authorizer:
    settings = SlackSettings(**lists)
    return Authorizer(
        web_client(BOT_TOKEN, stand_in.api_url),
        settings.allowed_users,
        settings.allowed_usergroups,
        settings.allowed_channels,
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
