"""The words for a window's verdict: the alert's summary and state line, and its thread reply.
Pure; times are shown in the zone of the alert's window (the server's)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.alerts.lifecycle import Alert
from bot.alerts.verdict import VerdictKind, WindowVerdict
from bot.slack.blocks import escape
from checks.hresults import describe
from checks.i18n import Catalog


def outcome_line(alert: Alert, t: Catalog) -> str:
    """One sentence: how the window's backup went (empty when it was not verified)."""
    verdict = alert.outcome
    if verdict is None:
        return ""
    zone = alert.window_at.tzinfo
    window = t.datetime(alert.window_at)

    def shown(moment: datetime | None) -> str:
        return t.datetime(moment, zone) if moment is not None else ""

    kind = verdict.kind
    if kind is VerdictKind.SUCCEEDED:
        if verdict.ended_at is None:
            return t.text("verify.succeeded_at", window=window, started=shown(verdict.started_at))
        return t.text("verify.succeeded", window=window, ended=shown(verdict.ended_at))
    if kind is VerdictKind.WARNINGS:
        items = _items(verdict, t)
        return t.text("verify.warnings", window=window, ended=shown(verdict.ended_at), items=items)
    if kind is VerdictKind.FAILED:
        if verdict.hresult is None:
            return t.text("verify.failed_no_code", window=window)
        said = describe(verdict.hresult, t)
        return t.text("verify.failed", window=window, code=said.code, meaning=said.meaning)
    if kind is VerdictKind.NOT_RUN:
        line = t.text("verify.not_run", window=window)
        if verdict.next_backup_at is None:
            return f"{line} {t.text('verify.no_next')}"
        return line
    hours = t.number(_hours(verdict.waited))
    if kind is VerdictKind.STILL_RUNNING:
        return t.text("verify.still_running", window=window, hours=hours)
    return t.text("verify.unknown", window=window, hours=hours)


def outcome_summary(alert: Alert, t: Catalog) -> str:
    """The alert's first line once its window was verified."""
    return t.text("verify.summary", server=escape(alert.server), line=outcome_line(alert, t))


def outcome_reply(alert: Alert, t: Catalog) -> str:
    """The thread reply: the verdict, then what to do and which items failed."""
    verdict = alert.outcome
    parts = [outcome_line(alert, t)]
    if verdict is not None and verdict.kind is VerdictKind.FAILED and verdict.hresult is not None:
        fix = describe(verdict.hresult, t).fix
        parts.append(t.text("verify.fix", fix=fix) if fix else t.text("verify.fix_unknown"))
    if verdict is not None and verdict.kind is VerdictKind.FAILED and verdict.items:
        parts.append(t.text("verify.failed_items", items=_items(verdict, t)))
    if verdict is not None and verdict.kind is VerdictKind.NOT_RUN:
        parts.append(t.text("verify.not_run_fix"))
    return "\n".join(p for p in parts if p)


def _items(verdict: WindowVerdict, t: Catalog) -> str:
    if not verdict.items:
        return t.text("verify.some_items")
    return t.text("list_separator").join(escape(i) for i in verdict.items)


def _hours(waited: timedelta | None) -> float:
    return round((waited or timedelta(0)) / timedelta(hours=1), 1)
