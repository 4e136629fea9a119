"""A hostile host cannot turn a fix tip into its own command, whatever it puts in a snapshot.

Every value that can reach a tip (letter, name, label, id, filesystem, share path) gets arbitrary
and adversarial text. The snapshot is either refused with one sentence, or every command of every
tip is one of ours: PowerShell parses to one statement whose host values are single-quoted
literals holding exactly those values, and cmd holds nothing cmd acts on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from checks import tip_commands
from checks.evaluate import evaluate
from checks.i18n import Catalog
from checks.names import is_mount_folder
from checks.quoting import cmd_quoted_path
from checks.report import Command, Report
from checks.snapshot import InvalidSnapshot, Snapshot, parse_snapshot
from checks.units import GB, MB
from tests.checks.powershell_syntax import parse

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
EN = Catalog("en")
ADVERSARIAL = [
    "D:'; Remove-Item -Recurse -Force C:\\Windows; '",
    "D:",
    '" & calc & "',
    '^" & calc & ^"',
    "x\r\nRemove-Item C:\\Windows",
    "x\u2019; Remove-Item C:\\Windows; \u2018",
    "\u2018\u2019\u201a\u201b'",
    "$(Remove-Item C:\\Windows)",
    '`"; calc; "',
    "%COMSPEC% /c calc",
    "!x! & calc",
    "\uff02 & calc & \uff02",
    "\x1b]0;pwned\x07",
    "R&D\\it's 100%",
    '\\\\?\\Volume{x" & calc & "}\\',
]
VALUES = st.one_of(
    st.sampled_from(ADVERSARIAL),
    st.text(max_size=40),
    st.text(
        alphabet=st.sampled_from(list("\\'\"&|<>^%!$`(){};: \r\n\u2018\u2019aZ:")), max_size=30
    ),
)
# Where a value goes, and how: the site's name, the document edit, and the text it becomes.
Edit = Callable[[dict[str, Any], str], None]
VSS = r"(?:[A-Za-z]:|\\\\\?\\Volume\{[0-9A-Za-z-]{1,64}\}\\)"
CMD_FORMS = [
    re.compile(p)
    for p in [
        rf"vssadmin list shadows /for={VSS}",
        rf"vssadmin delete shadows /for={VSS} (?:/oldest|/all /quiet)",
        rf"vssadmin delete shadowstorage /for={VSS} /on={VSS} /quiet",
        rf"vssadmin add shadowstorage /for={VSS} /on={VSS}",
        rf"vssadmin resize shadowstorage /for={VSS} /on={VSS} /maxsize=(?:\d+MB|UNBOUNDED)",
        r'dir "\\\\[A-Za-z0-9 $._\\:-]*[A-Za-z0-9 $._:-]"',
        *(re.escape(c.text) for c in tip_commands.COMPONENT_STORE + tip_commands.WINRE_INFO),
    ]
]
CONSTANT_PS = {c.text for c in tip_commands.LAST_BACKUP_FAILED + tip_commands.PRUNE_BACKUPS}


def _vid(name: str) -> str:
    return f"\\\\?\\Volume{{6f1c0000-0000-0000-0000-0000000000{name}}}\\"


def _volume(key: str, letter: str | None, capacity: int, free: int, **extra: Any) -> dict[str, Any]:
    vid = _vid(key)
    return {
        "id": vid,
        "name": extra.pop("name", f"{letter}\\" if letter else vid),
        "letter": letter,
        "label": extra.pop("label", f"vol {key}"),
        "filesystem": "NTFS",
        "capacity_bytes": capacity,
        "free_bytes": free,
        **extra,
    }


def _row(for_: str, on: str, used: int = 0, max_bytes: int | None = None) -> dict[str, Any]:
    return {
        "for_volume_id": _vid(for_),
        "on_volume_id": _vid(on),
        "used_bytes": used,
        "allocated_bytes": used,
        "max_bytes": max_bytes,
    }


def template(target: str = "volume") -> dict[str, Any]:
    """One host with a finding of every kind, and a tip of every kind for it."""
    volumes = [
        _volume("a1", None, 500 * MB, 10 * MB, label="System Reserved", boot=True),
        _volume("0c", "C:", 200 * GB, 150 * GB, windows=True),
        _volume("0d", "D:", 40 * GB, 200 * MB),  # critical: folders, shadows, move
        _volume("d1", None, 20 * GB, 100 * MB, name="C:\\Mount\\Logs\\"),  # a mount folder
        _volume("09", "G:", 2 * GB, 500 * MB),  # diff area of F: too
        _volume("0f", "F:", 500 * GB, 100 * GB),
        _volume("0b", "L:", 100 * GB, 50 * GB),  # its shadow storage is limited
        _volume("0a", "R:", 40 * GB, 700 * MB),  # below the recommended 1 GB
        _volume("0e", "E:", 1000 * GB, 200 * MB),  # the destination
    ]
    sources = [_vid(k) for k in ("a1", "0c", "0d", "d1", "0f", "0b", "0a")]
    targets = {
        "volume": {"type": "volume", "volume_id": _vid("0e"), "path": None},
        "full": {"type": "network", "volume_id": None, "path": "\\\\nas01\\backup$\\FS01"},
        "unknown": {"type": "network", "volume_id": None, "path": "\\\\nas01\\backup$\\FS01"},
    }
    space = {"full": (100 * GB, 1 * GB), "unknown": (None, None)}.get(target, (None, None))
    return {
        "schema": 1,
        "host": "FS01",
        "collected_at": "2026-11-24T10:00:00+00:00",
        "volumes": volumes,
        "backup": {
            "sources": sources,
            "target": {
                **targets[target],
                "label": None,
                "capacity_bytes": space[0],
                "free_bytes": space[1],
            },
            "schedule": ["21:00"],
            "next_backup_at": None,
            "last_success_at": None,
            "last_result_hresult": 0x80780119,
        },
        "shadow_storage": [
            _row("0d", "0d", used=5 * GB),
            _row("d1", "d1", used=1 * GB),
            _row("0f", "09", used=100 * MB),
            _row("0b", "0b", max_bytes=300 * MB),
            _row("0e", "0e", used=900 * GB),
        ],
    }


def _set_volume(key: str, field: str, wrap: str = "{}") -> Edit:
    def edit(doc: dict[str, Any], value: str) -> None:
        (volume,) = [v for v in doc["volumes"] if v["id"] == _vid(key)]
        volume[field] = wrap.replace("{}", value)

    return edit


def _set_id(key: str) -> Edit:
    def edit(doc: dict[str, Any], value: str) -> None:
        # The id is the key everywhere: change it in every reference too.
        text = json.dumps(doc).replace(json.dumps(_vid(key))[1:-1], json.dumps(value)[1:-1])
        doc.clear()
        doc.update(json.loads(text))

    return edit


def _set_path(wrap: str) -> Edit:
    def edit(doc: dict[str, Any], value: str) -> None:
        doc["backup"]["target"]["path"] = wrap.replace("{}", value)

    return edit


SITES: dict[str, tuple[str, Edit]] = {
    "letter": ("volume", _set_volume("0d", "letter")),
    "name": ("volume", _set_volume("d1", "name")),
    "name as mount folder": ("volume", _set_volume("d1", "name", "C:\\Mount\\{}\\")),
    "label of a volume without letter": ("volume", _set_volume("a1", "label")),
    "label": ("volume", _set_volume("0d", "label")),
    "filesystem": ("volume", _set_volume("0c", "filesystem")),
    "id": ("volume", _set_id("d1")),
    "share": ("full", _set_path("\\\\nas01\\{}")),
    "share folder": ("full", _set_path("\\\\nas01\\backup$\\{}")),
    "server": ("unknown", _set_path("\\\\{}\\backup$")),
    "path": ("unknown", _set_path("{}")),
}


def _report(target: str, edit: Edit, value: str) -> tuple[Snapshot, Report] | None:
    doc = template(target)
    edit(doc, value)
    try:
        snapshot = parse_snapshot(json.dumps(doc))
    except InvalidSnapshot as refused:
        sentence = str(refused)
        assert sentence.endswith(".")
        assert not set(sentence) & set("\r\n")
        return None
    return snapshot, evaluate(snapshot, NOW, EN)


def _commands(report: Report) -> list[Command]:
    return [c for f in report.findings for tip in f.tips for c in tip.commands]


def _host_literals(snapshot: Snapshot) -> set[str]:
    """The host values a PowerShell literal may hold: folder roots and the share path."""
    roots = {f"{v.letter}\\" for v in snapshot.volumes if v.letter}
    roots |= {v.name.rstrip("\\") + "\\" for v in snapshot.volumes if is_mount_folder(v.name)}
    if snapshot.backup is not None and snapshot.backup.target.path is not None:
        roots.add(snapshot.backup.target.path)
    return roots


def assert_inert(snapshot: Snapshot, report: Report) -> None:
    """Every command is one of ours, with host values only where quoting makes them inert."""
    allowed = _host_literals(snapshot) | {"Information"}
    skeletons = {parse(c.text).skeleton for c in _commands(_benign_reports()[0])}
    skeletons |= {parse(c.text).skeleton for c in _commands(_benign_reports()[1])}
    for command in _commands(report):
        if command.shell == "cmd":
            assert any(form.fullmatch(command.text) for form in CMD_FORMS), command.text
            assert command.text.isascii()
            assert not set(command.text) & set("&|<>^%!\r\n"), command.text
        elif command.text not in CONSTANT_PS:
            parsed = parse(command.text)
            assert parsed.statements == 1, command.text
            assert parsed.skeleton in skeletons, command.text
            assert len(parsed.literals) == 1, command.text
            assert parsed.literals[0] in allowed, command.text


_BENIGN: list[Report] = []


def _benign_reports() -> list[Report]:
    if not _BENIGN:
        for target in ("volume", "unknown"):
            doc = template(target)
            doc["backup"]["target"]["path"] = (
                None if target == "volume" else "\\\\nas01\\R&D"  # PowerShell, not dir
            )
            _BENIGN.append(evaluate(parse_snapshot(json.dumps(doc)), NOW, EN))
    return _BENIGN


@pytest.mark.parametrize("target", ["volume", "full", "unknown"])
def test_the_template_gets_every_kind_of_tip(target: str) -> None:
    result = _report(target, lambda doc, value: None, "")
    assert result is not None
    snapshot, report = result
    codes = {f.code for f in report.findings}
    expected = {"VSS_MIN_FREE", "RECOMMENDED_FREE", "SHADOW_STORAGE_LIMIT", "LAST_BACKUP_FAILED"}
    expected |= {
        "volume": set(),
        "full": {"NETWORK_TARGET_FULL"},
        "unknown": {"NETWORK_TARGET_SPACE_UNKNOWN"},
    }[target]
    assert expected <= codes
    texts = [c.text for c in _commands(report)]
    assert "Get-ChildItem -LiteralPath 'C:\\Mount\\Logs\\'" in " ".join(texts)
    assert f"vssadmin delete shadows /for={_vid('d1')} /all /quiet" in texts
    assert any(t.startswith("vssadmin resize shadowstorage /for=L: /on=L:") for t in texts)
    assert_inert(snapshot, report)


@pytest.mark.parametrize("site", sorted(SITES))
@given(value=VALUES)
@example(value="D:'; Remove-Item -Recurse -Force C:\\Windows; '")
@example(value='x" & powershell -enc AAAA & "')
@example(value="it\u2019s; calc; \u2018")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_host_values_never_become_commands(site: str, value: str) -> None:
    target, edit = SITES[site]
    result = _report(target, edit, value)
    if result is None:
        return  # refused with one sentence
    snapshot, report = result
    assert_inert(snapshot, report)
    # A value that reaches a PowerShell command is exactly one literal there, decoded intact.
    commands = _commands(report)
    carrying = [
        parse(c.text).literals
        for c in commands
        if c.shell == "powershell" and c.text not in CONSTANT_PS
    ]
    expected: str | None = None
    if site.startswith("name") and is_mount_folder(snapshot.volume(_vid("d1")).name):
        expected = snapshot.volume(_vid("d1")).name.rstrip("\\") + "\\"
    assert snapshot.backup is not None
    path = snapshot.backup.target.path
    if path is not None and cmd_quoted_path(path) is None:
        expected = path
    if path is not None and cmd_quoted_path(path) is not None:
        assert f"dir {cmd_quoted_path(path)}" in [c.text for c in commands]
    if expected is not None:
        assert [lits.count(expected) for lits in carrying if expected in lits] == [1]
