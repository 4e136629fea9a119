"""`/backupcheck` over Socket Mode and HTTP, against a loopback Slack and simulated hosts."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import Config
from bot.slack.app import build_app
from checks.units import MB
from tests.bot.conftest import SIGNING_SECRET, AlertBot, Bot, HeldBot, eventually, store_drain
from tests.conftest import ENVIRON, inventory_for
from tests.support.fleet import SimulatedFleet
from tests.support.slack_api import BOT_TOKEN, SlackStandIn
from tests.support.slack_blocks import check_blocks
from tests.support.slack_harness import socket_mode
from tests.support.slack_signing import post, sign, slash_command_body

pytestmark = pytest.mark.timeout(60)


def _text(blocks: object) -> str:
    return str(blocks)


def test_a_check_acks_at_once_then_posts_the_report(
    stand_in: SlackStandIn, socket_bot: Bot
) -> None:
    url = stand_in.response_url()
    delivery = stand_in.deliver_slash_command(text="fs01", response_url=url)
    ack = delivery.wait_ack(timeout=3.0)
    assert ack.elapsed < 3.0
    assert ack.payload is not None
    assert ack.payload["text"] == "Checking fs01…"
    (response,) = stand_in.wait_for_response(1, timeout=20)
    assert response.body is not None
    assert response.body["response_type"] == "ephemeral"
    blocks = response.body["blocks"]
    check_blocks(blocks)
    text = _text(blocks)
    assert ":red_circle: fs01: CRITICAL" in text
    assert "Free at least 85 MB on D:" in text
    assert "'action_id': 'recheck'" in text
    assert socket_bot.contacted == [socket_bot.services.checks.resolve(["fs01"]).servers[0].address]


def test_public_posts_in_the_channel(stand_in: SlackStandIn, socket_bot: Bot) -> None:
    stand_in.deliver_slash_command(text="dc01 public").wait_ack(3.0)
    (response,) = stand_in.wait_for_response(1, timeout=20)
    assert response.body is not None
    assert response.body["response_type"] == "in_channel"


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("zzz99", "unknown server 'zzz99': it is not in the config's servers."),
        ("fs1", "unknown server 'fs1'. Did you mean fs01?"),
    ],
)
def test_an_unknown_name_is_answered_and_contacts_no_host(
    stand_in: SlackStandIn, socket_bot: Bot, text: str, answer: str
) -> None:
    ack = stand_in.deliver_slash_command(text=text).wait_ack(3.0)
    assert ack.payload == {"text": answer}
    time.sleep(0.2)
    assert socket_bot.contacted == []
    assert stand_in.responses() == []


@pytest.mark.parametrize("text", ["", "help", "rm -rf /", "x" * 5000, "🎉 \x07", "fs01; calc"])
def test_anything_but_server_names_gets_the_usage(
    stand_in: SlackStandIn, socket_bot: Bot, text: str
) -> None:
    ack = stand_in.deliver_slash_command(text=text).wait_ack(3.0)
    assert ack.payload is not None
    assert "/backupcheck all" in _text(ack.payload["blocks"])
    assert socket_bot.contacted == []


def test_several_servers_get_one_report_each_and_failures_say_why(
    stand_in: SlackStandIn, socket_bot: Bot
) -> None:
    stand_in.deliver_slash_command(text="fs01 fault-refused").wait_ack(3.0)
    responses = stand_in.wait_for_response(2, timeout=20)
    texts = sorted(_text(r.body) for r in responses)
    assert any("fs01: CRITICAL" in t for t in texts)
    assert any("connection refused by" in t for t in texts)


def test_all_checks_every_server_worst_first(stand_in: SlackStandIn, socket_bot: Bot) -> None:
    stand_in.deliver_slash_command(text="all").wait_ack(3.0)
    responses = stand_in.wait_for_response(4, timeout=30)
    assert len(responses) == 4  # one report per server: four servers fit in separate messages


def test_a_japanese_user_gets_japanese(stand_in: SlackStandIn, socket_bot: Bot) -> None:
    stand_in.users["U123"].locale = "ja-JP"
    ack = stand_in.deliver_slash_command(text="fs01").wait_ack(3.0)
    assert ack.payload == {"text": "fs01 をチェックしています…"}
    (response,) = stand_in.wait_for_response(1, timeout=20)
    assert "D: で少なくとも 85 MB を空けてください。" in _text(response.body)


def test_http_mode_acks_and_posts_the_report(
    stand_in: SlackStandIn, bot: Bot, http_url: str
) -> None:
    body = slash_command_body(text="fs01", response_url=stand_in.response_url())
    status, text, elapsed = post(http_url, body, sign(SIGNING_SECRET, body))
    assert (status, elapsed < 3.0) == (200, True), text
    assert text == "Checking fs01…"  # bolt answers a plain-text ack as text/plain
    (report,) = stand_in.wait_for_response(1, timeout=20)
    assert "Free at least 85 MB on D:" in _text(report.body)


@pytest.mark.parametrize("trouble", [{"drop": True}, {"delay": 5.0}], ids=["down", "slow"])
def test_when_slack_cannot_say_a_new_users_language_the_command_is_answered_in_the_default(
    stand_in: SlackStandIn, bot: Bot, http_url: str, trouble: dict[str, object]
) -> None:
    stand_in.users["U123"].locale = "ja-JP"
    stand_in.queue_response("users.info", **trouble)  # type: ignore[arg-type]
    body = slash_command_body(text="fs01", response_url=stand_in.response_url())
    status, text, elapsed = post(http_url, body, sign(SIGNING_SECRET, body))
    assert (status, text) == (200, "Checking fs01…")
    assert elapsed < 3.0  # Slack's deadline for the ack
    (report,) = stand_in.wait_for_response(1, timeout=20)
    assert "Free at least 85 MB on D:" in _text(report.body)


def test_http_mode_refuses_forged_unsigned_and_replayed_requests(
    stand_in: SlackStandIn, bot: Bot, http_url: str
) -> None:
    body = slash_command_body(text="fs01", response_url=stand_in.response_url())
    forged = sign("not-the-secret", body)
    replayed = sign(SIGNING_SECRET, body, timestamp=int(time.time()) - 301)
    for headers in (forged, {}, replayed):
        assert post(http_url, body, headers)[0] == 401
    assert (
        post(http_url.replace("/slack/events", "/elsewhere"), body, sign(SIGNING_SECRET, body))[0]
        == 404
    )
    time.sleep(0.2)
    assert bot.contacted == []


def test_a_user_outside_the_allowed_lists_is_refused_and_nothing_runs(
    stand_in: SlackStandIn, fleet: SimulatedFleet
) -> None:
    inventory = inventory_for(fleet, ["fs01"])
    config = Config.model_validate(
        {**inventory.model_dump(exclude_none=True), "slack": {"allowed_users": ["U777"]}}
    )
    contacted: list[str] = []
    app, services = build_app(
        config,
        bot_token=BOT_TOKEN,
        api_url=stand_in.api_url,
        collect=lambda server: contacted.append(server.name),  # type: ignore[func-returns-value,arg-type]
    )
    try:
        with socket_mode(stand_in, app):
            stand_in.wait_connected()
            ack = stand_in.deliver_slash_command(text="fs01", user_id="U123").wait_ack(3.0)
            assert ack.payload is not None
            assert ack.payload["text"].startswith("You are not allowed to run backupcheck here.")
            stand_in.deliver_block_action("recheck", value="fs01", user_id="U123").wait_ack(3.0)
            (refused,) = stand_in.wait_for_response(1, timeout=10)
            assert refused.body is not None
            assert refused.body["text"].startswith("You are not allowed")
    finally:
        services.checks.shutdown(wait=True)
    assert contacted == []


def test_payloads_the_bot_does_not_handle_never_stop_it(
    stand_in: SlackStandIn, socket_bot: Bot
) -> None:
    # bolt leaves events without a listener unacknowledged (Slack retries them), and moves on.
    stand_in.deliver_event(stand_in.message_event("hello"))
    stand_in.deliver_block_action("no-such-button", value="x")
    stand_in.deliver_block_action("recheck", value="").wait_ack(3.0)
    ack = stand_in.deliver_slash_command(text="dc01").wait_ack(3.0)
    assert ack.payload == {"text": "Checking dc01…"}


@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.text(max_size=300))
def test_fuzz_every_text_is_answered_and_no_unknown_host_is_contacted(
    stand_in: SlackStandIn, socket_bot: Bot, text: str
) -> None:
    ack = stand_in.deliver_slash_command(text=text).wait_ack(3.0)
    assert ack.payload is not None
    inventory = {s.address for s in socket_bot.services.checks.all_servers()}
    assert set(socket_bot.contacted) <= inventory


def test_windows_shows_each_servers_next_backup_and_check_time(
    stand_in: SlackStandIn, socket_bot: Bot
) -> None:
    ack = stand_in.deliver_slash_command(text="windows").wait_ack(3.0)
    assert ack.payload is not None
    (response,) = stand_in.wait_for_response(1, timeout=20)
    assert response.body is not None
    check_blocks(response.body["blocks"])
    text = _text(response.body["blocks"])
    assert "Backup windows, soonest first" in text
    assert "*fs01*  next backup Nov 24, 2026, 9:00:00" in text
    assert "*fault-refused*  not known" in text


def test_all_on_a_bigger_fleet_is_one_summary_updated_as_hosts_finish(
    stand_in: SlackStandIn, fleet: SimulatedFleet
) -> None:
    names = ["fs01", "dc01", "jp01", "fault-refused", "fault-http-401", "fault-garbage"]
    config = Config.model_validate(inventory_for(fleet, names).model_dump(exclude_none=True))
    app, services = build_app(
        config, bot_token=BOT_TOKEN, api_url=stand_in.api_url, environ=ENVIRON
    )
    try:
        with socket_mode(stand_in, app):
            stand_in.wait_connected()
            url = stand_in.response_url()
            ack = stand_in.deliver_slash_command(text="all", response_url=url).wait_ack(3.0)
            assert ack.payload == {"text": "Checking 6 servers…"}
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                posts = stand_in.responses()
                if posts and posts[-1].body and posts[-1].body["text"] == "6 servers, worst first":
                    break
                time.sleep(0.1)
    finally:
        services.checks.shutdown(wait=True)
    posts = stand_in.responses()
    assert 1 < len(posts) <= 5  # progress updates, then the final summary; a response_url takes 5
    final = posts[-1].body
    assert final is not None
    check_blocks(final["blocks"])
    lines = final["blocks"][1]["text"]["text"].splitlines()
    assert [line.split("*")[1] for line in lines] == [
        "dc01",
        "fs01",
        "fault-garbage",
        "fault-http-401",
        "fault-refused",
        "jp01",
    ]


def test_with_the_bots_history_each_volume_shows_its_trend(
    stand_in: SlackStandIn, alert_bot: AlertBot
) -> None:
    """Alerts keep the history: D:'s 410 MB a day shows beside its sizes, and C:, steady, too."""
    services = alert_bot.services
    server = services.checks.resolve(["fs01"]).servers[0]
    (report,) = services.checks.check([server], services.catalog_for("U1"))
    store_drain(alert_bot.alerting.service.history, report, "D:", 410 * MB)
    stand_in.deliver_slash_command(text="fs01").wait_ack(3.0)
    (response,) = stand_in.wait_for_response(1, timeout=20)
    assert response.body is not None
    blocks = response.body["blocks"]
    check_blocks(blocks)
    lines = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    d_line = next(line for line in lines if line.startswith("*D:*"))
    assert "trend: falls 410 MB/day" in d_line
    c_line = next(line for line in lines if line.startswith("*C:*"))
    assert "trend: steady" in c_line


def test_without_alerts_there_is_no_history_and_no_trend(
    stand_in: SlackStandIn, socket_bot: Bot
) -> None:
    stand_in.deliver_slash_command(text="fs01").wait_ack(3.0)
    (response,) = stand_in.wait_for_response(1, timeout=20)
    assert response.body is not None
    assert "trend:" not in _text(response.body["blocks"])


def test_a_full_check_queue_answers_try_again_and_queues_nothing(
    stand_in: SlackStandIn, held_bot: HeldBot
) -> None:
    answers = []
    for _ in range(4):  # one running, two waiting, and one too many
        body = slash_command_body(text="fs01", response_url=stand_in.response_url())
        answers.append(post(held_bot.url, body, sign(SIGNING_SECRET, body))[1])
        eventually(lambda: held_bot.contacted != [])
    assert answers[:3] == ["Checking fs01…"] * 3
    assert answers[3] == "2 checks are already waiting for their turn; try again in a minute."
    held_bot.release.set()
    assert len(stand_in.wait_for_response(3, timeout=30)) == 3
    time.sleep(0.3)
    assert len(stand_in.responses()) == 3
    assert held_bot.contacted == ["fs01"] * 3
