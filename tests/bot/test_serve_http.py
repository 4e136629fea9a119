"""`backupcheck serve --mode http` as a real process under abuse: parallel 200 MB bodies leave its
peak memory where it was, 300 half-sent bodies take no thread, and SIGTERM still stops it at
once. Memory and threads are read from /proc."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot.health import ask_health
from tests.bot.conftest import BACKUPCHECK, SIGNING_SECRET
from tests.conftest import PASSWORD, USER
from tests.support.fleet import SimulatedFleet
from tests.support.slack_abuse import MIB, half_sent, huge_body, process_status
from tests.support.slack_api import BOT_TOKEN, SlackStandIn
from tests.support.slack_signing import post, sign, slash_command_body

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc"),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Served:
    """The running process and where it listens."""

    def __init__(self, process: subprocess.Popen[str], port: int, health_port: int) -> None:
        self.process, self.port, self.health_port = process, port, health_port
        self.url = f"http://127.0.0.1:{port}/slack/events"

    def status(self, field: str) -> int:
        return process_status(self.process.pid, field)


@pytest.fixture
def served(stand_in: SlackStandIn, fleet: SimulatedFleet, tmp_path: Path) -> Iterator[Served]:
    """`backupcheck serve --mode http --host 127.0.0.1` with fs01, answering on a free port."""
    port, health_port = _free_port(), _free_port()
    address, winrm_port = fleet.address_of("fs01")
    config = tmp_path / "backupcheck.yaml"
    settings = {
        "credentials": {"reader": {"username": USER, "password_env": "WINRM_PASSWORD"}},
        "defaults": {"credential": "reader"},
        "servers": [{"name": "fs01", "address": address, "port": winrm_port}],
        "slack": {"health_port": health_port},
    }
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    environment = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": stand_in.api_url,
        "WINRM_PASSWORD": PASSWORD,
    }
    args = ["serve", "--mode", "http", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        [str(BACKUPCHECK), *args, "--config", str(config)],
        env=environment,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    running = Served(process, port, health_port)
    try:
        deadline = time.monotonic() + 60
        while ask_health(health_port, timeout=1) is None:
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)
        yield running
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def _help(served: Served, user: str) -> int:
    body = slash_command_body(text="help", user_id=user)
    return post(served.url, body, sign(SIGNING_SECRET, body))[0]


def test_parallel_200_mb_bodies_leave_the_peak_memory_where_it_was(served: Served) -> None:
    assert _help(served, "U1") == 200
    peak_before = served.status("VmHWM")

    statuses: list[int] = []

    def attack(chunked: bool) -> None:
        statuses.append(huge_body(served.port, 200 * MIB, chunked=chunked))

    # Four with a declared length (refused on the headers) and four chunked (refused at 1 MiB).
    attackers = [threading.Thread(target=attack, args=(n >= 4,)) for n in range(8)]
    for attacker in attackers:
        attacker.start()
    for attacker in attackers:
        attacker.join(timeout=90)

    grown_mib = (served.status("VmHWM") - peak_before) / 1024
    print(f"peak RSS {peak_before / 1024:.0f} MiB before, +{grown_mib:.1f} MiB after")
    assert statuses == [413] * 8
    assert grown_mib < 32  # wsgiref read every body whole: +1.1 GB for four of them
    assert _help(served, "U2") == 200


def test_300_half_sent_bodies_take_no_thread_and_sigterm_still_stops_it_at_once(
    served: Served,
) -> None:
    assert _help(served, "U1") == 200
    threads_before = served.status("Threads")
    stalled = half_sent(served.port, 300)
    try:
        time.sleep(0.5)  # let the server accept what it will
        threads_during = served.status("Threads")
        health = ask_health(served.health_port)
        started = time.monotonic()
        served.process.send_signal(signal.SIGTERM)
        output, _ = served.process.communicate(timeout=30)
        stopped_in = time.monotonic() - started
    finally:
        for sock in stalled:
            sock.close()
    print(f"threads {threads_before} before, {threads_during} with 300 half-sent bodies")
    assert threads_during <= threads_before + 2  # wsgiref: one thread per connection
    assert health is not None
    assert health.slack == "connected"
    assert served.process.returncode == 0, output
    assert stopped_in < 5, output
    assert "received signal 15, stopping" in output
