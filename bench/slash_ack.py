"""Benchmark: how fast HTTP mode acks slash commands while slow checks run.

    uv run python bench/slash_ack.py [--commands 1000] [--concurrency 50] [--rounds 9]
        [--latency-ms 1000] [--queue-limit N] [--control]

Sends signed `/backupcheck HOST` requests to the bot's own HTTP server while every check runs
against simulated hosts that take `latency-ms` per request, and prints the time to HTTP 200,
against a floor measured in the same run: a bare bolt app that only acks, served the same way.
The sender keeps one connection per thread open, as Slack's senders do. The bot runs as
`serve` runs it: its start-up heap settled (bot.serve.settle_heap) and its check queue bounded
by slack.check_queue_limit, so commands beyond it are told to try again (counted apart).
`--control` serves the bare app in our place too, while our app's checks run beside them as in
a real run: the ratio it prints is the bench's own resolution (the alternation's bias and the
rounds' spread), against which ours is read.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import multiprocessing
import queue
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from slack_bolt import Ack, App  # noqa: E402
from slack_sdk import WebClient  # noqa: E402

from bench.cores import pin, split_cores  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.serve import make_http_server, settle_heap  # noqa: E402
from bot.slack.app import build_app  # noqa: E402
from tests.support.fleet import SimulatedFleet  # noqa: E402
from tests.support.fleet_profiles import HostProfile, load_profile  # noqa: E402
from tests.support.slack_api import BOT_TOKEN, SlackStandIn  # noqa: E402
from tests.support.slack_signing import (  # noqa: E402
    FORM_CONTENT_TYPE,
    SLACK_USER_AGENT,
    sign,
    slash_command_body,
)

USER, PASSWORD = "svc-backupcheck", "Bench-Password-1"
SECRET = "bench-signing-secret"  # noqa: S105 - the benchmark's throwaway secret


def serve(names: list[str], latency_ms: int, pipe: Connection, cores: set[int] | None) -> None:
    """Child process: slow simulated hosts and Slack's Web API, until told to stop."""
    pin(cores)
    seed = load_profile(ROOT / "tests" / "fixtures" / "hosts" / "fs01.json")
    profile = HostProfile(snapshot=seed.snapshot, latency_ms=latency_ms, fault=None)
    with (
        SimulatedFleet({n: profile for n in names}, users={USER: PASSWORD}) as fleet,
        SlackStandIn() as slack,
    ):
        pipe.send(({n: fleet.address_of(n) for n in names}, slack.api_url))
        while (asked := pipe.recv()) != "stop":
            if asked == "responses":
                pipe.send(len(slack.responses()))
            else:
                pipe.send([slack.response_url() for _ in range(asked)])


