"""Reads what a server's history view needs: its verified windows and the volume figures of
the checks before them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from bot.alerts.history import History, Reading
from bot.alerts.history_lines import FIRST_LOOKBACK, WINDOWS, HistoryLine, history_lines
from bot.alerts.schedule.store import reader_engine
from bot.alerts.verify_store import OutcomeStore


@dataclass(frozen=True)
class WindowHistory:
    """The lines, newest first (empty: no verified window yet)."""

    lines: list[HistoryLine]


def window_history(store: OutcomeStore, history: History, server: str) -> WindowHistory:
    """The server's last verified windows with the space freed before each."""
    outcomes = store.of(server, WINDOWS)
    if not outcomes:
        return WindowHistory([])
    since = min(o.window_at for o in outcomes) - FIRST_LOOKBACK
    readings: list[Reading] = history.series(server, since)
    return WindowHistory(history_lines(outcomes, readings))


def read_window_history(url: str, server: str) -> WindowHistory | None:
    """The same, read without writing anything (no migration, no new SQLite file); None when
    there is no such database or it cannot be read."""
    engine = reader_engine(url)
    if engine is None:
        return None
    try:
        sessions = sessionmaker(engine)
        return window_history(OutcomeStore(sessions), History(sessions), server)
    except SQLAlchemyError:  # unreachable, refused, or a database the bot never set up
        return None
    finally:
        engine.dispose()
