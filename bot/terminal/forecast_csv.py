"""The history CSV of `backupcheck forecast`: bytes in, observations per volume out, or one
sentence naming the line and the field that is wrong. Pure: the caller reads the file.

    timestamp,volume,capacity_bytes,free_bytes
    2026-11-30T09:00:00+09:00,fs01 D:,42949672960,3221225472
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

from checks.forecast import Observation
from checks.i18n import Catalog

HEADER = ("timestamp", "volume", "capacity_bytes", "free_bytes")
MAX_HISTORY_BYTES = 64 * 1024 * 1024
MAX_HISTORY_ROWS = 1_000_000
MAX_VOLUME_CHARS = 256
# Whole bytes, as digits only: int() would also take "+5", " 5" and "1_000".
_BYTES = re.compile(r"[0-9]{1,20}")

History = dict[str, list[Observation]]


class HistoryError(ValueError):
    """The history cannot be read; the message is one sentence naming where and why."""


def parse_history(data: bytes, name: str, t: Catalog) -> History:
    """Each volume's observations, in the file's order of volumes; bounded in size and rows."""
    if len(data) > MAX_HISTORY_BYTES:
        raise HistoryError(t.text("forecast.too_large", path=name, limit=MAX_HISTORY_BYTES >> 20))
    try:
        # utf-8-sig: Excel and PowerShell's Export-Csv write a byte-order mark.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HistoryError(t.text("forecast.not_utf8", path=name)) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    history: History = {}
    first_seen: dict[tuple[str, datetime], int] = {}
    rows = 0
    try:
        for fields in reader:
            line = reader.line_num
            if not fields:
                continue
            if rows == 0 and tuple(f.strip() for f in fields) != HEADER:
                raise HistoryError(
                    t.text("forecast.bad_header", path=name, header=",".join(HEADER))
                )
            rows += 1
            if rows == 1:
                continue
            if rows > MAX_HISTORY_ROWS + 1:
                raise HistoryError(
                    t.text("forecast.too_many_rows", path=name, limit=MAX_HISTORY_ROWS)
                )
            volume, observation = _row(fields, name, line, t)
            key = (volume, observation.at)
            if key in first_seen:
                raise HistoryError(
                    t.text(
                        "forecast.duplicate",
                        path=name,
                        line=line,
                        volume=volume,
                        when=fields[0],
                        first=first_seen[key],
                    )
                )
            first_seen[key] = line
            history.setdefault(volume, []).append(observation)
    except csv.Error as error:
        line = reader.line_num
        raise HistoryError(t.text("forecast.bad_csv", path=name, line=line, reason=error)) from None
    if not history:
        raise HistoryError(t.text("forecast.empty", path=name, header=",".join(HEADER)))
    return history


def parse_moment(text: str) -> datetime | None:
    """An ISO 8601 time with its UTC offset; None for anything else, a time without one too."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None


def shown(value: str, most: int = 40) -> str:
    """A bad value as quoted in a sentence: at most `most` characters of it."""
    return value if len(value) <= most else f"{value[:most]}…"


def _row(fields: list[str], path: str, line: int, t: Catalog) -> tuple[str, Observation]:
    where: dict[str, object] = {"path": path, "line": line}
    if len(fields) != len(HEADER):
        raise HistoryError(t.text("forecast.field_count", **where, count=len(fields)))
    stamp, volume, capacity_text, free_text = fields
    at = parse_moment(stamp)
    if at is None:
        raise HistoryError(
            t.text("forecast.bad_time", **where, field=HEADER[0], value=shown(stamp))
        )
    volume = volume.strip()
    if not volume:
        raise HistoryError(t.text("forecast.empty_volume", **where))
    if len(volume) > MAX_VOLUME_CHARS:
        raise HistoryError(t.text("forecast.long_volume", **where, limit=MAX_VOLUME_CHARS))
    capacity = _bytes(capacity_text, where, HEADER[2], t)
    free = _bytes(free_text, where, HEADER[3], t)
    if capacity == 0:
        raise HistoryError(t.text("forecast.zero_capacity", **where))
    if free > capacity:
        raise HistoryError(
            t.text("forecast.free_above_capacity", **where, free=free, capacity=capacity)
        )
    return volume, Observation(at, capacity, free)


def _bytes(text: str, where: dict[str, object], field: str, t: Catalog) -> int:
    if _BYTES.fullmatch(text.strip()) is None:
        raise HistoryError(t.text("forecast.bad_bytes", **where, field=field, value=shown(text)))
    return int(text.strip())
