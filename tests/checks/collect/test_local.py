"""The local collector: fixed, writable volumes only, each device once."""

from __future__ import annotations

from collections import namedtuple
from datetime import UTC, datetime

import pytest

from checks.collect.errors import CollectError
from checks.collect.local import LocalCollector
from checks.units import GB

Partition = namedtuple("Partition", "device mountpoint fstype opts")
Usage = namedtuple("Usage", "total used free percent")
CLOCK = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


class RecordedDisks:
    """A psutil stand-in that replays partitions recorded from real machines."""

    def __init__(self, partitions: list[Partition], usage: dict[str, Usage | OSError]) -> None:
        self.partitions = partitions
        self.usage = usage
        self.asked: list[str] = []

    def disk_partitions(self, all: bool = False) -> list[Partition]:
        assert all is False, "the collector must ask for physical partitions only"
        return self.partitions

    def disk_usage(self, path: str) -> Usage:
        self.asked.append(path)
        result = self.usage[path]
        if isinstance(result, OSError):
            raise result
        return result


# As psutil 7 reported them inside a Linux container (bind mounts repeat the root device).
LINUX = [
    Partition("/dev/vda", "/", "ext4", "rw,relatime,discard"),
    Partition("/dev/vda", "/etc/hosts", "ext4", "rw,relatime,discard"),
    Partition("overlay", "/var/lib/docker/overlay2/x/merged", "overlay", "rw,relatime"),
    Partition("tmpfs", "/run", "tmpfs", "rw,nosuid"),
    Partition("/dev/loop3", "/snap/core22/1380", "squashfs", "ro,nodev,relatime"),
    Partition("/dev/sdb1", "/srv/archive", "xfs", "ro,relatime"),
    Partition("/dev/nvme0n1p2", "/data", "xfs", "rw,relatime"),
]
# As psutil reports a Windows server (opts carry the drive type).
WINDOWS = [
    Partition("C:\\", "C:\\", "NTFS", "rw,fixed"),
    Partition("D:\\", "D:\\", "NTFS", "rw,fixed"),
    Partition("E:\\", "E:\\", "UDF", "ro,cdrom"),
    Partition("F:\\", "F:\\", "FAT32", "rw,removable"),
]


def test_linux_sees_each_real_device_once_and_skips_pseudo_and_read_only_filesystems() -> None:
    disks = RecordedDisks(
        LINUX,
        {
            "/": Usage(250 * GB, 170 * GB, 80 * GB, 68.0),
            "/data": Usage(2000 * GB, 1999 * GB, 700 * 2**20, 99.9),
        },
    )
    snapshot = LocalCollector(disks, hostname="buildhost", clock=lambda: CLOCK).collect()
    assert [(v.id, v.name, v.letter, v.filesystem) for v in snapshot.volumes] == [
        ("/dev/vda", "/", None, "ext4"),
        ("/dev/nvme0n1p2", "/data", None, "xfs"),
    ]
    assert snapshot.volumes[1].free_bytes == 700 * 2**20
    assert (snapshot.host, snapshot.collected_at, snapshot.backup) == ("buildhost", CLOCK, None)
    assert disks.asked == ["/", "/data"]


def test_windows_sees_fixed_drive_letters_only() -> None:
    disks = RecordedDisks(
        WINDOWS,
        {
            "C:\\": Usage(127 * GB, 96 * GB, 31 * GB, 75.6),
            "D:\\": Usage(40 * GB, 40 * GB - 235 * 2**20, 235 * 2**20, 99.4),
        },
    )
    snapshot = LocalCollector(disks, hostname="SERVER01", clock=lambda: CLOCK).collect()
    assert [(v.letter, v.name, v.filesystem) for v in snapshot.volumes] == [
        ("C:", "C:\\", "NTFS"),
        ("D:", "D:\\", "NTFS"),
    ]


def test_an_unreadable_mount_is_a_warning_not_a_failure() -> None:
    disks = RecordedDisks(
        LINUX[:1] + LINUX[-1:],
        {
            "/": Usage(250 * GB, 170 * GB, 80 * GB, 68.0),
            "/data": PermissionError(13, "Permission denied"),
        },
    )
    snapshot = LocalCollector(disks, clock=lambda: CLOCK).collect()
    assert [v.name for v in snapshot.volumes] == ["/"]
    assert snapshot.warnings == ["/data: Permission denied"]


def test_no_volume_at_all_is_a_collect_error_with_a_reason() -> None:
    disks = RecordedDisks([Partition("tmpfs", "/", "tmpfs", "rw")], {})
    with pytest.raises(CollectError, match="no fixed, writable volume") as caught:
        LocalCollector(disks, clock=lambda: CLOCK).collect()
    assert caught.value.permanent


def test_the_real_machine_yields_a_valid_snapshot() -> None:
    snapshot = LocalCollector().collect()
    assert snapshot.volumes
    assert all(0 <= v.free_bytes <= v.capacity_bytes for v in snapshot.volumes)
    assert len({v.id for v in snapshot.volumes}) == len(snapshot.volumes)
