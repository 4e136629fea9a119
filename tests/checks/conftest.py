"""Builders for snapshots written as plain data, so rule tests read like the spec."""

from __future__ import annotations

from typing import Any

import pytest

from checks.snapshot import Snapshot
from checks.units import GB, MB


class Build:
    """Makes Snapshot v1 documents; every volume is named by its letter, e.g. "D"."""

    @staticmethod
    def volume(letter: str | None, capacity: int, free: int, **extra: Any) -> dict[str, Any]:
        """A volume whose id is derived from its letter (or the given id)."""
        vid = extra.pop("id", f"\\\\?\\Volume{{{letter}}}\\")
        return {
            "id": vid,
            "name": f"{letter}:\\" if letter else vid,
            "letter": f"{letter}:" if letter else None,
            "label": extra.pop("label", None),
            "filesystem": extra.pop("filesystem", "NTFS"),
            "capacity_bytes": capacity,
            "free_bytes": free,
            **extra,
        }

    @staticmethod
    def vid(letter: str) -> str:
        """The id Build.volume gives the volume with this letter."""
        return f"\\\\?\\Volume{{{letter}}}\\"

    def snapshot(
        self,
        volumes: list[dict[str, Any]],
        sources: list[str] | None = None,
        target: str | dict[str, Any] | None = None,
        shadow_storage: list[dict[str, Any]] | None = None,
        **backup: Any,
    ) -> Snapshot:
        """A snapshot; sources/target name volumes by letter; sources=None means no policy."""
        policy = None
        if sources is not None:
            if isinstance(target, str):
                target = {
                    "type": "volume",
                    "volume_id": self.vid(target),
                    "path": None,
                    "label": None,
                    "capacity_bytes": None,
                    "free_bytes": None,
                }
            policy = {
                "sources": [self.vid(s) for s in sources],
                "target": target,
                "schedule": ["21:00"],
                "next_backup_at": None,
                "last_success_at": None,
                "last_result_hresult": 0,
                **backup,
            }
        return Snapshot.model_validate(
            {
                "schema": 1,
                "host": "TEST01",
                "collected_at": "2026-11-24T10:00:00+00:00",
                "volumes": volumes,
                "backup": policy,
                "shadow_storage": shadow_storage or [],
            }
        )

    def shadow(
        self, for_: str, on: str, max_bytes: int | None = None, used: int = 0
    ) -> dict[str, Any]:
        """A shadow-storage association between two lettered volumes."""
        return {
            "for_volume_id": self.vid(for_),
            "on_volume_id": self.vid(on),
            "used_bytes": used,
            "allocated_bytes": used,
            "max_bytes": max_bytes,
        }

    def network(self, free: int | None, path: str = "\\\\nas\\backup") -> dict[str, Any]:
        """A network-share target."""
        return {
            "type": "network",
            "volume_id": None,
            "path": path,
            "label": None,
            "capacity_bytes": None if free is None else 100 * 1024 * GB,
            "free_bytes": free,
        }


@pytest.fixture
def build() -> Build:
    """The snapshot builder."""
    return Build()


@pytest.fixture
def build_full_destination(build: Build) -> Snapshot:
    """A backup destination volume too full for its own shadow copy."""
    return build.snapshot(
        [build.volume("C", 100 * GB, 40 * GB), build.volume("E", 1000 * GB, 200 * MB)],
        sources=["C"],
        target="E",
        shadow_storage=[build.shadow("E", "E", used=990 * GB)],
    )
