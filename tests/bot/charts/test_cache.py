"""Charts are kept per volume and day, re-drawn after a newer reading, and bounded in number."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.charts.cache import ChartCache
from tests.bot.charts.conftest import NOW

DAY = date(2026, 11, 30)


def test_the_same_volume_on_the_same_day_is_drawn_once_until_a_newer_reading() -> None:
    cache = ChartCache()
    drawn: list[str] = []

    def render(tag: str) -> bytes:
        drawn.append(tag)
        return tag.encode()

    key = ("fs01", "D:\\", "en", DAY, NOW)
    assert cache.get(key, lambda: render("first")) == b"first"
    assert cache.get(key, lambda: render("again")) == b"first"
    newer: datetime = NOW + timedelta(hours=6)
    assert cache.get(("fs01", "D:\\", "en", DAY, newer), lambda: render("newer")) == b"newer"
    tomorrow = DAY + timedelta(days=1)
    assert cache.get(("fs01", "D:\\", "en", tomorrow, newer), lambda: render("next")) == b"next"
    assert cache.get(("fs01", "D:\\", "ja", DAY, NOW), lambda: render("ja")) == b"ja"
    assert drawn == ["first", "newer", "next", "ja"]


def test_past_its_bound_the_least_recently_used_chart_goes() -> None:
    cache = ChartCache(most=2)
    keys = [("fs01", name, "en", DAY, NOW) for name in ("C:", "D:", "E:")]
    cache.get(keys[0], lambda: b"c")
    cache.get(keys[1], lambda: b"d")
    cache.get(keys[0], lambda: b"c again")  # used: stays
    cache.get(keys[2], lambda: b"e")
    assert cache.get(keys[0], lambda: b"redrawn") == b"c"
    assert cache.get(keys[1], lambda: b"redrawn") == b"redrawn"
