"""Plain-data histories for the chart tests: a server, its zone, and volumes that drain."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.charts.series import VolumeSeries
from bot.config import Config
from checks.forecast import Observation
from checks.inventory import Server
from checks.units import GB, MB

TOKYO = ZoneInfo("Asia/Tokyo")
# Monday, 9:00 in Tokyo.
NOW = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)


@pytest.fixture
def server() -> Server:
    """fs01 in Tokyo, backing up at 21:00 on working days."""
    settings = Config.model_validate(
        {
            "servers": [
                {
                    "name": "fs01",
                    "address": "fs01.corp.example",
                    "timezone": "Asia/Tokyo",
                    "backup_times": ["21:00"],
                    "backup_days": ["mon", "tue", "wed", "thu", "fri"],
                }
            ]
        }
    )
    return settings.resolved()[0]


Drain = Callable[..., VolumeSeries]


@pytest.fixture
def drain() -> Drain:
    """A volume read every 6 hours for `days` days up to NOW, losing `per_day` bytes a day."""

    def make(
        *,
        days: int = 40,
        free_now: int = 3 * GB,
        per_day: int = 500 * MB,
        capacity: int = 40 * GB,
        name: str = "D:\\",
        minimum: int | None = None,
    ) -> VolumeSeries:
        readings = tuple(
            Observation(NOW - timedelta(hours=6 * k), capacity, free_now + per_day * k // 4)
            for k in range(days * 4, -1, -1)
        )
        return VolumeSeries("vol-d", name, True, minimum, readings)

    return make
