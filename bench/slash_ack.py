"""Benchmark: how fast HTTP mode acks slash commands while slow checks run.

    uv run python bench/slash_ack.py [--commands 200] [--concurrency 50] [--latency-ms 1000]

Sends signed `/backupcheck HOST` requests to the bot's own HTTP server while every check runs
against simulated hosts that take `latency-ms` per request, and prints the time to HTTP 200.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import Config  # noqa: E402
from bot.serve import make_http_server  # noqa: E402
from bot.slack.app import build_app  # noqa: E402
from tests.support.fleet import SimulatedFleet  # noqa: E402
from tests.support.fleet_profiles import HostProfile, load_profile  # noqa: E402
from tests.support.slack_api import BOT_TOKEN, SlackStandIn  # noqa: E402
from tests.support.slack_signing import post, sign, slash_command_body  # noqa: E402

USER, PASSWORD = "svc-backupcheck", "Bench-Password-1"
SECRET = "bench-signing-secret"  # noqa: S105 - the benchmark's throwaway secret


def serve(names: list[str], latency_ms: int, pipe: Connection) -> None:
    """Child process: slow simulated hosts, until told to stop."""
    seed = load_profile(ROOT / "tests" / "fixtures" / "hosts" / "fs01.json")
    profile = HostProfile(snapshot=seed.snapshot, latency_ms=latency_ms, fault=None)
    with SimulatedFleet({n: profile for n in names}, users={USER: PASSWORD}) as fleet:
        pipe.send({n: fleet.address_of(n) for n in names})
        pipe.recv()


def send(url: str, bodies: list[bytes], concurrency: int, pipe: Connection) -> None:
    """Child process: plays Slack, posting the signed requests and timing each HTTP 200."""

    def one(body: bytes) -> tuple[int, float]:
        status, _, elapsed = post(url, body, sign(SECRET, body))
        return status, elapsed

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as senders:
        results = list(senders.map(one, bodies))
    pipe.send((results, time.perf_counter() - started))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--latency-ms", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--text", default="", help="command text (default: a host name)")
    args = parser.parse_args()

    names = [f"host{n:02}" for n in range(args.hosts)]
    ours, child = multiprocessing.Pipe()
    hosts = multiprocessing.Process(target=serve, args=(names, args.latency_ms, child))
    hosts.start()
    child.close()
    addresses = ours.recv()
    config = Config.model_validate(
        {
            "defaults": {"credential": "bench", "operation_timeout_s": 20, "read_timeout_s": 30},
            "credentials": {"bench": {"username": USER, "password_env": "BENCH_PASSWORD"}},
            "servers": [
                {"name": n, "address": addresses[n][0], "port": addresses[n][1]} for n in names
            ],
            "slack": {"use_user_locale": False},
        }
    )
    with SlackStandIn() as slack:
        app, services = build_app(
            config,
            bot_token=BOT_TOKEN,
            signing_secret=SECRET,
            api_url=slack.api_url,
            environ={"BENCH_PASSWORD": PASSWORD},
        )
        server = make_http_server(app, 0, "127.0.0.1")
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}/slack/events"

        bodies = [
            slash_command_body(
                text=args.text or names[n % len(names)], response_url=slack.response_url()
            )
            for n in range(args.commands)
        ]
        # Slack is another machine: the senders run in a process of their own, not under our GIL.
        theirs, pipe = multiprocessing.Pipe()
        sender = multiprocessing.Process(target=send, args=(url, bodies, args.concurrency, pipe))
        sender.start()
        pipe.close()
        results, sending = theirs.recv()
        sender.join()
        reports_so_far = len(slack.responses())
        server.shutdown()
        # Drop the queued checks; let the running ones answer before the stand-in goes away.
        services.checks.shutdown(wait=True, cancel_queued=True)
    ours.send("stop")
    hosts.join(timeout=30)

    times = sorted(elapsed * 1000 for _, elapsed in results)
    ok = sum(status == 200 for status, _ in results)
    print(
        f"{args.commands} signed slash commands, {args.concurrency} at a time, hosts answering "
        f"each request after {args.latency_ms} ms"
    )
    print(f"HTTP 200: {ok} of {args.commands}; all sent in {sending:.2f} s")
    print(
        f"time to HTTP 200: p50 {statistics.median(times):.1f} ms, "
        f"p99 {times[int(len(times) * 0.99) - 1]:.1f} ms, max {times[-1]:.1f} ms "
        "(Slack allows 3,000 ms)"
    )
    print(f"check results posted meanwhile: {reports_so_far} (the checks go on in their own pool)")


if __name__ == "__main__":
    main()
