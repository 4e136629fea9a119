"""Authorization comes before any lookup: a refused user gets the same answer whether the server
they name exists or not, so nobody outside the lists can find out which servers there are."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.alerts.message import ACK_ACTION, ALERT_RECHECK_ACTION, SILENCE_ACTION, UNACK_ACTION
from tests.bot.conftest import (
    ALERT_CHANNEL,
    AlertBot,
    alert_config,
    control,
    open_alert,
    running_alert_bot,
)
from tests.support.fleet import SimulatedFleet
from tests.support.slack_api import SlackStandIn

pytestmark = pytest.mark.timeout(60)
REFUSED = "U123"  # responders are U999 only
NOT_A_RESPONDER = "You may not acknowledge, escalate or silence"


@pytest.fixture
def guarded_bot(
    stand_in: SlackStandIn, evening_fleet: SimulatedFleet, database_url: str
) -> Iterator[AlertBot]:
    """Alerts as in running_alert_bot; only U999 may act on them."""
    with running_alert_bot(stand_in, evening_fleet, database_url, responder_users=["U999"]) as bot:
        yield bot


@pytest.fixture
def checks_limited_bot(
    stand_in: SlackStandIn, evening_fleet: SimulatedFleet, database_url: str
) -> Iterator[AlertBot]:
    """Alerts as in running_alert_bot, but only U999 may run checks (slack.allowed_users)."""
    config = alert_config(evening_fleet)
    config = config.model_copy(
        update={"slack": config.slack.model_copy(update={"allowed_users": ["U999"]})}
    )
    with running_alert_bot(stand_in, evening_fleet, database_url, config) as running:
        yield running


def _press(stand_in: SlackStandIn, action_id: str, value: str, ts: str) -> str:
    """Press a control as REFUSED; the text of the bot's private answer."""
    url = stand_in.response_url()
    stand_in.deliver_block_action(
        action_id,
        value=value,
        user_id=REFUSED,
        channel_id=ALERT_CHANNEL,
        message_ts=ts,
        response_url=url,
    ).wait_ack(3.0)
    (answer,) = stand_in.wait_for_response(1, timeout=10, id=url.rsplit("/", 1)[-1])
    assert answer.body is not None
    assert answer.body["response_type"] == "ephemeral"
    return str(answer.body["text"])


@pytest.mark.parametrize("action_id", [ACK_ACTION, UNACK_ACTION, SILENCE_ACTION])
def test_a_refused_user_pressing_a_control_cannot_tell_which_servers_exist(
    guarded_bot: AlertBot, stand_in: SlackStandIn, action_id: str
) -> None:
    top = open_alert(guarded_bot, stand_in)
    real = str(control(top, ACK_ACTION)["value"])  # fs01|<window>
    suffix = "|24h" if action_id == SILENCE_ACTION else ""
    forged = real.replace("fs01", "nosuch", 1)

    existing = _press(stand_in, action_id, real + suffix, top["ts"])
    missing = _press(stand_in, action_id, forged + suffix, top["ts"])
    garbage = _press(stand_in, action_id, "nosuch|not-a-time" + suffix, top["ts"])

    assert existing == missing == garbage
    assert existing.startswith(NOT_A_RESPONDER)
    assert "nosuch" not in missing


def test_a_refused_user_pressing_re_check_on_an_alert_cannot_tell_which_servers_exist(
    checks_limited_bot: AlertBot, stand_in: SlackStandIn
) -> None:
    # Re-check is a check: slack.allowed_* decides, and U123 is not in it.
    top = open_alert(checks_limited_bot, stand_in)
    real = str(control(top, ALERT_RECHECK_ACTION)["value"])
    checks_before = len(checks_limited_bot.alerting.service.history.of("fs01"))
    existing = _press(stand_in, ALERT_RECHECK_ACTION, real, top["ts"])
    missing = _press(stand_in, ALERT_RECHECK_ACTION, real.replace("fs01", "nosuch"), top["ts"])
    assert existing == missing
    assert existing.startswith("You are not allowed to run backupcheck here.")
    assert len(checks_limited_bot.alerting.service.history.of("fs01")) == checks_before


@pytest.mark.parametrize(
    ("existing", "missing"),
    [("silence fs01 2h", "silence nosuch 2h"), ("unsilence fs01", "unsilence nosuch")],
)
def test_a_refused_user_silencing_cannot_tell_which_servers_exist(
    guarded_bot: AlertBot, stand_in: SlackStandIn, existing: str, missing: str
) -> None:
    answers = [
        stand_in.deliver_slash_command(text=text, user_id=REFUSED).wait_ack(3.0).payload
        for text in (existing, missing)
    ]
    assert answers[0] == answers[1]
    assert str(answers[0]).count(NOT_A_RESPONDER) == 1
    assert guarded_bot.alerting.service.silences.active(guarded_bot.clock()) == {}
