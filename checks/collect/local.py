"""The local collector: this machine's own fixed volumes, read with psutil."""

from __future__ import annotations

import platform
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import psutil

from checks.collect.errors import CollectError
from checks.snapshot import Snapshot, Volume

# Filesystems that hold no data of their own (kernel views, RAM disks, container layers, images).
PSEUDO_FILESYSTEMS = frozenset(
    {
        "autofs",
        "binfmt_misc",
        "bpf",
        "cgroup",
        "cgroup2",
        "configfs",
        "debugfs",
        "devfs",
        "devpts",
        "devtmpfs",
        "efivarfs",
        "fuse.lxcfs",
        "fusectl",
        "hugetlbfs",
        "iso9660",
        "mqueue",
        "nsfs",
        "overlay",
        "proc",
        "pstore",
        "ramfs",
        "rpc_pipefs",
        "securityfs",
        "selinuxfs",
        "squashfs",
        "sysfs",
        "tmpfs",
        "tracefs",
        "udf",
        "aufs",
        "fuse.snapfuse",
        "cdfs",
        "nullfs",
        "procfs",
    }
)
_DRIVE_ROOT = re.compile(r"^([A-Za-z]:)\\?$")


class PartitionSource(Protocol):
    """The part of psutil the collector uses, so tests can hand in recorded partitions."""

    def disk_partitions(self, all: bool = ...) -> list[Any]: ...

    def disk_usage(self, path: str) -> Any: ...


class LocalCollector:
    """Reads this machine's fixed, writable volumes as a Snapshot with no backup policy."""

    def __init__(
        self,
        source: PartitionSource | None = None,
        hostname: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._source: PartitionSource = source if source is not None else psutil
        self.hostname = hostname or platform.node() or "localhost"
        self._clock = clock

    def collect(self) -> Snapshot:
        """Snapshot of the local volumes; raises CollectError if none can be read."""
        volumes: list[Volume] = []
        warnings: list[str] = []
        seen_devices: set[str] = set()
        partitions = sorted(
            self._source.disk_partitions(all=False), key=lambda p: len(p.mountpoint)
        )
        for part in partitions:
            if not _is_fixed_data_volume(part) or part.device in seen_devices:
                continue
            try:
                usage = self._source.disk_usage(part.mountpoint)
            except OSError as error:
                warnings.append(f"{part.mountpoint}: {error.strerror or error}")
                continue
            seen_devices.add(part.device)
            letter_match = _DRIVE_ROOT.match(part.mountpoint)
            volumes.append(
                Volume(
                    id=part.device,
                    name=part.mountpoint,
                    letter=letter_match.group(1).upper() if letter_match else None,
                    label=None,
                    filesystem=part.fstype or None,
                    capacity_bytes=usage.total,
                    free_bytes=min(usage.free, usage.total),
                )
            )
        if not volumes:
            if warnings:
                raise CollectError(
                    "no_local_volume_detail", permanent=True, detail="; ".join(warnings)
                )
            raise CollectError("no_local_volume", permanent=True)
        return Snapshot(
            schema_=1,
            host=self.hostname,
            collected_at=self._clock(),
            volumes=volumes,
            backup=None,
            shadow_storage=[],
            warnings=warnings,
        )


def _is_fixed_data_volume(part: Any) -> bool:
    options = set(str(part.opts).split(","))
    if str(part.fstype).lower() in PSEUDO_FILESYSTEMS or not part.fstype:
        return False
    if "ro" in options:
        return False
    # On Windows psutil marks each drive's type in opts; only fixed disks hold backed-up data.
    return not ({"cdrom", "removable", "remote", "ramdisk"} & options)
