"""The Slack stand-in works with unmodified slack_sdk and slack-bolt over real sockets."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt import App
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.webhook import WebhookClient

from .slack_api import APP_TOKEN, BOT_TOKEN, SlackStandIn
from .slack_blocks import check_blocks
from .slack_harness import bolt_app, http_server, socket_mode, web_client
from .slack_signing import block_action_body, post, sign, slash_command_body

pytestmark = pytest.mark.timeout(30)

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # noqa: S105 - Slack's documented example
REVOKED_TOKEN = "xoxb-revoked"  # noqa: S105
BUTTON = {
    "type": "button",
    "action_id": "recheck",
    "value": "fs01",
    "text": {"type": "plain_text", "text": "Check again"},
}
MESSAGE_BLOCKS: list[dict[str, Any]] = [
    {"type": "header", "text": {"type": "plain_text", "text": "fs01: D: is 97% full"}},
    {
        "type": "section",
        "text": {"type": "mrkdwn", "text": "*D:* needs *12 GB* free for the VSS snapshot."},
        "fields": [
            {"type": "mrkdwn", "text": "*Free*\n3 GB"},
            {"type": "mrkdwn", "text": "*Size*"},
        ],
        "accessory": BUTTON,
    },
    {"type": "divider"},
    {"type": "actions", "elements": [BUTTON]},
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "checked 10:00 UTC"}]},
]


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 3
    while (extra := set(threading.enumerate()) - before) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not extra, f"threads left running: {sorted(t.name for t in extra)}"


@pytest.fixture
def app(stand_in: SlackStandIn) -> Iterator[App]:
    with bolt_app(stand_in) as bolt:
        yield bolt


# --- Web API ---------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["json", "form"])
def test_post_message_is_recorded_with_blocks_parsed(stand_in: SlackStandIn, encoding: str) -> None:
    client = web_client(stand_in)
    if encoding == "json":
        response = client.chat_postMessage(channel="C123", text="fs01", blocks=MESSAGE_BLOCKS)
    else:
        params = {"channel": "C123", "text": "fs01", "blocks": json.dumps(MESSAGE_BLOCKS)}
        response = client.api_call("chat.postMessage", params=params)

    (call,) = stand_in.calls("chat.postMessage")
    assert call.token == BOT_TOKEN
    assert call.params["blocks"] == MESSAGE_BLOCKS
    assert response["channel"] == "C123"
    second = client.chat_postMessage(channel="C123", text="again")
    assert float(second["ts"]) > float(response["ts"])
    assert all(b["block_id"] for b in response["message"]["blocks"])


def test_invalid_token_answers_invalid_auth(stand_in: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as raised:
        web_client(stand_in, token=REVOKED_TOKEN).chat_postMessage(channel="C123", text="x")
    assert raised.value.response["error"] == "invalid_auth"
    assert stand_in.calls()[0].token == REVOKED_TOKEN


def test_token_types_and_unknown_methods(stand_in: SlackStandIn) -> None:
    client = web_client(stand_in)
    with pytest.raises(SlackApiError, match="not_allowed_token_type"):
        client.apps_connections_open(app_token=BOT_TOKEN)
    assert client.apps_connections_open(app_token=APP_TOKEN)["url"].startswith("ws://127.0.0.1:")
    with pytest.raises(SlackApiError, match="unknown_method"):
        client.api_call("backups.check")


def test_rate_limit_is_retried_after_retry_after(stand_in: SlackStandIn) -> None:
    stand_in.queue_response("chat.postMessage", status=429, headers={"Retry-After": "1"})
    client = web_client(stand_in, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])

    assert client.chat_postMessage(channel="C123", text="fs01")["ok"]

    first, second = stand_in.calls("chat.postMessage")
    assert (first.status, first.response) == (429, {"ok": False, "error": "ratelimited"})
    assert second.status == 200
    assert second.at - first.at >= 1.0


def test_server_error_is_retried(stand_in: SlackStandIn) -> None:
    stand_in.queue_response("chat.update", status=503, body="<html>Service Unavailable</html>")
    # A fixed short interval: the default backoff would only slow the suite down.
    retry = ServerErrorRetryHandler(1, FixedValueRetryIntervalCalculator(0.1))
    client = web_client(stand_in, retry_handlers=[retry])
    ts = client.chat_postMessage(channel="C123", text="checking")["ts"]

    assert client.chat_update(channel="C123", ts=ts, text="done")["ok"]
    assert [c.status for c in stand_in.calls("chat.update")] == [503, 200]


def test_scripted_errors_and_dropped_connections(stand_in: SlackStandIn) -> None:
    client = web_client(stand_in)
    stand_in.queue_response("chat.postMessage", body={"ok": False, "error": "channel_not_found"})
    with pytest.raises(SlackApiError, match="channel_not_found"):
        client.chat_postMessage(channel="C404", text="x")
    # slack_sdk's default ConnectionErrorRetryHandler retries a dropped connection once.
    stand_in.queue_response("chat.postMessage", drop=True)
    assert client.chat_postMessage(channel="C123", text="x")["ok"]
    assert [c.status for c in stand_in.calls("chat.postMessage")] == [200, 0, 200]


def test_users_info_returns_locale_only_when_asked(stand_in: SlackStandIn) -> None:
    stand_in.users["U123"].locale = "ja-JP"
    client = web_client(stand_in)

    assert client.users_info(user="U123", include_locale=True)["user"]["locale"] == "ja-JP"
    assert "locale" not in client.users_info(user="U123")["user"]
    with pytest.raises(SlackApiError, match="user_not_found"):
        client.users_info(user="U404")


def test_directory_methods(stand_in: SlackStandIn) -> None:
    client = web_client(stand_in)
    stand_in.channels["C123"].members = ["U1", "U2", "U3"]
    members = [
        m for page in client.conversations_members(channel="C123", limit=2) for m in page["members"]
    ]
    assert members == ["U1", "U2", "U3"]
    assert client.conversations_info(channel="C123")["channel"]["name"] == "ops"
    assert client.conversations_join(channel="C123")["warning"] == "already_in_channel"
    assert client.usergroups_users_list(usergroup="S123")["users"] == ["U123"]
    permalink = client.chat_getPermalink(channel="C123", message_ts="1732500000.000100")
    assert permalink["permalink"].endswith("/archives/C123/p1732500000000100")
    assert client.chat_postEphemeral(channel="C123", user="U1", text="x")["message_ts"]


def test_response_url_takes_five_posts(stand_in: SlackStandIn) -> None:
    url = stand_in.response_url("cmd")
    webhook = WebhookClient(url)
    statuses = [webhook.send(text=f"update {n}").status_code for n in range(6)]

    assert statuses == [200] * 5 + [404]
    assert json.loads(webhook.send(text="again").body)["error"] == "used_too_many_times"
    assert [(p.body or {}).get("text") for p in stand_in.responses(url)[:2]] == [
        "update 0",
        "update 1",
    ]


# --- Socket Mode -----------------------------------------------------------------------------


def test_slash_command_is_acked_and_respond_lands(stand_in: SlackStandIn, app: App) -> None:
    @app.command("/backupcheck")
    def check(ack: Any, respond: Any, command: dict[str, Any]) -> None:
        ack(f"Checking {command['text']}...")
        respond(f"{command['text']}: all volumes have room")

    with socket_mode(stand_in, app):
        delivery = stand_in.deliver_slash_command("/backupcheck", "fs01")
        ack = delivery.wait_ack(timeout=3.0)
        (posted,) = stand_in.wait_for_response()

    assert ack.elapsed < 3.0
    assert ack.payload == {"text": "Checking fs01..."}
    assert delivery.payload["is_enterprise_install"] == "false"
    assert posted.id == delivery.payload["response_url"].rsplit("/", 1)[-1]
    assert posted.body == {"text": "fs01: all volumes have room"}
    assert stand_in.calls("apps.connections.open")[0].token == APP_TOKEN


def test_block_action_and_thread_message_reach_listeners(stand_in: SlackStandIn, app: App) -> None:
    clicks: list[dict[str, Any]] = []
    replies: list[dict[str, Any]] = []

    @app.action("recheck")
    def recheck(ack: Any, body: dict[str, Any]) -> None:
        clicks.append(body)
        ack()

    @app.event("message")
    def reply(event: dict[str, Any]) -> None:
        replies.append(event)

    posted = web_client(stand_in).chat_postMessage(channel="C123", text="x", blocks=MESSAGE_BLOCKS)

    with socket_mode(stand_in, app):
        stand_in.deliver_block_action("recheck", "fs01", message_ts=posted["ts"]).wait_ack()
        event = stand_in.message_event("fs01 again?", thread_ts=posted["ts"])
        stand_in.deliver_event(event).wait_ack()
        deadline = time.monotonic() + 3
        while not replies and time.monotonic() < deadline:
            time.sleep(0.02)

    (click,) = clicks
    assert click["actions"][0]["value"] == "fs01"
    assert click["actions"][0]["block_id"] == posted["message"]["blocks"][1]["block_id"]
    assert click["message"]["ts"] == posted["ts"]
    assert [r["thread_ts"] for r in replies] == [posted["ts"]]


def test_client_reconnects_after_disconnect(stand_in: SlackStandIn, app: App) -> None:
    app.command("/backupcheck")(lambda ack: ack("ok"))

    with socket_mode(stand_in, app):
        stand_in.wait_connected()
        assert stand_in.disconnect_all() == 1
        session = stand_in.wait_connected(count=2)
        ack = stand_in.deliver_slash_command().wait_ack()

    assert ack.session == session.number == 2
    assert len(stand_in.calls("apps.connections.open")) == 2


def test_timeouts_say_what_did_arrive(stand_in: SlackStandIn, app: App) -> None:
    with socket_mode(stand_in, app):
        # No listener for this command: bolt answers 404 internally and sends no ack.
        delivery = stand_in.deliver_slash_command("/nobody-listens")
        with pytest.raises(AssertionError, match=f"no ack for envelope {delivery.envelope_id}"):
            delivery.wait_ack(timeout=0.3)
        with pytest.raises(AssertionError, match=r"calls so far: auth\.test x1"):
            stand_in.wait_for("chat.update", timeout=0.1)


# --- HTTP mode -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (lambda body: sign(SIGNING_SECRET, body), 200),
        (lambda body: sign("not-the-secret", body), 401),
        (lambda body: {}, 401),
        (lambda body: sign(SIGNING_SECRET, body, int(time.time()) - 5 * 60 - 1), 401),
    ],
    ids=["signed", "forged", "unsigned", "replayed"],
)
def test_http_mode_checks_signatures(stand_in: SlackStandIn, headers: Any, expected: int) -> None:
    with bolt_app(stand_in, signing_secret=SIGNING_SECRET) as app:
        app.command("/backupcheck")(lambda ack, command: ack(f"Checking {command['text']}"))
        app.action("recheck")(lambda ack: ack())
        with http_server(app) as url:
            body = slash_command_body(text="fs01", response_url=stand_in.response_url())
            status, text, elapsed = post(url, body, headers(body))
            action = block_action_body("recheck", "fs01")
            action_status, _, _ = post(url, action, headers(action))

    assert (status, action_status) == (expected, expected)
    assert elapsed < 3.0
    if expected == 200:
        assert text == "Checking fs01"


# --- Block Kit -------------------------------------------------------------------------------


def test_check_blocks_accepts_a_valid_message() -> None:
    assert [b.type for b in check_blocks(MESSAGE_BLOCKS)] == [
        "header",
        "section",
        "divider",
        "actions",
        "context",
    ]


@pytest.mark.parametrize(
    ("blocks", "message"),
    [
        ([{"type": "divider"}] * 51, "at most 50 blocks"),
        (
            [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
            re.escape("block 0 (section): text is 3001 long, over the limit of 3000"),
        ),
        (
            [
                {"type": "divider"},
                {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}},
            ],
            re.escape("block 1 (header): header text is 151 long, over the limit of 150"),
        ),
        ([{"type": "actions", "elements": [{**BUTTON, "value": "v" * 2001}]}], "button value"),
        ([{"type": "actions", "elements": [BUTTON] * 26}], "elements is 26 long"),
        ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}], "fields is 11"),
        ([{"type": "carousel_of_doom"}], "unknown block type"),
        ([{"type": "section", "text": "bare string"}], "must be a text object"),
    ],
)
def test_check_blocks_rejects_what_slack_rejects(
    blocks: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(AssertionError, match=message):
        check_blocks(blocks)


def test_post_message_with_invalid_blocks_answers_invalid_blocks(stand_in: SlackStandIn) -> None:
    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        web_client(stand_in).chat_postMessage(channel="C123", text="x", blocks=too_long)
