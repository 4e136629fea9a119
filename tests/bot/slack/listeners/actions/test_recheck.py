"""The Re-check button re-runs the check and replaces the message with the new result."""

from __future__ import annotations

import pytest

from checks.units import MB
from tests.bot.conftest import SIGNING_SECRET, AlertBot, Bot, HeldBot, eventually, store_drain
from tests.support.slack_api import SlackStandIn
from tests.support.slack_signing import block_action_body, post, sign

pytestmark = pytest.mark.timeout(60)


def test_pressing_recheck_runs_the_check_again_and_replaces_the_message(
    stand_in: SlackStandIn, socket_bot: Bot
) -> None:
    stand_in.deliver_slash_command(text="FS01").wait_ack(3.0)
    (first,) = stand_in.wait_for_response(1, timeout=20)
    assert first.body is not None
    actions = next(b for b in first.body["blocks"] if b["type"] == "actions")
    button = actions["elements"][0]
    assert (button["action_id"], button["value"]) == ("recheck", "fs01")

    url = stand_in.response_url()
    stand_in.deliver_block_action("recheck", value=button["value"], response_url=url).wait_ack(3.0)
    (response,) = stand_in.wait_for_response(1, timeout=20, id=url.rsplit("/", 1)[-1])
    assert response.body is not None
    assert response.body["replace_original"] is True
    assert "Free at least 85 MB on D:" in str(response.body["blocks"])
    assert len(socket_bot.contacted) == 2  # the first check and the re-check


def test_a_button_naming_a_server_outside_the_inventory_contacts_nothing(
    stand_in: SlackStandIn, socket_bot: Bot
) -> None:
    url = stand_in.response_url()
    stand_in.deliver_block_action("recheck", value="evil.example", response_url=url).wait_ack(3.0)
    (response,) = stand_in.wait_for_response(1, timeout=20)
    assert response.body is not None
    assert response.body["replace_original"] is False
    assert (
        response.body["text"] == "unknown server 'evil.example': it is not in the config's servers."
    )
    assert socket_bot.contacted == []


def test_recheck_in_http_mode(stand_in: SlackStandIn, bot: Bot, http_url: str) -> None:
    response_url = stand_in.response_url()
    body = block_action_body("recheck", value="dc01", response_url=response_url)
    status, _, elapsed = post(http_url, body, sign(SIGNING_SECRET, body))
    assert (status, elapsed < 3.0) == (200, True)
    (response,) = stand_in.wait_for_response(1, timeout=20)
    assert response.body is not None
    assert response.body["replace_original"] is True
    assert ":red_circle: dc01: CRITICAL" in str(response.body["blocks"])


def test_a_full_check_queue_tells_the_presser_privately_and_queues_nothing(
    stand_in: SlackStandIn, held_bot: HeldBot
) -> None:
    urls = []
    for _ in range(4):  # one running, two waiting, and one press too many
        urls.append(stand_in.response_url())
        body = block_action_body("recheck", value="fs01", response_url=urls[-1])
        assert post(held_bot.url, body, sign(SIGNING_SECRET, body))[0] == 200
        eventually(lambda: held_bot.contacted != [])
    (refused,) = stand_in.wait_for_response(1, timeout=20, id=urls[3].rsplit("/", 1)[-1])
    assert refused.body is not None
    assert refused.body["replace_original"] is False
    assert refused.body["response_type"] == "ephemeral"
    assert refused.body["text"] == (
        "2 checks are already waiting for their turn; try again in a minute."
    )
    held_bot.release.set()
    assert len(stand_in.wait_for_response(4, timeout=30)) == 4
    assert held_bot.contacted == ["fs01"] * 3


def test_recheck_shows_the_stored_trend_as_the_command_does(
    stand_in: SlackStandIn, alert_bot: AlertBot
) -> None:
    services = alert_bot.services
    server = services.checks.resolve(["fs01"]).servers[0]
    (report,) = services.checks.check([server], services.catalog_for("U1"))
    store_drain(alert_bot.alerting.service.history, report, "D:", 410 * MB)
    url = stand_in.response_url()
    stand_in.deliver_block_action("recheck", value="fs01", response_url=url).wait_ack(3.0)
    (response,) = stand_in.wait_for_response(1, timeout=20)
    assert response.body is not None
    assert response.body["replace_original"] is True
    d_line = next(
        b["text"]["text"]
        for b in response.body["blocks"]
        if b["type"] == "section" and b["text"]["text"].startswith("*D:*")
    )
    assert "trend: falls 410 MB/day" in d_line
