"""The demo's servers and settings: bundled snapshots made current, and a config around them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import Config
from checks.snapshot import Snapshot, parse_snapshot

SERVERS = ("demo-fs01", "demo-sql01", "demo-dc01")  # critical, warning, ok
# The window is this far ahead and checked LEAD_TIME_MIN before it: the first check comes two
# to three minutes after start (the window falls on a whole minute), well within five.
WINDOW_AHEAD = timedelta(minutes=12)
LEAD_TIME_MIN = 10
# Short enough that a few minutes show the whole life of an alert: posted, escalated by itself,
# checked again before the window.
ALERT_TIMING = {
    "jitter_s": 0,
    "edit_interval_s": 1,
    "escalate_after_min": 4,
    "escalate_before_window_min": 2,
    "recheck_before_min": 5,
    "misfire_grace_min": 5,
}


@dataclass(frozen=True)
class Demo:
    """The demo's configuration and when its first check and backup window come."""

    config: Config
    window_at: datetime
    first_check_at: datetime


def local_zone(environ: Mapping[str, str], localtime: Path = Path("/etc/localtime")) -> str:
    """This machine's IANA time zone ($TZ, else /etc/localtime's target), else UTC: the demo's
    windows are set in it so that their times read as the clock on the wall."""
    candidates = [environ.get("TZ", "").removeprefix(":")]
    if localtime.is_symlink():
        candidates.append(str(localtime.resolve()).rpartition("zoneinfo/")[2])
    for name in candidates:
        try:
            if name and ZoneInfo(name):
                return name
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return "UTC"


def bundled_snapshot(name: str) -> Snapshot:
    """One of the demo's snapshots as shipped (package data under bot/demo/snapshots)."""
    return parse_snapshot(files("bot.demo").joinpath("snapshots", f"{name}.json").read_bytes())


def prepare_demo(directory: Path, settings: Config, channel: str, now: datetime, zone: str) -> Demo:
    """Write the demo's snapshot files into `directory`, collected `now` with their next backup
    at the window, and the config that reads them; language and Slack come from `settings`."""
    local = now.astimezone(ZoneInfo(zone))
    window = (local + WINDOW_AHEAD).replace(second=0, microsecond=0) + timedelta(minutes=1)
    at = window.strftime("%H:%M")
    servers = []
    for name in SERVERS:
        path = directory / f"{name}.json"
        snapshot = bundled_snapshot(name)
        backup = snapshot.backup
        if backup is not None:
            backup = backup.model_copy(
                update={
                    "schedule": [at],
                    "next_backup_at": window,
                    "last_success_at": window - timedelta(days=1),
                }
            )
        current = snapshot.model_copy(update={"collected_at": local, "backup": backup})
        path.write_text(current.to_json(), encoding="utf-8")
        # The file's age is judged by its mtime too: the same clock as collected_at.
        os.utime(path, (now.timestamp(), now.timestamp()))
        servers.append(
            {
                "name": name,
                "snapshot_file": str(path),
                "backup_times": [at],
                "timezone": zone,
                "lead_time_min": LEAD_TIME_MIN,
            }
        )
    config = Config.model_validate(
        {
            "language": settings.language,
            "log_format": settings.log_format,
            # Socket Mode needs no public URL; no health port, so a real bot may run beside it.
            "slack": {**settings.slack.model_dump(), "mode": "socket", "health_port": 0},
            "storage": {"url": f"sqlite:///{directory / 'demo.db'}"},
            "alerts": {"channel": channel, **ALERT_TIMING},
            # A demo lasts minutes: too short for a history, so no surveys or forecasts.
            "forecast": {"enabled": False},
            "servers": servers,
        }
    )
    return Demo(config, window, window - timedelta(minutes=LEAD_TIME_MIN))
