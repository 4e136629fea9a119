"""Fix tips: the right advice, with exact numbers and commands that paste as they are."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import pytest

from checks.evaluate import evaluate
from checks.i18n import Catalog
from checks.report import Report, Tip
from checks.snapshot import Snapshot, parse_snapshot
from checks.units import GB, MB
from tests.checks.conftest import Build
from tests.conftest import FIXTURES

Load = Callable[[str], Snapshot]
SR_GUID = "\\\\?\\Volume{6f1c0000-0000-0000-0000-0000000000a1}\\"


def _tips(report: Report, code: str) -> list[Tip]:
    return [tip for f in report.findings if f.code == code for tip in f.tips]


def _commands(tips: list[Tip]) -> list[str]:
    return [c.text for tip in tips for c in tip.commands]


def test_a_full_source_gets_the_amount_to_free_and_a_move_of_its_diff_area(
    load_snapshot: Load, now: datetime, en: Catalog
) -> None:
    tips = _tips(evaluate(load_snapshot("seed-incident"), now, en), "VSS_MIN_FREE")
    assert tips[0].text == (
        "Free at least 85 MB on D:. A shadow copy needs 320 MB free there; 235 MB is free now. "
        "Freeing 789 MB in all reaches the recommended 1 GB."
    )
    assert "Get-ChildItem -LiteralPath 'D:\\'" in tips[0].commands[0].text
    # The move goes to C:, never to E: (the backup destination).
    assert _commands(tips[1:2]) == [
        "vssadmin delete shadows /for=D: /all /quiet",
        "vssadmin add shadowstorage /for=D: /on=C:",
    ]
    assert "must be deleted first" in tips[1].text


def test_system_reserved_is_named_by_guid_in_commands_and_explained(
    load_snapshot: Load, now: datetime, en: Catalog
) -> None:
    tips = _tips(evaluate(load_snapshot("system-reserved"), now, en), "VSS_MIN_FREE")
    assert tips[0].text.startswith("Free at least 10 MB on System Reserved.")
    assert tips[0].commands == []  # no drive letter: nothing to list folders of
    assert _commands(tips) == [
        f"vssadmin delete shadows /for={SR_GUID} /all /quiet",
        f"vssadmin add shadowstorage /for={SR_GUID} /on=C:",
        "reagentc /info",
    ]
    assert "Winre.wim" in tips[-1].text
    assert "KB5028997" in tips[-1].text


def test_a_shared_diff_area_host_lists_its_guests_and_their_shadow_copies(
    load_snapshot: Load, now: datetime, en: Catalog, ja: Catalog
) -> None:
    report = evaluate(load_snapshot("shared-diff-area"), now, en)
    (finding,) = [f for f in report.findings if f.code == "VSS_MIN_FREE"]
    assert finding.message.startswith(
        "G: has 500 MB free, less than the 640 MB needed there for the shadow copies of D:, F:."
    )
    commands = _commands(finding.tips)
    assert "vssadmin delete shadows /for=D: /oldest" in commands
    assert "vssadmin delete shadows /for=F: /oldest" in commands
    # An existing association is removed before the new one is added.
    assert commands.index("vssadmin delete shadowstorage /for=D: /on=G: /quiet") < commands.index(
        "vssadmin add shadowstorage /for=D: /on=F:"
    )
    japanese = evaluate(load_snapshot("shared-diff-area"), now, ja)
    assert "D:、F: のシャドウ コピー用" in japanese.findings[0].message


def test_a_shadow_storage_limit_gets_resize_commands(
    load_snapshot: Load, now: datetime, en: Catalog
) -> None:
    tips = _tips(evaluate(load_snapshot("shadow-limit"), now, en), "SHADOW_STORAGE_LIMIT")
    assert _commands(tips) == [
        "vssadmin resize shadowstorage /for=D: /on=D: /maxsize=1024MB",
        "vssadmin resize shadowstorage /for=D: /on=D: /maxsize=UNBOUNDED",
    ]
    assert "from 300 MB to at least 320 MB" in tips[0].text


def test_the_windows_volume_gets_component_store_cleanup(
    load_snapshot: Load, now: datetime, en: Catalog
) -> None:
    tips = _tips(evaluate(load_snapshot("no-policy"), now, en), "RECOMMENDED_FREE")
    assert "Dism.exe /Online /Cleanup-Image /StartComponentCleanup" in _commands(tips)
    assert tips[0].text.startswith("Free 324 MB on C: to reach the recommended 1 GB")


def test_a_full_destination_gets_old_backup_versions_pruned(
    build_full_destination: Snapshot, now: datetime, en: Catalog
) -> None:
    tips = _tips(evaluate(build_full_destination, now, en), "VSS_MIN_FREE")
    assert "Remove-WBBackupSet -KeepVersions 7 -Force" in _commands(tips)
    # The destination's own shadow copies are backup versions: no "delete oldest" tip for them.
    assert not any(c == "vssadmin delete shadows /for=E: /oldest" for c in _commands(tips))


def test_network_targets_get_share_advice(load_snapshot: Load, now: datetime, en: Catalog) -> None:
    full = _tips(evaluate(load_snapshot("network-target"), now, en), "NETWORK_TARGET_FULL")
    assert full[0].text.startswith("Free at least 30 GB on \\\\nas01\\backup$\\APP04")
    assert _commands(full) == ['dir "\\\\nas01\\backup$\\APP04"']
    unknown = _tips(
        evaluate(load_snapshot("network-space-unknown"), now, en), "NETWORK_TARGET_SPACE_UNKNOWN"
    )
    assert "double-hop" in unknown[0].text


def test_elevation_is_marked_on_every_command_that_needs_it(
    load_snapshot: Load, now: datetime, en: Catalog
) -> None:
    report = evaluate(load_snapshot("shared-diff-area"), now, en)
    for finding in report.findings:
        for tip in finding.tips:
            for command in tip.commands:
                if command.text.startswith(("vssadmin", "Dism.exe", "reagentc")):
                    assert command.elevated, command.text


def test_tips_use_the_catalog_language(load_snapshot: Load, now: datetime, ja: Catalog) -> None:
    tips = _tips(evaluate(load_snapshot("system-reserved"), now, ja), "VSS_MIN_FREE")
    assert tips[0].text.startswith("System Reserved で少なくとも 10 MB を空けてください。")
    assert "KB5028997" in tips[-1].text


def test_a_share_cmd_could_misread_is_read_from_powershell(
    load_snapshot: Load, now: datetime, en: Catalog
) -> None:
    snapshot = load_snapshot("network-space-unknown")
    assert snapshot.backup is not None
    target = snapshot.backup.target.model_copy(update={"path": "\\\\nas01\\R&D\\it's 100%"})
    hostile = snapshot.model_copy(
        update={"backup": snapshot.backup.model_copy(update={"target": target})}
    )
    (tip,) = _tips(evaluate(hostile, now, en), "NETWORK_TARGET_SPACE_UNKNOWN")
    assert [(c.shell, c.text) for c in tip.commands] == [
        (
            "powershell",
            "(New-Object -ComObject Scripting.FileSystemObject)"
            ".GetFolder('\\\\nas01\\R&D\\it''s 100%').Drive | Format-List",
        )
    ]
    assert "FreeSpace" in tip.text


def test_a_mount_folder_is_named_by_its_guid_path_in_cmd_and_quoted_in_powershell(
    build: Build, now: datetime, en: Catalog
) -> None:
    mount = build.volume(None, 20 * GB, 100 * MB, id="\\\\?\\Volume{m1}\\", name="C:\\R&D's\\")
    snapshot = build.snapshot(
        [build.volume("C", 200 * GB, 150 * GB), mount, build.volume("E", 4000 * GB, 3000 * GB)],
        sources=["C", "m1"],
        target="E",
    )
    report = evaluate(snapshot, now, en)
    (finding,) = [f for f in report.findings if f.code == "VSS_MIN_FREE"]
    commands = [(c.shell, c.text) for tip in finding.tips for c in tip.commands]
    assert commands[0][0] == "powershell"
    assert commands[0][1].startswith("Get-ChildItem -LiteralPath 'C:\\R&D''s\\' ")
    assert ("cmd", "vssadmin add shadowstorage /for=\\\\?\\Volume{m1}\\ /on=C:") in commands
    assert all("R&D" not in text for shell, text in commands if shell == "cmd")


@pytest.mark.parametrize(
    ("lang", "fix"),
    [
        ("en", "Check that the backup target is attached, online and writable"),
        ("ja", "バックアップ先が接続され、オンラインで書き込み可能であることを確認してください"),
    ],
)
def test_a_failed_last_backup_first_says_what_to_do_about_its_code(
    now: datetime, lang: str, fix: str, en: Catalog, ja: Catalog
) -> None:
    snapshot = parse_snapshot((FIXTURES / "outcomes" / "target-missing.json").read_bytes())
    report = evaluate(snapshot, now, en if lang == "en" else ja)
    failed = next(f for f in report.findings if f.code == "LAST_BACKUP_FAILED")
    assert "0x807800C5" in failed.message
    assert [(t.text.startswith(fix), len(t.commands)) for t in failed.tips] == [
        (True, 0),
        (False, 2),
    ]


def test_an_unknown_code_gets_only_the_commands_to_look_further(now: datetime, en: Catalog) -> None:
    document = json.loads((FIXTURES / "snapshots" / "seed-incident.json").read_text())
    document["backup"]["last_result_hresult"] = 0x80780123
    report = evaluate(parse_snapshot(json.dumps(document)), now, en)
    failed = next(f for f in report.findings if f.code == "LAST_BACKUP_FAILED")
    assert failed.message == "The last backup failed with 0x80780123: no description known."
    assert [t.text for t in failed.tips] == ["See why the last backup failed:"]
