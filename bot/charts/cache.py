"""Charts kept per volume and day: asking again the same day re-uses the PNG, unless a newer
reading arrived since (the key holds the latest reading's time)."""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from bot.charts.draw import trend_png
from bot.charts.series import VolumeTrend
from checks.i18n import Catalog

MAX_CHARTS = 128  # about 60 KB each


class ChartCache:
    """A bounded, thread-safe map from a chart's key (server, volume, language, day, ...) to PNG."""

    def __init__(self, most: int = MAX_CHARTS) -> None:
        self._most = most
        self._charts: OrderedDict[tuple[Hashable, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self,
        key: tuple[Hashable, ...],
        render: Callable[[], bytes],
    ) -> bytes:
        """The cached chart, else `render()`'s, kept (the oldest one goes past the bound)."""
        with self._lock:
            png = self._charts.get(key)
            if png is not None:
                self._charts.move_to_end(key)
                return png
        png = render()  # outside the lock: another volume's chart need not wait for this one
        with self._lock:
            self._charts[key] = png
            while len(self._charts) > self._most:
                self._charts.popitem(last=False)
        return png


# One per process, shared by the trend command and the forecast alerts: a chart is drawn once
# per volume and day (and again after a newer reading).
CHARTS = ChartCache()


def volume_png(trend: VolumeTrend, t: Catalog, cache: ChartCache = CHARTS) -> bytes:
    """The volume's chart in t's language, drawn at most once per day and latest reading."""
    latest = trend.series.observations[-1].at if trend.series.observations else None
    key = (trend.server, trend.series.volume_id, t.lang, trend.day, latest, trend.highlight)
    return cache.get(key, functools.partial(trend_png, trend, t))
