"""Benchmark: a bad evening for a big fleet. How many Slack calls do 500 failing servers cost?

    uv run python bench/alert_flood.py [--servers 500] [--threshold 10] [--database URL]

Every server fails before the same 21:00 window. The alert store records each alert (as the
scheduled checks would) and the outbox delivers everything to the loopback Slack; then the
servers flap (a second, different finding each) and the outbox delivers again. Prints the
messages in the channel, the Web API calls by method, and the time each step took.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from slack_sdk import WebClient  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from bot.alerts.lifecycle import AlertPolicy, on_check  # noqa: E402
from bot.alerts.outbox import Outbox  # noqa: E402
from bot.alerts.store import AlertStore, Destinations  # noqa: E402
from bot.i18n import catalog  # noqa: E402
from bot.storage.database import open_database  # noqa: E402
from bot.storage.models import OutboxMessage  # noqa: E402
from checks.evaluate import evaluate  # noqa: E402
from checks.report import Report  # noqa: E402
from checks.snapshot import parse_snapshot  # noqa: E402
from checks.units import MB  # noqa: E402
from tests.support.slack_api import BOT_TOKEN, SlackStandIn  # noqa: E402

JST = timezone(timedelta(hours=9))
WINDOW = datetime(2026, 11, 24, 21, 0, tzinfo=JST)
CHANNEL = "C123"


def reports(count: int, d_free: int, now: datetime) -> list[Report]:
    seed = parse_snapshot((ROOT / "tests/fixtures/snapshots/seed-incident.json").read_text())
    t = catalog("en")
    out = []
    for n in range(count):
        volumes = [
            v.model_copy(update={"free_bytes": d_free}) if v.letter == "D:" else v
            for v in seed.volumes
        ]
        snapshot = seed.model_copy(update={"host": f"fs{n:04}", "volumes": volumes})
        out.append(evaluate(snapshot, now, t))
    return out


def drain(outbox: Outbox, sessions: sessionmaker[Session], clock: list[datetime]) -> float:
    """Deliver until nothing is pending, moving the clock past each wait (edit pacing)."""
    started = time.perf_counter()
    while True:
        outbox.deliver_due(limit=1000)
        with sessions() as session:
            pending = session.scalar(
                select(func.count(OutboxMessage.id)).where(OutboxMessage.state == "pending")
            )
        if not pending:
            return time.perf_counter() - started
        clock[0] += timedelta(seconds=6)


def _superseded(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        count = session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.state == "superseded")
        )
    return int(count or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=500)
    parser.add_argument("--threshold", type=int, default=10)
    parser.add_argument("--database", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, SlackStandIn() as slack:
        url = args.database or f"sqlite:///{tmp}/bench.db"
        sessions = open_database(url)
        store = AlertStore(sessions, Destinations(CHANNEL, digest_threshold=args.threshold))
        clock = [WINDOW - timedelta(hours=1)]
        client = WebClient(token=BOT_TOKEN, base_url=slack.api_url, retry_handlers=[])
        outbox = Outbox(sessions, client, lambda: clock[0], timedelta(seconds=5))
        t, policy = catalog("en"), AlertPolicy()

        started = time.perf_counter()
        for report in reports(args.servers, 235 * MB, clock[0]):
            transition = on_check(None, report, WINDOW, clock[0], policy)
            store.record(transition, report, t, "checked", None, clock[0], JST)
        recorded = time.perf_counter() - started
        delivered = drain(outbox, sessions, clock)
        first = Counter(call.method for call in slack.calls())
        top = [m for (c, _), m in slack.messages.items() if c == CHANNEL and "thread_ts" not in m]
        superseded = _superseded(sessions)

        slack.clear()
        clock[0] += timedelta(minutes=10)
        started = time.perf_counter()
        for report in reports(args.servers, 900 * MB, clock[0]):  # now only a warning each
            stored = store.find(report.host, WINDOW)
            transition = on_check(
                stored.alert if stored else None, report, WINDOW, clock[0], policy
            )
            store.record(transition, report, t, "checked", None, clock[0], JST)
        flapped = time.perf_counter() - started
        delivered_again = drain(outbox, sessions, clock)
        second = Counter(call.method for call in slack.calls())

    print(f"servers failing before one window: {args.servers} (digest after {args.threshold})")
    print(f"top-level messages in the channel: {len(top)}")
    print(f"first check: record {recorded:.2f} s, deliver {delivered:.2f} s; calls {dict(first)}")
    print(f"digest edits coalesced away: {superseded}")
    print(
        f"every finding changes: record {flapped:.2f} s, deliver {delivered_again:.2f} s; "
        f"calls {dict(second)}"
    )


if __name__ == "__main__":
    main()
