"""Check results are kept per volume, and everything older than the retention is pruned."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.alerts.history import History, read_series
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


def test_a_series_is_one_servers_volume_figures_since_a_time_oldest_first_and_bounded(
    database_url: str, load_snapshot: Callable[[str], Snapshot], now: datetime, en: Catalog
) -> None:
    history = History(open_database(database_url))
    snapshot = load_snapshot("seed-incident")
    for days in (40, 3, 2, 1):
        history.record(evaluate(snapshot, now - timedelta(days=days), en))
    history.record(unknown_report("SERVER01", "connection refused", now, en))  # no figures
    history.record(unknown_report("dc09", "connection refused", now, en))
    since = now - timedelta(days=30)
    rows = history.series("SERVER01", since)
    assert len(rows) == 3 * 3
    assert [r.checked_at for r in rows] == sorted(r.checked_at for r in rows)
    assert rows[0].checked_at == now - timedelta(days=3)
    d_id = next(v.id for v in snapshot.volumes if v.letter == "D:")
    d = history.series("SERVER01", since, volume_id=d_id)
    seen = [(r.volume_name, r.free_bytes, r.status) for r in d]
    assert seen == [("D:\\", 246415360, "critical")] * 3
    assert d[0].required_free_bytes == 335544320
    # Past the bound, the newest rows are the ones kept.
    newest = history.series("SERVER01", since, volume_id=d_id, limit=2)
    assert [r.checked_at for r in newest] == [now - timedelta(days=2), now - timedelta(days=1)]
    assert history.series("nobody", since) == []


def test_reading_a_series_from_a_url_creates_no_database(tmp_path: Path, now: datetime) -> None:
    missing = tmp_path / "none.db"
    assert read_series(f"sqlite:///{missing}", "fs01", now) is None
    assert not missing.exists()
