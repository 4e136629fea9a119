"""Check results are kept per volume, and everything older than the retention is pruned."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.alerts.history import History
from bot.alerts.outbox import enqueue
from bot.storage.database import open_database
from bot.storage.models import Alert, OutboxMessage
from checks.evaluate import evaluate, unknown_report
from checks.i18n import Catalog
from checks.snapshot import Snapshot


def test_each_volume_is_stored_and_an_unreachable_host_gets_one_row(
    database_url: str, load_snapshot: Callable[[str], Snapshot], now: datetime, en: Catalog
) -> None:
    history = History(open_database(database_url))
    history.record(evaluate(load_snapshot("seed-incident"), now, en))
    history.record(unknown_report("dc09", "connection refused by dc09:5985", now, en))
    rows = history.of("SERVER01")
    assert [(r.volume_name, r.status, r.free_bytes) for r in rows] == [
        ("C:\\", "ok", 33285996544),
        ("D:\\", "critical", 246415360),
        ("E:\\", "ok", 80530636800),
    ]
    (down,) = history.of("dc09")
    assert (down.host_status, down.volume_id, down.free_bytes) == ("unknown", None, None)


def test_pruning_removes_old_results_alerts_and_sent_messages_but_keeps_pending_ones(
    database_url: str, load_snapshot: Callable[[str], Snapshot], now: datetime, en: Catalog
) -> None:
    sessions = open_database(database_url)
    history = History(sessions)
    old, recent = now - timedelta(days=100), now - timedelta(days=1)
    history.record(evaluate(load_snapshot("seed-incident"), old, en))
    history.record(evaluate(load_snapshot("seed-incident"), recent, en))
    with sessions.begin() as session:
        for at in (old, recent):
            session.add(
                Alert(
                    server="fs01",
                    window_at=at,
                    state="resolved",
                    severity="critical",
                    summary="",
                    created_at=at,
                    updated_at=at,
                )
            )
        sent = enqueue(session, "old-sent", "chat.postMessage", {"channel": "C1"}, old)
        sent.state = "sent"
        enqueue(session, "old-pending", "chat.postMessage", {"channel": "C1"}, old)
    assert history.prune(now - timedelta(days=90)) == 3 + 1 + 1
    assert {r.checked_at for r in history.of("SERVER01")} == {recent}
    with sessions() as session:
        assert session.scalars(select(Alert.window_at)).all() == [recent]
        keys = session.scalars(select(OutboxMessage.idempotency_key)).all()
        assert keys == ["old-pending"]
