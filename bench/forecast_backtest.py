"""Backtest of the free-space forecaster on synthetic volumes whose future is known.

    uv run python bench/forecast_backtest.py [--volumes 1000] [--seed 13]

Each volume has 14 days of history (a reading every 6 hours, some missing, a few minutes late)
before day D, a Monday 09:00 in Tokyo, and a known future: backups run daily at 21:00 Tokyo
time, and the true first failing window is the first at which the simulated free space is
below rule 2's minimum. Kinds: steady drift, noisy drift, a weekly cycle on a drift, a step
clean-up in the history, a sudden fill (a copy) in the last days, flat and noisy-flat volumes.

The forecast made at D is compared with the truth: the share of true failing windows it names
exactly, its error in hours (negative: early), and its false alarms (a failing window named
where there is none within the horizon). "Warned 24 h ahead" counts real crossings at least a
day after D that a forecast made once a day from D on named, on time or early, at least
24 hours before they happen. Two floors run on the same volumes: the last two readings
extrapolated, and least squares over the same 14 days (no robustness, no steps).
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checks.forecast import Observation, forecast_volume  # noqa: E402
from checks.rules import minimum_free_bytes  # noqa: E402

MB = 1024**2
GB = 1024**3
DAY = timedelta(days=1)
D = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # Monday 09:00 in Tokyo
HORIZON = timedelta(days=7)
WINDOWS = [datetime(2026, 11, 30, 12, tzinfo=UTC) + DAY * n for n in range(21)]  # 21:00 JST
KINDS = ("steady", "noisy", "weekly", "clean-up", "sudden fill", "flat", "noisy flat")

Free = Callable[[float], float]  # free bytes at a day relative to D (noise drawn per call)
Predict = Callable[[list[Observation], list[datetime], datetime], datetime | None]


@dataclass
class Volume:
    """A synthetic volume: its kind, true drain rate, and free space as a function of time."""

    kind: str
    capacity: int
    rate: float  # bytes a day the drift takes (0 for flat ones)
    free: Free
    history: list[Observation] = field(default_factory=list)


def make_volume(kind: str, rng: random.Random) -> Volume:
    """Free space that reaches the minimum some 0.5 to 12 days after D (drains), or never."""
    capacity = rng.choice([40, 60, 100, 200, 500]) * GB
    minimum = minimum_free_bytes(capacity)
    flat = kind in ("flat", "noisy flat")
    rate = 0.0 if flat else math.exp(rng.uniform(math.log(30 * MB), math.log(2 * GB)))
    at_d = minimum + (rng.uniform(0.3, 20) * GB if flat else rate * rng.uniform(0.5, 12))
    sigma = {"steady": 5 * MB, "flat": 20 * MB}.get(kind, rng.uniform(50, 250) * MB)
    amplitude = rng.uniform(0.3, 1.5) * GB if kind == "weekly" else 0.0
    phase = rng.uniform(0, 2 * math.pi)
    step_day = rng.uniform(-12, -3) if kind == "clean-up" else rng.uniform(-4, -0.75)
    # A clean-up frees 2 to 20 GB of a volume that had at least 300 MB left; a copy fills 5 to 20.
    before = at_d - rate * step_day
    step = {
        "clean-up": -min(rng.uniform(2, 20) * GB, before - 300 * MB),
        "sudden fill": rng.uniform(5, 20) * GB,
    }
    size = step.get(kind, 0.0)

    def free(day: float) -> float:
        # Before a clean-up there was less free space; before a fill, more.
        shift = size if day < step_day else 0.0
        cycle = amplitude * (math.sin(2 * math.pi * day / 7 + phase) - math.sin(phase))
        value = at_d - rate * day + shift + cycle + rng.gauss(0, sigma)
        return min(max(value, 0.0), float(capacity))

    volume = Volume(kind, capacity, rate, free)
    for k in range(14 * 4 + 12 * 4 + 1):  # 14 days before D, and readings for later forecasts
        day = -14 + k / 4 + rng.uniform(0, 10) / 1440
        if rng.random() < 0.03:
            continue  # a missed survey
        volume.history.append(Observation(D + DAY * day, capacity, round(free(day))))
    return volume


def true_first_failing(volume: Volume, after: datetime) -> datetime | None:
    """The first window after `after`, within the horizon, below the minimum: what VSS sees."""
    minimum = minimum_free_bytes(volume.capacity)
    for window in WINDOWS:
        if after < window <= after + HORIZON and volume.free((window - D) / DAY) < minimum:
            return window
    return None


def ours(history: list[Observation], windows: list[datetime], now: datetime) -> datetime | None:
    result = forecast_volume(history, windows, now, HORIZON)
    return result.first_critical.at if result.first_critical else None


def at_risk(history: list[Observation], windows: list[datetime], now: datetime) -> datetime | None:
    result = forecast_volume(history, windows, now, HORIZON)
    return result.first_at_risk.at if result.first_at_risk else None


def last_two(history: list[Observation], windows: list[datetime], now: datetime) -> datetime | None:
    """The naive floor: the line through the last two readings."""
    a, b = history[-2], history[-1]
    slope = (b.free_bytes - a.free_bytes) / ((b.at - a.at) / DAY)
    return _first_below(
        b.capacity_bytes, lambda at: b.free_bytes + slope * ((at - b.at) / DAY), windows, now
    )


def least_squares(
    history: list[Observation], windows: list[datetime], now: datetime
) -> datetime | None:
    """Ordinary least squares over the same 14 days: neither robust nor aware of steps."""
    recent = [o for o in history if now - 14 * DAY <= o.at]
    xs = [(o.at - now) / DAY for o in recent]
    ys = [float(o.free_bytes) for o in recent]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    level = my - slope * mx
    return _first_below(
        recent[-1].capacity_bytes, lambda at: level + slope * ((at - now) / DAY), windows, now
    )


def _first_below(
    capacity: int, line: Callable[[datetime], float], windows: list[datetime], now: datetime
) -> datetime | None:
    minimum = minimum_free_bytes(capacity)
    return next((w for w in windows if now < w <= now + HORIZON and line(w) < minimum), None)


@dataclass
class Score:
    """One method's figures over a set of volumes."""

    crossings: int = 0
    exact: int = 0
    errors_h: list[float] = field(default_factory=list)
    missed: int = 0
    quiet: int = 0  # volumes that do not fail within the horizon
    false_alarms: int = 0
    due_24h: int = 0
    warned_24h: int = 0


