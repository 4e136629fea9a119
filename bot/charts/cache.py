"""Charts kept per volume and day: asking again the same day re-uses the PNG, unless a newer
reading arrived since (the key holds the latest reading's time)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, datetime

MAX_CHARTS = 128  # about 60 KB each


class ChartCache:
    """A bounded, thread-safe map from (server, volume, language, day, latest reading) to PNG."""

    def __init__(self, most: int = MAX_CHARTS) -> None:
        self._most = most
        self._charts: OrderedDict[tuple[str, str, str, date, datetime | None], bytes] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def get(
        self,
        key: tuple[str, str, str, date, datetime | None],
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
