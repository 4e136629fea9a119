"""Hostile hosts through the real CLI: each is `unknown` with one sentence, the others are
checked normally, the run ends at its deadline and the process's memory stays flat."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from checks.collect.errors import CollectError
from checks.collect.winrm import WinRMCollector
from checks.secrets import Credential
from tests.conftest import ENVIRON, PASSWORD, USER, inventory_for
from tests.support.fleet import SimulatedFleet

BACKUPCHECK = Path(sys.executable).with_name("backupcheck")
DEADLINE_S = 3.0
# Generous: the CLI itself needs about 100 MB; the bomb used to take 3 GB.
PEAK_RSS_BOUND = 300 * 1024 * 1024
# Starting the interpreter and importing the CLI, on a loaded 2-core machine.
STARTUP_S = 4.0


@dataclass(frozen=True)
class Measured:
    """A finished CLI run: its outputs, wall time and peak resident memory."""

    returncode: int
    stdout: str
    stderr: str
    elapsed: float
    peak_rss: int


def _vm_hwm(pid: int) -> int:
    """The process's peak resident set so far (VmHWM), in bytes; 0 once it has exited."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0  # a zombie has no memory left to report


def run_measured(tmp_path: Path, *args: str, timeout: float = 60) -> Measured:
    """Run backupcheck, sampling its VmHWM until it exits.

    Not wait4's ru_maxrss: Linux carries the forking parent's high-water mark (this test
    process, hundreds of MB in a full run) into the child across exec.
    """
    environment = {k: v for k, v in os.environ.items() if k != "BACKUPCHECK_CONFIG"}
    environment.update({"COLUMNS": "160", "NO_COLOR": "1"}, **ENVIRON)
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        started = time.monotonic()
        process = subprocess.Popen(
            [str(BACKUPCHECK), *args], stdout=stdout, stderr=stderr, env=environment, cwd=tmp_path
        )
        peak = 0
        while True:
            pid, status = os.waitpid(process.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, _vm_hwm(process.pid))
            if time.monotonic() - started > timeout:
                process.kill()
                process.wait()
                pytest.fail(f"backupcheck {' '.join(args)} did not exit within {timeout} s")
            time.sleep(0.01)
    elapsed = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Measured(
        process.returncode,
        out.read_text(encoding="utf-8"),
        err.read_text(encoding="utf-8"),
        elapsed,
        peak,
    )


def _config(tmp_path: Path, fleet: SimulatedFleet, names: list[str]) -> str:
    inventory = inventory_for(fleet, names, deadline_s=DEADLINE_S)
    path = tmp_path / "backupcheck.yaml"
    document = inventory.model_dump(mode="json", exclude_none=True)
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return str(path)


def _lines_by_host(stdout: str) -> dict[str, str]:
    """Nagios fleet output: the host's line, keyed by the host name after the status."""
    lines = stdout.strip().splitlines()[1:]
    return {line.split(" - ", 1)[1].split(":", 1)[0]: line for line in lines}


SENTENCES = {
    "hostile-gzip-bomb": "{address} sent a compressed reply (gzip), which was refused",
    "hostile-huge-big-replies": "{address} sent a reply larger than 1 MiB",
    "hostile-huge-small-replies": "{address} sent more than 4 MiB in one check",
    "hostile-endless-stream": "{address} sent a reply larger than 1 MiB",
    "hostile-trickle": "timed out after 3 s",
    "hostile-no-shell-id": (
        "{where} sent a Create reply that is not valid WS-Management: it has no ShellId"
    ),
    "hostile-exit-code-not-integer": (
        "{where} sent a Receive reply that is not valid WS-Management: "
        "the exit code is not an integer"
    ),
    "hostile-http-500-not-utf8": "WinRM on {where} answered HTTP 500",
    "hostile-redirect": (
        "{address} answered with a redirect (HTTP 307), which was not followed: "
        "backupcheck contacts only the address in the config"
    ),
}


