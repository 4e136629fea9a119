"""Benchmark: parse and evaluate snapshots of 1k, 10k and 100k volumes; time and memory per volume.

    uv run python bench/evaluate_scale.py [--sizes 1000 10000 100000] [--repeat 3]

Each size is a realistic mix: System Reserved, C:, a backup destination, lettered and mount-folder
data volumes, sources and volumes outside the backup, shared diff areas (some too small), shadow
storage limits, and a few percent of full volumes. Growth is reported against the smallest size
measured in the same run: a ratio of 1.0 per volume is linear (the floor). Times are CPU time of
this process, best of --repeat runs; peaks are tracemalloc's, in a run of their own.

Snapshots above the model's cap (checks.snapshot.MAX_VOLUMES) cannot come from a host, so for
them the bench validates each volume and shadow-storage row with the same models and assembles
the Snapshot without the count cap and the reference check (`model_construct`); the "validate"
column of those rows says so.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pydantic import TypeAdapter  # noqa: E402

from checks.evaluate import evaluate  # noqa: E402
from checks.i18n import Catalog  # noqa: E402
from checks.snapshot import (  # noqa: E402
    MAX_VOLUMES,
    BackupPolicy,
    ShadowStorage,
    Snapshot,
    Volume,
    parse_snapshot,
)

GB = 1024**3
MB = 1024**2
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
_LETTERS = [f"{c}:" for c in "DFGHIJKLMNOPQRSTUVWXYZ"]
_VOLUMES = TypeAdapter(list[Volume])
_ROWS = TypeAdapter(list[ShadowStorage])
T = TypeVar("T")


def _vid(rng: random.Random) -> str:
    return f"\\\\?\\Volume{{{uuid.UUID(int=rng.getrandbits(128))}}}\\"


def build_document(n: int, seed: int = 1) -> dict[str, Any]:
    """A Snapshot v1 document with n volumes (n >= 3), the same mix at every size."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    volumes: list[dict[str, Any]] = []
    sources: list[str] = []
    rows: list[dict[str, Any]] = []

    def add(name: str | None, letter: str | None, capacity: int, free: int, **extra: Any) -> str:
        vid = _vid(rng)
        volumes.append(
            {
                "id": vid,
                "name": name or vid,
                "letter": letter,
                "label": extra.pop("label", f"data {len(volumes)}"),
                "filesystem": extra.pop("filesystem", "NTFS"),
                "capacity_bytes": capacity,
                "free_bytes": free,
                **extra,
            }
        )
        return vid

    sources.append(add(None, None, 500 * MB, 150 * MB, label="System Reserved", boot=True))
    sources.append(add("C:\\", "C:", 127 * GB, 31 * GB, label="", windows=True))
    target = add("E:\\", "E:", 4096 * GB, 900 * GB, label="Backup")
    rows.append(_row(target, target, used=3000 * GB))
    shadow_host: str | None = None
    for i in range(3, n):
        letter = _LETTERS[i - 3] if i - 3 < len(_LETTERS) else None
        name = f"{letter}\\" if letter else f"C:\\Mount\\Vol{i:06}\\"
        if i % 50 == 3:
            # A volume that keeps the diff areas of the next sources; one in three is too small.
            free = 300 * MB if i % 150 == 3 else 200 * GB
            shadow_host = add(name, letter, 500 * GB, free, label=f"shadow {i}")
            continue
        capacity = rng.choice([10, 40, 100, 500, 2048]) * GB
        roll = rng.random()
        if roll < 0.04:
            free = rng.randrange(1, 320) * MB  # critical: a snapshot will fail
        elif roll < 0.12:
            free = rng.randrange(320, 1024) * MB  # warning: below the recommended 1 GB
        else:
            free = capacity // rng.choice([2, 3, 5])
        fs = "ReFS" if rng.random() < 0.1 else "NTFS"
        vid = add(name, letter, capacity, free, filesystem=fs)
        if rng.random() < 0.7:
            sources.append(vid)
            kind = rng.random()
            if shadow_host is not None and kind < 0.2:
                rows.append(_row(vid, shadow_host, used=rng.randrange(0, 50) * GB))
            elif kind < 0.4:
                rows.append(_row(vid, vid, used=rng.randrange(1, 20) * GB))
            elif kind < 0.42:
                rows.append(_row(vid, vid, used=0, max_bytes=300 * MB))  # limit below 320 MB
    target_row = {
        "type": "volume",
        "volume_id": target,
        "path": None,
        "label": "Backup",
        "capacity_bytes": 4096 * GB,
        "free_bytes": 900 * GB,
    }
    return {
        "schema": 1,
        "host": f"SCALE{n}",
        "collected_at": "2026-11-24T10:00:00+00:00",
        "volumes": volumes,
        "backup": {
            "sources": sources,
            "target": target_row,
            "schedule": ["21:00"],
            "next_backup_at": "2026-11-24T21:00:00+09:00",
            "last_success_at": "2026-11-22T21:42:10+09:00",
            "last_result_hresult": 0x80780119,
        },
        "shadow_storage": rows,
    }


