"""Servers read from the snapshot file their own scheduled task writes: fresh, old, missing, odd."""

from __future__ import annotations

import codecs
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from checks.collect.dispatch import collect_for
from checks.collect.errors import CollectError
from checks.collect.file import read_snapshot_file
from checks.fleet import check_fleet
from checks.i18n import Catalog
from checks.inventory import Inventory, Server
from checks.json_text import MAX_DOCUMENT_BYTES
from checks.report import Status
from checks.snapshot import Snapshot

PATH = "the snapshot file {}"


def write(path: Path, snapshot: Snapshot, written: datetime, encoding: str = "utf-8") -> Path:
    """The snapshot as the probe's scheduled task leaves it, last modified at `written`."""
    text = snapshot.to_json()
    data = codecs.BOM_UTF16_LE + text.encode("utf-16-le") if encoding == "utf-16" else text.encode()
    path.write_bytes(data)
    os.utime(path, (written.timestamp(), written.timestamp()))
    return path


def server(path: Path, **settings: Any) -> Server:
    inventory = Inventory.model_validate(
        {"servers": [{"name": "server01", "snapshot_file": str(path), **settings}]}
    )
    (found,) = inventory.resolved()
    return found


@pytest.fixture
def incident(load_snapshot: Callable[[str], Snapshot], now: datetime) -> Snapshot:
    """D: at 235 MB free, collected at `now`."""
    return load_snapshot("seed-incident").model_copy(update={"collected_at": now})


def test_a_fresh_file_is_checked_like_any_server(
    tmp_path: Path, incident: Snapshot, now: datetime, en: Catalog
) -> None:
    path = write(tmp_path / "server01.json", incident, now - timedelta(minutes=10))
    target = server(path)
    inventory = Inventory.model_validate({"servers": [{"name": "server01", "snapshot_file": path}]})
    (report,) = check_fleet(
        [target], collect_for(inventory, {}, lambda: now), en, clock=lambda: now
    )
    assert report.status is Status.CRITICAL
    assert report.findings[0].message.startswith("D: has 235 MB free")


def test_utf16_as_windows_powershell_writes_it_is_read(
    tmp_path: Path, incident: Snapshot, now: datetime
) -> None:
    path = write(tmp_path / "server01.json", incident, now, encoding="utf-16")
    assert read_snapshot_file(server(path), now) == incident


@pytest.mark.parametrize(
    ("collected_ago", "written_ago", "age"),
    [
        (timedelta(days=3, hours=1), timedelta(days=3), "3 days old"),  # the task stopped
        # The server's clock runs a day ahead, so its snapshot looks new; the file is not.
        (timedelta(days=-1), timedelta(hours=30), "30 hours old"),
        (timedelta(hours=27), timedelta(hours=27), "27 hours old"),
    ],
)
def test_a_snapshot_older_than_allowed_is_unknown_with_one_sentence(
    tmp_path: Path,
    incident: Snapshot,
    now: datetime,
    en: Catalog,
    collected_ago: timedelta,
    written_ago: timedelta,
    age: str,
) -> None:
    snapshot = incident.model_copy(update={"collected_at": now - collected_ago})
    path = write(tmp_path / "server01.json", snapshot, now - written_ago)
    target = server(path)
    (report,) = check_fleet([target], lambda s: read_snapshot_file(s, now), en, clock=lambda: now)
    assert report.status is Status.UNKNOWN
    assert report.findings[0].message == (
        f"server01 could not be checked: {PATH.format(path)} is {age}, older than "
        "max_snapshot_age_min allows; the scheduled task on server01 may have stopped"
    )


def test_an_hourly_task_may_set_a_shorter_age_and_minutes_are_said_as_minutes(
    tmp_path: Path, incident: Snapshot, now: datetime, en: Catalog
) -> None:
    snapshot = incident.model_copy(update={"collected_at": now - timedelta(minutes=95)})
    path = write(tmp_path / "server01.json", snapshot, now - timedelta(minutes=95))
    with pytest.raises(CollectError) as caught:
        read_snapshot_file(server(path, max_snapshot_age_min=90), now)
    assert "is 95 minutes old" in caught.value.text(en)
    assert read_snapshot_file(server(path, max_snapshot_age_min=100), now) == snapshot


def test_a_missing_file_is_unknown_and_says_what_to_look_at(
    tmp_path: Path, now: datetime, en: Catalog, ja: Catalog
) -> None:
    path = tmp_path / "share" / "server01.json"
    (report,) = check_fleet(
        [server(path)], lambda s: read_snapshot_file(s, now), en, clock=lambda: now
    )
    assert report.status is Status.UNKNOWN
    assert report.findings[0].message == (
        f"server01 could not be checked: {PATH.format(path)} does not exist; the scheduled "
        "task on server01 may not have run yet, or the share is not mounted"
    )
    with pytest.raises(CollectError) as caught:
        read_snapshot_file(server(path), now)
    assert caught.value.text(ja).startswith(f"スナップショット ファイル {path} がありません")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "the snapshot is empty."),
        (b'{"schema": 1,}', "the snapshot is not valid JSON: at line 1, column 14"),
        (b"x" * (MAX_DOCUMENT_BYTES + 10), "the snapshot is larger than 16 MiB."),
    ],
)
def test_a_file_that_is_not_a_snapshot_is_unknown(
    tmp_path: Path, now: datetime, en: Catalog, content: bytes, problem: str
) -> None:
    path = tmp_path / "server01.json"
    path.write_bytes(content)
    with pytest.raises(CollectError) as caught:
        read_snapshot_file(server(path), now)
    assert caught.value.text(en).startswith(f"{PATH.format(path)} is unusable: {problem}")


def test_a_directory_in_place_of_the_file_is_unreadable(
    tmp_path: Path, now: datetime, en: Catalog
) -> None:
    with pytest.raises(CollectError) as caught:
        read_snapshot_file(server(tmp_path), now)
    assert caught.value.text(en).startswith(f"cannot read {PATH.format(tmp_path)}: ")


def test_the_dispatch_never_opens_a_file_for_a_winrm_server_or_winrm_for_a_file_server(
    tmp_path: Path, incident: Snapshot, now: datetime
) -> None:
    path = write(tmp_path / "dmz01.json", incident, now)
    inventory = Inventory.model_validate(
        {"servers": [{"name": "dmz01", "snapshot_file": path}, {"name": "fs01", "address": "x"}]}
    )
    collect = collect_for(inventory, {}, lambda: now)
    dmz01, fs01 = inventory.resolved()
    assert collect(dmz01) == incident
    with pytest.raises(CollectError) as caught:
        collect(fs01)  # no credential: WinRM refuses before any connection
    assert caught.value.key == "no_credential"
