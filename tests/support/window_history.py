"""A seeded history of backup windows, written through the bot's own stores: fs01 backs up at
21:00 (Tokyo) every day, and each evening follows one of four patterns in turn.

- 0, quiet: the 20:00 check is fine and the backup succeeds; no alert.
- 1, fixed: D: is too full at 20:00; U123 acknowledges at 20:25 and frees space by the 20:45
  re-check (235 MB to 5 GB); the backup succeeds.
- 2, predicted: D: is too full at 20:00 and still at 20:45; U456 acknowledges at 20:10; the backup
  fails with 0x80780119 (no room for the shadow copy).
- 3, surprise: the 20:00 check is fine; the backup fails with 0x800423F4 (a VSS writer); the
  verification opens an alert at 21:20 that nobody acknowledges.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.verdict import VerdictKind, WindowVerdict
from bot.alerts.verify_store import OutcomeStore
from bot.storage.models import Alert, CheckResult
from checks.units import GB, MB

JST = timezone(timedelta(hours=9))
# The last seeded window: the evening before the simulated evening (tests.bot.conftest.EVENING).
LAST_WINDOW = datetime(2026, 11, 23, 21, 0, tzinfo=JST)
FULL, FIXED, STEADY_C = 235 * MB, 5 * GB, 50 * GB
CAPACITY, REQUIRED = 40 * GB, 320 * MB
PATTERNS = ("quiet", "fixed", "predicted", "surprise")


def window_of(day: int, days: int) -> datetime:
    """The window of day `day` (0 the oldest) of `days` seeded ones."""
    return LAST_WINDOW - timedelta(days=days - 1 - day)


def seed_windows(sessions: sessionmaker[Session], days: int = 16, server: str = "fs01") -> None:
    """`days` evenings ending at LAST_WINDOW; day n follows PATTERNS[n % 4]."""
    outcomes = OutcomeStore(sessions)
    for day in range(days):
        window = window_of(day, days)
        pattern = PATTERNS[day % 4]
        at = window.replace(hour=20, minute=0)
        bad = pattern in ("fixed", "predicted")
        _check(sessions, server, at, FULL if bad else FIXED)
        if pattern == "fixed":
            _check(sessions, server, at + timedelta(minutes=45), FIXED)
        if pattern == "predicted":
            _check(sessions, server, at + timedelta(minutes=45), FULL)
        alert_id = None
        if pattern == "fixed":
            alert_id = _alert(sessions, server, window, at, ("U123", at + timedelta(minutes=25)))
        elif pattern == "predicted":
            alert_id = _alert(sessions, server, window, at, ("U456", at + timedelta(minutes=10)))
        elif pattern == "surprise":
            alert_id = _alert(sessions, server, window, window + timedelta(minutes=20), None)
        started, ended = window + timedelta(minutes=1), window + timedelta(minutes=40)
        verdict = {
            "quiet": WindowVerdict(VerdictKind.SUCCEEDED, started, ended),
            "fixed": WindowVerdict(VerdictKind.SUCCEEDED, started, ended),
            "predicted": WindowVerdict(VerdictKind.FAILED, started, ended, 0x80780119),
            "surprise": WindowVerdict(VerdictKind.FAILED, started, ended, 0x800423F4),
        }[pattern]
        outcomes.record(server, window, verdict, alert_id, ended + timedelta(minutes=5))


def _check(sessions: sessionmaker[Session], server: str, at: datetime, d_free: int) -> None:
    status = "critical" if d_free < REQUIRED else "ok"
    with sessions.begin() as session:
        for volume, name, free, state in (
            ("v-c", "C:\\", STEADY_C, "ok"),
            ("v-d", "D:\\", d_free, status),
        ):
            session.add(
                CheckResult(
                    server=server,
                    checked_at=at,
                    host_status=status,
                    volume_id=volume,
                    volume_name=name,
                    status=state,
                    capacity_bytes=CAPACITY,
                    free_bytes=free,
                    required_free_bytes=REQUIRED,
                )
            )


def _alert(
    sessions: sessionmaker[Session],
    server: str,
    window: datetime,
    opened: datetime,
    taken: tuple[str, datetime] | None,
) -> int:
    with sessions.begin() as session:
        alert = Alert(
            server=server,
            window_at=window,
            state="acknowledged" if taken else "open",
            severity="critical",
            summary=f"{server}: seeded",
            fingerprint=[],
            acknowledged_by=taken[0] if taken else None,
            acknowledged_at=taken[1] if taken else None,
            created_at=opened,
            updated_at=opened,
        )
        session.add(alert)
        session.flush()
        return alert.id