def score(volumes: Sequence[Volume], predict: Predict) -> Score:
    """The method's forecast at D against the truth, and its daily forecasts for 24 h warnings."""
    result = Score()
    for volume in volumes:
        seen = [o for o in volume.history if o.at <= D]
        truth = true_first_failing(volume, D)
        guess = predict(seen, WINDOWS, D)
        if truth is None:
            result.quiet += 1
            result.false_alarms += guess is not None
        else:
            result.crossings += 1
            result.exact += guess == truth
            if guess is None:
                result.missed += 1
            else:
                result.errors_h.append((guess - truth) / timedelta(hours=1))
        if truth is not None and truth - D >= DAY:
            result.due_24h += 1
            result.warned_24h += _warned_in_time(volume, truth, predict)
    return result


def _warned_in_time(volume: Volume, truth: datetime, predict: Predict) -> bool:
    """Whether a daily forecast from D until a day before the failing window named it in time."""
    now = D
    while truth - now >= DAY:
        seen = [o for o in volume.history if o.at <= now]
        guess = predict(seen, WINDOWS, now)
        if guess is not None and guess <= truth:
            return True
        now += DAY
    return False


def _row(name: str, s: Score) -> str:
    early = [-e for e in s.errors_h if e < 0]
    late = [e for e in s.errors_h if e > 0]
    absolute = sorted(abs(e) for e in s.errors_h)
    p50 = statistics.median(absolute) if absolute else 0.0
    p90 = absolute[int(0.9 * (len(absolute) - 1))] if absolute else 0.0

    def pct(part: int, whole: int) -> str:
        return f"{100 * part / whole:.1f}%" if whole else "n/a"

    def mean(values: list[float]) -> float:
        return statistics.fmean(values) if values else 0.0

    cells = [
        name,
        pct(s.exact, s.crossings),
        pct(s.warned_24h, s.due_24h),
        f"{p50:.0f} h / {p90:.0f} h",
        f"{len(early)} ({mean(early):.0f} h)",
        f"{len(late)} ({mean(late):.0f} h)",
        pct(s.missed, s.crossings),
        pct(s.false_alarms, s.quiet),
    ]
    return "| " + " | ".join(cells) + " |"


HEAD = (
    "| method | exact window | warned ≥ 24 h ahead | abs. error p50 / p90 | early (mean) "
    "| late (mean) | missed | alarms on volumes that do not fail |\n"
    "|---|---|---|---|---|---|---|---|"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volumes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    rng = random.Random(args.seed)  # noqa: S311 - reproducible test data, not secrets
    volumes = [make_volume(KINDS[n % len(KINDS)], rng) for n in range(args.volumes)]
    methods: dict[str, Predict] = {
        "forecaster: expected free space": ours,
        "forecaster: 90% band (at risk)": at_risk,
        "least squares, 14 days": least_squares,
        "last two readings": last_two,
    }
    print(f"{len(volumes)} volumes, seed {args.seed}, horizon {HORIZON.days} days")
    histories = [[o for o in v.history if o.at <= D] for v in volumes]
    started = time.perf_counter()
    for history in histories:
        forecast_volume(history, WINDOWS, D, HORIZON)
    each = (time.perf_counter() - started) / len(histories)
    print(f"one forecast (about 55 readings over 14 days): {1000 * each:.2f} ms\n")
    groups: list[tuple[str, Sequence[Volume]]] = [
        ("all volumes", volumes),
        ("drains ≥ 100 MB/day", [v for v in volumes if v.rate >= 100 * MB]),
        ("flat volumes", [v for v in volumes if v.kind == "flat"]),
        ("noisy flat volumes", [v for v in volumes if v.kind == "noisy flat"]),
        *[(f"kind: {kind}", [v for v in volumes if v.kind == kind]) for kind in KINDS[:5]],
    ]
    for title, group in groups:
        print(f"{title} ({len(group)})\n\n{HEAD}")
        for name, predict in methods.items():
            print(_row(name, score(group, predict)))
        print()


if __name__ == "__main__":
    main()