@pytest.mark.parametrize("name", sorted(SENTENCES))
def test_a_hostile_host_is_one_sentence_and_the_run_ends_in_time_and_memory(
    tmp_path: Path, fleet: SimulatedFleet, name: str
) -> None:
    config = _config(tmp_path, fleet, [name, "fs01", "dc01"])
    result = run_measured(tmp_path, "check", "--all", "-f", "nagios", "--config", config)
    address, port = fleet.address_of(name)
    sentence = SENTENCES[name].format(address=address, where=f"{address}:{port}")
    by_host = _lines_by_host(result.stdout)
    assert by_host[name].startswith(f"UNKNOWN - {name}: {name} could not be checked: {sentence}")
    assert by_host["fs01"].startswith("CRITICAL - fs01: ")
    assert by_host["dc01"].startswith("CRITICAL - dc01: ")
    assert result.returncode == 2, result.stderr
    assert "internal error" not in result.stdout
    assert PASSWORD not in result.stdout + result.stderr
    assert result.elapsed < DEADLINE_S + 2 + STARTUP_S, result.elapsed
    assert 0 < result.peak_rss < PEAK_RSS_BOUND, result.peak_rss


def test_a_failed_shell_delete_keeps_the_snapshot_already_read(
    tmp_path: Path, fleet: SimulatedFleet
) -> None:
    config = _config(tmp_path, fleet, ["hostile-delete-relates-to", "fs01"])
    result = run_measured(tmp_path, "check", "--all", "-f", "nagios", "--config", config)
    by_host = _lines_by_host(result.stdout)
    assert by_host["hostile-delete-relates-to"].startswith(
        "CRITICAL - hostile-delete-relates-to: D: has 235 MB"
    )
    assert result.returncode == 2, result.stderr


def test_a_password_the_host_echoes_is_masked_in_every_field(
    tmp_path: Path, fleet: SimulatedFleet
) -> None:
    config = _config(tmp_path, fleet, ["hostile-echoes-password", "fs01"])
    result = run_measured(tmp_path, "check", "--all", "-f", "json", "--config", config)
    assert PASSWORD not in result.stdout + result.stderr
    reports = {r["host"]: r for r in json.loads(result.stdout)}
    labels = [v["label"] for v in reports["hostile-echoes-password"]["volumes"]]
    assert "Data ***" in labels
    assert reports["fs01"]["status"] == "critical"


def _collector(fleet: SimulatedFleet, name: str, **settings: object) -> WinRMCollector:
    (server,) = inventory_for(fleet, [name], deadline_s=DEADLINE_S, **settings).resolved()
    return WinRMCollector(server, Credential(USER, PASSWORD))


def test_a_server_s_max_exchange_bytes_bounds_what_its_check_reads(fleet: SimulatedFleet) -> None:
    with pytest.raises(CollectError) as caught:
        _collector(fleet, "hostile-huge-small-replies", max_exchange_bytes=64 * 1024).collect()
    address, _ = fleet.address_of("hostile-huge-small-replies")
    assert caught.value.reason.startswith(f"{address} sent more than 64 KiB in one check")
    # A real host's snapshot fits in the smallest cap allowed.
    assert _collector(fleet, "fs01", max_exchange_bytes=64 * 1024).collect().host == "SERVER01"


def test_the_collector_returns_the_snapshot_with_the_echoed_password_masked(
    fleet: SimulatedFleet,
) -> None:
    snapshot = _collector(fleet, "hostile-echoes-password").collect()
    assert PASSWORD not in snapshot.to_json()
    assert snapshot.volumes[1].label == "Data ***"
    assert snapshot.backup is not None
    assert snapshot.backup.target.label == "Backup-***"
    assert snapshot.warnings == ["could not read the shadow storage as svc-backupcheck/***"]


def test_the_collector_keeps_the_snapshot_when_the_delete_reply_is_odd(
    fleet: SimulatedFleet,
) -> None:
    before = len(fleet.actions_for("hostile-delete-relates-to"))
    snapshot = _collector(fleet, "hostile-delete-relates-to").collect()
    assert snapshot.host == "SERVER01"
    assert fleet.actions_for("hostile-delete-relates-to")[before:][-1] == "Delete"


def test_a_trickling_host_is_cut_at_the_deadline_not_after_each_byte(
    fleet: SimulatedFleet,
) -> None:
    started = time.monotonic()
    with pytest.raises(CollectError) as caught:
        _collector(fleet, "hostile-trickle").collect()
    elapsed = time.monotonic() - started
    address, _ = fleet.address_of("hostile-trickle")
    assert caught.value.reason == f"timed out after 3 s: {address} did not finish the probe"
    assert DEADLINE_S <= elapsed < DEADLINE_S + 1.5
