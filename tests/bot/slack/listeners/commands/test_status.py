"""`/backupcheck status` over Socket Mode: the replicas, what each holds, the next checks."""

from __future__ import annotations

import pytest

from tests.bot.conftest import AlertBot, Bot
from tests.support.slack_api import SlackStandIn
from tests.support.slack_blocks import check_blocks

pytestmark = pytest.mark.timeout(60)


def test_status_shows_this_replica_and_the_next_check(
    alert_bot: AlertBot, stand_in: SlackStandIn
) -> None:
    scheduler = alert_bot.alerting.scheduler
    scheduler.start(paused=True)  # the first heartbeat and the plan
    try:
        ack = stand_in.deliver_slash_command(text="status").wait_ack(3.0)
        assert ack.payload is not None
        assert ack.payload["text"] == "Reading the replicas' status…"
        (response,) = stand_in.wait_for_response(1, timeout=20)
    finally:
        scheduler.stop(wait=True)
    assert response.body is not None
    assert response.body["response_type"] == "ephemeral"
    blocks = response.body["blocks"]
    check_blocks(blocks)
    text = str(blocks)
    assert f"*{alert_bot.alerting.driver.replica}*" in text
    assert "alive; last heartbeat Nov 24, 2026" in text
    assert "holds nothing" in text
    assert "Next checks" in text
    assert "*fs01*  next backup Nov 24, 2026, 9:00:00" in text


def test_status_without_alerts_says_so(stand_in: SlackStandIn, socket_bot: Bot) -> None:
    ack = stand_in.deliver_slash_command(text="status").wait_ack(3.0)
    assert ack.payload is not None
    assert "Scheduled alerts are not set up" in ack.payload["text"]