def send(
    port: int, bodies: list[bytes], concurrency: int, pipe: Connection, cores: set[int] | None
) -> None:
    """Child process: plays Slack, posting the signed requests and timing each HTTP 200."""
    pin(cores)
    # Slack's senders keep their connections open: each is opened and used once before the
    # clock starts, so no round times TCP set-up or waitress taking on 50 new connections.
    idle: queue.SimpleQueue[http.client.HTTPConnection] = queue.SimpleQueue()
    for _ in range(concurrency):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/slack/events")  # 405 from the gate, before bolt
        connection.getresponse().read()
        idle.put(connection)
    local = threading.local()

    def one(body: bytes) -> tuple[int, float, bool]:
        if not hasattr(local, "connection"):
            local.connection = idle.get()
        headers = {"Content-Type": FORM_CONTENT_TYPE, "User-Agent": SLACK_USER_AGENT}
        started = time.perf_counter()
        local.connection.request(
            "POST", "/slack/events", body, headers={**headers, **sign(SECRET, body)}
        )
        response = local.connection.getresponse()
        queued = response.read().startswith(b"Checking")
        return response.status, time.perf_counter() - started, queued

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as senders:
        results = list(senders.map(one, bodies))
    pipe.send((results, time.perf_counter() - started))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--latency-ms", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument(
        "--queue-limit", type=int, default=None, help="slack.check_queue_limit (default: its own)"
    )
    parser.add_argument(
        "--control", action="store_true", help="the bare app in both places (an A/A run)"
    )
    parser.add_argument("--text", default="", help="command text (default: a host name)")
    args = parser.parse_args()

    # waitress warns each time a request waits for a thread: 50 senders on 8 threads always do.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    names = [f"host{n:02}" for n in range(args.hosts)]
    ours, child = multiprocessing.Pipe()
    # Slack and the hosts are other machines: with two cores or more, they get a core of their
    # own and the bot the others, as on a server.
    pinned = split_cores()
    apart = pinned[1] if pinned else None
    hosts = multiprocessing.Process(target=serve, args=(names, args.latency_ms, child, apart))
    hosts.start()
    child.close()
    addresses, api_url = ours.recv()
    pin(pinned[0] if pinned else None)
    config = Config.model_validate(
        {
            "defaults": {"credential": "bench", "operation_timeout_s": 20, "read_timeout_s": 30},
            "credentials": {"bench": {"username": USER, "password_env": "BENCH_PASSWORD"}},
            "servers": [
                {"name": n, "address": addresses[n][0], "port": addresses[n][1]} for n in names
            ],
            "slack": {"use_user_locale": False}
            | ({} if args.queue_limit is None else {"check_queue_limit": args.queue_limit}),
        }
    )
    app, services = build_app(
        config,
        bot_token=BOT_TOKEN,
        signing_secret=SECRET,
        api_url=api_url,
        environ={"BENCH_PASSWORD": PASSWORD},
    )

    def bodies() -> list[bytes]:
        ours.send(args.commands)  # response URLs, from the Slack stand-in
        return [
            slash_command_body(text=args.text or names[n % len(names)], response_url=url)
            for n, url in enumerate(ours.recv())
        ]

    # Each server gets a round to warm up (imports, first connections) before the one timed.
    bare = make_http_server(bare_app(api_url), 0, "127.0.0.1")
    ours_ = make_http_server(bare_app(api_url) if args.control else app, 0, "127.0.0.1")
    settle_heap()  # as serve does once the App is built; the bare app gains from it alike
    for server in (bare, ours_):
        threading.Thread(target=server.serve_forever, daemon=True).start()
        timed_sends(server.server_port, bodies(), args.concurrency, apart)
    if args.control:
        # The control runs under the same load as a real run: our app fills its check queue
        # and its workers check the slow hosts throughout, beside the two bare apps timed.
        ours_app = make_http_server(app, 0, "127.0.0.1")
        threading.Thread(target=ours_app.serve_forever, daemon=True).start()
        timed_sends(ours_app.server_port, bodies(), args.concurrency, apart)
    # Rounds alternate, so that a busy moment of the machine weighs on both, and which goes
    # first alternates too (the second of a pair runs measurably faster). A p99 of one
    # round's 1,000 requests is its tenth slowest, which one hiccup moves: the figures are
    # taken over every round's requests together.
    rounds: list[tuple[list[float], list[float]]] = []
    queued = 0
    for n in range(args.rounds):
        if n % 2:
            results, _ = timed_sends(ours_.server_port, bodies(), args.concurrency, apart)
            bare_results, _ = timed_sends(bare.server_port, bodies(), args.concurrency, apart)
        else:
            bare_results, _ = timed_sends(bare.server_port, bodies(), args.concurrency, apart)
            results, _ = timed_sends(ours_.server_port, bodies(), args.concurrency, apart)
        rounds.append((ms(results), ms(bare_results)))
        queued += sum(q for _, _, q in results)
    bare.shutdown()
    server = ours_
    ours.send("responses")
    reports_so_far = ours.recv()
    server.shutdown()
    # Drop the queued checks; let the running ones answer before the stand-in goes away.
    services.checks.shutdown(wait=True, cancel_queued=True)
    ours.send("stop")
    hosts.join(timeout=30)

    ours_all = [t for r in rounds for t in r[0]]
    bare_all = [t for r in rounds for t in r[1]]
    ours_p99, bare_p99 = p99(ours_all), p99(bare_all)
    ours_p50, bare_p50 = statistics.median(ours_all), statistics.median(bare_all)
    # The spread of the ratio from round to round: how far one round's p99 can be trusted.
    per_round = sorted(p99(r[0]) / p99(r[1]) for r in rounds)
    ok = len(ours_all)  # ms() keeps only the HTTP 200s
    print(
        f"{args.commands} signed slash commands per round, {args.concurrency} at a time, "
        f"hosts answering each request after {args.latency_ms} ms"
    )
    print(
        f"the bot on core(s) {sorted(pinned[0])}, Slack's senders and the hosts on core "
        f"{min(pinned[1])}"
        if pinned
        else "one core: the bot, Slack's senders and the hosts share it"
    )
    print(f"HTTP 200: {ok} of {args.rounds * args.commands} (Slack allows 3,000 ms for each)")
    print(
        f"over {args.rounds} alternating rounds: ours p50 {ours_p50:.1f} ms, "
        f"p99 {ours_p99:.1f} ms, max {max(ours_all):.1f} ms; floor, a bare bolt app that only "
        f"acks, served the same way: p50 {bare_p50:.1f} ms, p99 {bare_p99:.1f} ms, "
        f"max {max(bare_all):.1f} ms"
    )
    print(
        f"ratio at p99 {ours_p99 / bare_p99:.2f}, at p50 {ours_p50 / bare_p50:.2f}; one round's "
        f"p99 ratio ranged {per_round[0]:.2f}-{per_round[-1]:.2f} "
        f"(median {statistics.median(per_round):.2f})"
    )
    print(
        f"commands whose check was queued: {queued} of {args.rounds * args.commands}; the others "
        f"were told to try again (slack.check_queue_limit {services.checks.queue_limit})"
    )
    print(f"check results posted meanwhile: {reports_so_far} (the checks go on in their own pool)")


def ms(results: list[tuple[int, float, bool]]) -> list[float]:
    """The times of a round's HTTP 200s, in milliseconds, sorted."""
    return sorted(elapsed * 1000 for status, elapsed, _ in results if status == 200)


def p99(times: list[float]) -> float:
    """The 99th percentile of sorted times."""
    times = sorted(times)
    return times[max(0, int(len(times) * 0.99) - 1)]


def bare_app(api_url: str) -> App:
    """The floor: bolt set up as ours is, with one listener that only acks."""
    app = App(
        signing_secret=SECRET,
        process_before_response=True,
        client=WebClient(token=BOT_TOKEN, base_url=api_url),
        token_verification_enabled=False,
    )

    @app.command("/backupcheck")
    def _ack(ack: Ack) -> None:
        ack()

    return app


def timed_sends(
    port: int, bodies: list[bytes], concurrency: int, cores: set[int] | None
) -> tuple[list[tuple[int, float, bool]], float]:
    """Post `bodies` to a server on `port` from another process; status and time of each."""
    # Slack is another machine: the senders run in a process of their own, not under our GIL.
    theirs, pipe = multiprocessing.Pipe()
    sender = multiprocessing.Process(target=send, args=(port, bodies, concurrency, pipe, cores))
    sender.start()
    pipe.close()
    results, sending = theirs.recv()
    sender.join()
    return results, sending


if __name__ == "__main__":
    main()