def _row(for_id: str, on_id: str, used: int, max_bytes: int | None = None) -> dict[str, Any]:
    return {
        "for_volume_id": for_id,
        "on_volume_id": on_id,
        "used_bytes": used,
        "allocated_bytes": used,
        "max_bytes": max_bytes,
    }


def validate(document: str, n: int) -> Snapshot:
    """parse_snapshot within the cap; above it, the same models part by part (see the docstring)."""
    if n <= MAX_VOLUMES:
        return parse_snapshot(document)
    raw = json.loads(document)
    backup = raw["backup"]
    # Every field of the policy is validated; only the long list of sources is put back after.
    policy = BackupPolicy.model_validate({**backup, "sources": []})
    return Snapshot.model_construct(
        schema_=1,
        host=raw["host"],
        collected_at=datetime.fromisoformat(raw["collected_at"]),
        volumes=_VOLUMES.validate_python(raw["volumes"]),
        backup=policy.model_copy(update={"sources": list(backup["sources"])}),
        shadow_storage=_ROWS.validate_python(raw["shadow_storage"]),
        warnings=[],
    )


def _best_of(repeat: int, work: Callable[[], T]) -> tuple[float, T]:
    # CPU time of this process: on a machine shared with other work, wall time measures the
    # neighbours as much as the code (one thread, so the two agree on an idle machine).
    best, result = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        started = time.process_time()
        result = work()
        best = min(best, time.process_time() - started)
    if result is None:
        raise ValueError("repeat must be at least 1")
    return best, result


def _peak(work: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def measure(n: int, repeat: int, catalog: Catalog) -> dict[str, float]:
    """CPU seconds to validate and to evaluate n volumes (best of repeat), and peak bytes."""
    document = json.dumps(build_document(n))
    validate_s, snapshot = _best_of(repeat, lambda: validate(document, n))
    evaluate_s, report = _best_of(repeat, lambda: evaluate(snapshot, NOW, catalog))
    return {
        "validate_s": validate_s,
        "validate_peak": _peak(lambda: validate(document, n)),
        "evaluate_s": evaluate_s,
        "evaluate_peak": _peak(lambda: evaluate(snapshot, NOW, catalog)),
        "findings": len(report.findings),
        "commands": sum(len(tip.commands) for f in report.findings for tip in f.tips),
    }


def main() -> None:
    """Measure every size and print one table, with ratios against the smallest size."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per size (best kept)")
    parser.add_argument(
        "--no-gc",
        action="store_true",
        help="turn the cyclic garbage collector off, to tell its share from the code's",
    )
    args = parser.parse_args()
    if args.no_gc:
        gc.disable()  # gc.collect() between runs still works
    catalog = Catalog("en")
    print(f"volume cap: {MAX_VOLUMES:,} (* above it: assembled with model_construct)")
    print(
        "| volumes | validate CPU ms | µs/vol | peak MB | evaluate CPU ms | µs/vol | ratio "
        "| peak MB | KB/vol | findings | commands |"
    )
    floor: float | None = None
    for n in sorted(args.sizes):
        m = measure(n, args.repeat, catalog)
        per_volume = m["evaluate_s"] / n
        floor = floor or per_volume
        capped = "*" if n > MAX_VOLUMES else ""
        print(
            f"| {n:,} | {m['validate_s'] * 1e3:,.0f}{capped} | {m['validate_s'] / n * 1e6:,.1f} "
            f"| {m['validate_peak'] / MB:,.1f} | {m['evaluate_s'] * 1e3:,.0f} "
            f"| {per_volume * 1e6:,.1f} | {per_volume / floor:.2f} "
            f"| {m['evaluate_peak'] / MB:,.1f} | {m['evaluate_peak'] / n / 1024:,.1f} "
            f"| {m['findings']:,} | {m['commands']:,} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
