"""HTTP mode under abuse, over a real socket against serve's own server (short timeouts here):
oversized, half-sent, malformed and replayed requests get 413, a dropped connection, 400 or
401, never a 500 or a thread per connection."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from bot.slack.http import EVENTS_PATH, MAX_BODY_BYTES, HttpLimits, HttpServer, make_http_server
from tests.bot.conftest import SIGNING_SECRET, Bot
from tests.support.slack_abuse import MIB, dropped_within, half_sent, huge_body, read_status
from tests.support.slack_abuse import request_head as head
from tests.support.slack_signing import FORM_CONTENT_TYPE, post, sign, slash_command_body

pytestmark = pytest.mark.timeout(90)
LIMITS = HttpLimits(channel_timeout_s=1, cleanup_interval_s=1, threads=4, connections=400)


@pytest.fixture
def server(bot: Bot) -> Iterator[HttpServer]:
    """serve's HTTP server for the bot, on a free loopback port, with a 1 s channel timeout."""
    running = make_http_server(bot.app, 0, "127.0.0.1", LIMITS)
    thread = threading.Thread(target=running.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield running
    finally:
        running.shutdown()
        thread.join(timeout=5)


def _url(server: HttpServer) -> str:
    return f"http://127.0.0.1:{server.server_port}{EVENTS_PATH}"


def _waitress_threads() -> int:
    return sum(t.name.startswith("waitress") for t in threading.enumerate())


def test_a_body_declared_over_1_mib_is_refused_before_a_byte_of_it_is_sent(
    server: HttpServer,
) -> None:
    with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as sock:
        sock.sendall(head(200 * MIB))  # the headers only: the answer cannot wait for the body
        assert read_status(sock) == 413
    with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as sock:
        sock.sendall(head(MAX_BODY_BYTES + 1))
        assert read_status(sock) == 413


def test_a_body_of_exactly_1_mib_is_read_and_reaches_the_signature_check(
    server: HttpServer,
) -> None:
    body = b"text=" + b"a" * (MAX_BODY_BYTES - 5)
    assert post(_url(server), body, {})[0] == 401


def test_a_chunked_body_is_refused_once_it_passes_1_mib(server: HttpServer) -> None:
    assert huge_body(server.server_port, 200 * MIB, chunked=True) == 413


def test_parallel_200_mb_bodies_are_refused_and_the_server_still_answers(
    server: HttpServer, bot: Bot
) -> None:
    statuses: list[int] = []

    def attack(chunked: bool) -> None:
        statuses.append(huge_body(server.server_port, 200 * MIB, chunked=chunked))

    attackers = [threading.Thread(target=attack, args=(n % 2 == 1,)) for n in range(4)]
    for attacker in attackers:
        attacker.start()
    for attacker in attackers:
        attacker.join(timeout=60)
    assert statuses == [413] * 4
    body = slash_command_body(text="help")
    assert post(_url(server), body, sign(SIGNING_SECRET, body))[0] == 200


NOT_UTF8 = b"command=%2Fbackupcheck&text=\xff\xfe&user_id=U123"
NOT_JSON = b"payload=%7Bnot-json"
FORM = b"command=%2Fbackupcheck&text=fs01&user_id=U123"
TIMESTAMP = "X-Slack-Request-Timestamp"


@pytest.mark.parametrize(
    ("body", "content_type", "signed", "changed", "status"),
    [
        pytest.param(FORM, FORM_CONTENT_TYPE, True, {TIMESTAMP: "soon"}, 400, id="timestamp"),
        pytest.param(FORM, FORM_CONTENT_TYPE, True, {TIMESTAMP: "1_7"}, 400, id="underscores"),
        pytest.param(NOT_UTF8, FORM_CONTENT_TYPE, True, {}, 400, id="not-utf8"),
        pytest.param(NOT_JSON, FORM_CONTENT_TYPE, True, {}, 400, id="payload-not-json"),
        pytest.param(b"[1, 2]", "application/json", True, {}, 400, id="json-list"),
        pytest.param(
            FORM, FORM_CONTENT_TYPE, True, {"X-Slack-Signature": "v0=\xe9"}, 401, id="not-ascii"
        ),
        pytest.param(FORM, FORM_CONTENT_TYPE, False, {}, 401, id="unsigned"),
    ],
)
def test_malformed_requests_get_400_or_401_never_500(
    server: HttpServer,
    bot: Bot,
    body: bytes,
    content_type: str,
    signed: bool,
    changed: dict[str, str],
    status: int,
) -> None:
    # Signed here, not at collection: a long run must not push it out of the 5-minute window.
    headers = {"Content-Type": content_type, **(sign(SIGNING_SECRET, body) if signed else {})}
    response = requests.post(_url(server), data=body, headers={**headers, **changed}, timeout=10)
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text
    assert bot.contacted == []


def test_only_post_to_the_events_path_is_served(server: HttpServer) -> None:
    assert requests.get(_url(server), timeout=10).status_code == 405
    other = _url(server).replace(EVENTS_PATH, "/elsewhere")
    assert requests.post(other, data=b"", timeout=10).status_code == 404


def test_300_half_sent_bodies_hold_no_thread_and_are_dropped_after_the_channel_timeout(
    bot: Bot, server: HttpServer
) -> None:
    help_body = slash_command_body(text="help")
    assert post(_url(server), help_body, sign(SIGNING_SECRET, help_body))[0] == 200
    threads_before = threading.active_count()

    stalled = half_sent(server.server_port, 300)
    try:
        threads_during = threading.active_count()
        meanwhile = slash_command_body(text="help", user_id="U124")  # not a replay of the first
        status, _, seconds = post(_url(server), meanwhile, sign(SIGNING_SECRET, meanwhile))
        dropped = dropped_within(stalled, 20)
    finally:
        for sock in stalled:
            sock.close()

    assert _waitress_threads() == LIMITS.threads
    # On wsgiref each connection held a thread: 300 more. The loopback Slack's own threads come
    # and go with the bot's Web API calls, hence the small allowance.
    assert threads_during <= threads_before + 2
    assert (status, seconds < 3) == (200, True)  # Slack still gets its answer meanwhile
    assert dropped == 300


def test_shutdown_is_prompt_with_stalled_and_keep_alive_connections_open(bot: Bot) -> None:
    running = make_http_server(bot.app, 0, "127.0.0.1", LIMITS)
    thread = threading.Thread(target=running.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    port = running.server_port
    session = requests.Session()  # keeps its connection alive after the answer
    body = slash_command_body(text="help")
    assert session.post(_url(running), data=body, headers=sign(SIGNING_SECRET, body)).ok
    stalled = half_sent(port, 20)

    started = time.monotonic()
    running.shutdown()
    thread.join(timeout=5)

    assert time.monotonic() - started < 2
    assert not thread.is_alive()
    assert not running.is_serving()
    assert dropped_within(stalled, 5) == 20
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    session.close()
