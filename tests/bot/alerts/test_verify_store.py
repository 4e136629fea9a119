"""Each window's verdict is stored once, beside the status of the last check before it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.alerts.history import History
from bot.alerts.verdict import VerdictKind, WindowVerdict
from bot.alerts.verify_store import OutcomeStore
from bot.i18n import catalog
from bot.storage.database import open_database
from checks.evaluate import unknown_report
from checks.report import Status

JST = timezone(timedelta(hours=9))
WINDOW = datetime(2026, 11, 24, 21, 0, tzinfo=JST)
DAY = timedelta(days=1)


def test_a_verdict_is_stored_once_with_the_last_pre_check(database_url: str) -> None:
    sessions = open_database(database_url)
    history, store = History(sessions), OutcomeStore(sessions)
    t = catalog("en")
    history.record(unknown_report("fs01", "no answer", WINDOW - timedelta(hours=1), t))
    history.record(unknown_report("fs02", "no answer", WINDOW - timedelta(hours=1), t))
    after = unknown_report("fs01", "no answer", WINDOW + timedelta(minutes=5), t)
    history.record(
        after.model_copy(update={"status": Status.OK})
    )  # after the window: not a pre-check
    failed = WindowVerdict(VerdictKind.FAILED, WINDOW, WINDOW + timedelta(minutes=3), 0x80780119)
    assert store.record("fs01", WINDOW, failed, None, WINDOW + timedelta(minutes=10))
    # A replica that took the verification over reads the same verdict: stored once.
    assert not store.record("fs01", WINDOW, failed, None, WINDOW + timedelta(minutes=15))
    earlier = WindowVerdict(VerdictKind.SUCCEEDED, WINDOW - DAY, WINDOW - DAY)
    assert store.record("fs01", WINDOW - DAY, earlier, None, WINDOW - DAY)
    newest_first = store.of("fs01")
    assert [(o.window_at, o.precheck, o.verdict) for o in newest_first] == [
        (WINDOW, "unknown", failed),
        (WINDOW - DAY, None, earlier),
    ]
    assert store.of("fs02") == []
    assert store.prune(WINDOW - DAY / 2) == 1
    assert [o.window_at for o in store.of("fs01")] == [WINDOW]
