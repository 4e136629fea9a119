"""The WinRM collector against simulated Windows hosts: real pywinrm, real sockets, real NTLM."""

from __future__ import annotations

import base64
import os
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

from checks.collect.errors import CollectError
from checks.collect.probe import BOOTSTRAP_SCRIPT, PROBE_SCRIPT
from checks.collect.winrm import WinRMCollector, winrm_collect
from checks.evaluate import evaluate
from checks.fleet import check_fleet
from checks.i18n import Catalog
from checks.inventory import Server
from checks.outcome import window_outcome
from checks.report import Status
from checks.secrets import Credential
from checks.snapshot import parse_snapshot
from tests.conftest import ENVIRON, FIXTURES, PASSWORD, USER, inventory_for
from tests.support.fleet import SimulatedFleet

ServerOf = Callable[..., Server]
CREDENTIAL = Credential(USER, PASSWORD)
SEED = parse_snapshot((FIXTURES / "snapshots" / "seed-incident.json").read_bytes())
WSMAN_PER_CHECK = ["Create", "Command", "Send", "Receive", "Delete"]


def test_the_seed_incident_over_ntlm_with_message_encryption(
    fleet: SimulatedFleet, server_of: ServerOf, en: Catalog
) -> None:
    before = len(fleet.requests_for("fs01"))  # the fleet is shared with other tests
    snapshot = WinRMCollector(server_of(fleet, "fs01"), CREDENTIAL).collect()
    assert snapshot == SEED
    report = evaluate(snapshot, SEED.collected_at, en)
    d = next(v for v in report.volumes if v.letter == "D:")
    assert (d.status, d.shortfall_bytes) == (Status.CRITICAL, 89128960)
    requests = fleet.requests_for("fs01")[before:]
    assert requests
    assert all(r.content_type.startswith("multipart/encrypted") for r in requests)


def test_one_check_is_one_shell_and_the_fewest_ws_management_requests(
    fleet: SimulatedFleet, server_of: ServerOf
) -> None:
    before = len(fleet.actions_for("dc01"))
    WinRMCollector(server_of(fleet, "dc01"), CREDENTIAL).collect()
    assert fleet.actions_for("dc01")[before:] == WSMAN_PER_CHECK


def test_the_command_on_the_wire_is_the_bootstrap_and_stdin_carries_the_probe(
    fleet: SimulatedFleet, server_of: ServerOf
) -> None:
    WinRMCollector(server_of(fleet, "dc01"), CREDENTIAL).collect()
    requests = fleet.requests_for("dc01")
    command = next(r for r in reversed(requests) if r.action == "Command").xml.decode("utf-8")
    line = re.search(r"<(?:\w+:)?Command>([^<]+)</(?:\w+:)?Command>", command)
    assert line is not None
    encoded = line.group(1).split()[-1]
    assert base64.b64decode(encoded).decode("utf-16-le") == BOOTSTRAP_SCRIPT
    send = next(r for r in reversed(requests) if r.action == "Send").xml.decode("utf-8")
    stream = re.search(r"<(?:\w+:)?Stream[^>]*>([^<]+)</(?:\w+:)?Stream>", send)
    assert stream is not None
    assert base64.b64decode(stream.group(1)).decode("utf-8") == PROBE_SCRIPT
    assert fleet.unexpected_commands == []


def test_the_seed_incident_over_https_with_basic(
    tls_fleet: SimulatedFleet, server_of: ServerOf
) -> None:
    assert tls_fleet.ca_cert_path is not None
    server = server_of(tls_fleet, "fs01", transport="basic", ca_bundle=str(tls_fleet.ca_cert_path))
    assert WinRMCollector(server, CREDENTIAL).collect() == SEED


def test_an_untrusted_certificate_is_named_as_the_reason(
    tls_fleet: SimulatedFleet, server_of: ServerOf
) -> None:
    server = server_of(tls_fleet, "fs01", transport="basic")
    with pytest.raises(CollectError) as caught:
        WinRMCollector(server, CREDENTIAL).collect()
    assert caught.value.reason.startswith(f"the TLS certificate of {server.address} is invalid: ")
    assert "certificate" in caught.value.reason.removeprefix("the TLS certificate")


def test_turning_validation_off_connects_and_warns(
    tls_fleet: SimulatedFleet, server_of: ServerOf, caplog: pytest.LogCaptureFixture
) -> None:
    server = server_of(tls_fleet, "fs01", transport="basic", verify_tls=False)
    assert WinRMCollector(server, CREDENTIAL).collect() == SEED
    assert "TLS certificate validation is turned off" in caplog.text


def test_a_japanese_label_and_host_name_survive_byte_for_byte(
    fleet: SimulatedFleet, server_of: ServerOf
) -> None:
    snapshot = WinRMCollector(server_of(fleet, "jp01"), CREDENTIAL).collect()
    assert snapshot.host == "ファイルサーバー01"
    assert [v.label for v in snapshot.volumes] == ["", "データ", "アーカイブ", "バックアップ"]
    expected = (FIXTURES / "snapshots" / "japanese-labels.json").read_bytes()
    assert snapshot == parse_snapshot(expected)


def test_operation_timeouts_are_waited_out(fleet: SimulatedFleet, server_of: ServerOf) -> None:
    before = len(fleet.actions_for("fault-operation-timeouts"))  # the fleet is shared
    snapshot = WinRMCollector(server_of(fleet, "fault-operation-timeouts"), CREDENTIAL).collect()
    assert snapshot == SEED
    assert fleet.actions_for("fault-operation-timeouts")[before:].count("Receive") == 3


FAULTS = {
    "fault-refused": "connection refused by {where} (is WinRM listening on {port}?)",
    "fault-http-401": (
        "authentication failed for svc-backupcheck on {address} (ntlm): wrong password, "
        "or the account may not log on over WinRM"
    ),
    "fault-http-500": "WinRM on {where} answered HTTP 500",
    "fault-wsman": "WinRM fault 2150858770 from {address}: ",
    "fault-truncated": "the probe's output from fault-truncated is unusable: "
    "the snapshot is not valid JSON: ",
    "fault-garbage": "the probe's output from fault-garbage is unusable: "
    "the snapshot is not valid JSON: ",
    "fault-powershell-error": "PowerShell error on fault-powershell-error: ",
    "fault-exit-code": "PowerShell error on fault-exit-code: ",
    "fault-drop": "{where} dropped the connection before answering",
    "fault-hang": "timed out after 3 s waiting for {address} to answer",
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_every_fault_is_one_precise_sentence_within_the_timeout(
    fleet: SimulatedFleet, server_of: ServerOf, name: str
) -> None:
    server = server_of(fleet, name)
    started = time.monotonic()
    with pytest.raises(CollectError) as caught:
        WinRMCollector(server, CREDENTIAL).collect()
    elapsed = time.monotonic() - started
    where = f"{server.address}:{server.port}"
    expected = FAULTS[name].format(where=where, address=server.address, port=server.port)
    assert caught.value.reason.startswith(expected), caught.value.reason
    assert "\n" not in caught.value.reason
    assert PASSWORD not in caught.value.reason
    assert elapsed < server.read_timeout_s + server.connect_timeout_s + 1


def test_a_powershell_error_in_japanese_arrives_intact(
    fleet: SimulatedFleet, server_of: ServerOf
) -> None:
    with pytest.raises(CollectError) as caught:
        WinRMCollector(server_of(fleet, "fault-powershell-error"), CREDENTIAL).collect()
    assert "アクセスが拒否されました。" in caught.value.reason
    assert "_x000D_" not in caught.value.reason
    assert "CLIXML" not in caught.value.reason


def test_a_wrong_password_is_authentication_failed_and_never_echoed(
    fleet: SimulatedFleet, server_of: ServerOf
) -> None:
    wrong = Credential(USER, "Wr0ng-Horse-Battery")
    with pytest.raises(CollectError) as caught:
        WinRMCollector(server_of(fleet, "fs01"), wrong).collect()
    assert caught.value.reason.startswith("authentication failed for svc-backupcheck")
    assert caught.value.permanent
    assert "Wr0ng" not in caught.value.reason


def test_a_name_that_does_not_resolve(server_of: ServerOf, fleet: SimulatedFleet) -> None:
    server = server_of(fleet, "fs01").model_copy(update={"address": "no-such-host.invalid"})
    with pytest.raises(CollectError) as caught:
        WinRMCollector(server, CREDENTIAL).collect()
    assert caught.value.reason == "the name no-such-host.invalid does not resolve"


def test_a_missing_password_variable_is_unknown_without_contacting_the_host(
    fleet: SimulatedFleet, en: Catalog
) -> None:
    inventory = inventory_for(fleet, ["dc01"])
    before = fleet.http_requests_for("dc01")
    (report,) = check_fleet(inventory.resolved(), winrm_collect(inventory, {}), en)
    assert report.status is Status.UNKNOWN
    assert "BACKUPCHECK_WINRM_PASSWORD" in report.findings[0].message
    assert fleet.http_requests_for("dc01") == before


def test_faults_never_hold_up_the_other_hosts(fleet: SimulatedFleet, en: Catalog) -> None:
    names = ["fs01", "jp01", "dc01", *sorted(FAULTS), "fault-operation-timeouts"]
    inventory = inventory_for(fleet, names)
    started = time.monotonic()
    reports = check_fleet(inventory.resolved(), winrm_collect(inventory, ENVIRON), en)
    elapsed = time.monotonic() - started
    by_host = {s.name: r for s, r in zip(inventory.resolved(), reports, strict=True)}
    assert by_host["fs01"].status is Status.CRITICAL
    assert by_host["dc01"].status is Status.CRITICAL
    assert by_host["jp01"].status is Status.WARNING
    assert by_host["fault-operation-timeouts"].status is Status.CRITICAL
    assert all(by_host[name].status is Status.UNKNOWN for name in FAULTS)
    assert elapsed < 8, "one host's timeout delayed the others"


def test_the_collector_never_contacts_a_host_outside_its_server_entry(tmp_path: Path) -> None:
    # The collector only knows the Server it was given; the inventory is the only source of those.
    assert "address" in Server.model_fields


class RecordingEnviron(dict[str, str]):
    """os.environ's stand-in for one test: remembers every write and every full scan."""

    def __init__(self, initial: dict[str, str]) -> None:
        super().__init__(initial)
        self.writes: list[str] = []
        self.scans = 0

    def __iter__(self) -> Iterator[str]:
        self.scans += 1
        return super().__iter__()

    def keys(self) -> Any:
        self.scans += 1
        return super().keys()

    def items(self) -> Any:
        self.scans += 1
        return super().items()

    def __setitem__(self, key: str, value: str) -> None:
        self.writes.append(f"set {key}")
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.writes.append(f"del {key}")
        super().__delitem__(key)


def test_a_check_never_writes_to_the_process_environment(
    fleet: SimulatedFleet, server_of: ServerOf, monkeypatch: pytest.MonkeyPatch
) -> None:
    # requests rewrites os.environ["no_proxy"] around each request when given a no_proxy
    # setting; with 32 checking threads, another thread reading the environment then failed
    # with KeyError: 'no_proxy' (seen in bench/fleet.py). Basic auth: the simulated hosts'
    # NTLM acceptor sets a variable of its own in this process.
    environ = RecordingEnviron(dict(os.environ))
    monkeypatch.setattr(os, "environ", environ)
    snapshot = WinRMCollector(server_of(fleet, "fs01", transport="basic"), CREDENTIAL).collect()
    assert snapshot == SEED
    assert environ.writes == []


def test_the_environment_is_read_once_per_check_not_once_per_request(
    fleet: SimulatedFleet, server_of: ServerOf, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A session that trusts the environment walks all of os.environ for proxy settings on
    # each of a check's five requests; building the session reads it once.
    server = server_of(fleet, "fs01", transport="basic")
    environ = RecordingEnviron(dict(os.environ))
    monkeypatch.setattr(os, "environ", environ)
    requests.Session().merge_environment_settings(
        server.endpoint, {"http": "", "https": ""}, None, None, None
    )
    one_reading, environ.scans = environ.scans, 0
    assert WinRMCollector(server, CREDENTIAL).collect() == SEED
    assert environ.scans == one_reading


@pytest.mark.parametrize(
    ("host", "outcome"),
    [
        ("outcome-succeeded", "Succeeded"),
        ("outcome-running", "Running"),
        ("outcome-failed-vss-space", "Failed"),
        ("outcome-target-missing", "Failed"),
        ("outcome-warnings", "CompletedWithWarnings"),
        ("outcome-events-only", "Failed"),
        ("outcome-not-run", "NotRun"),
    ],
)
def test_the_last_backups_outcome_arrives_intact_and_is_decided(
    fleet: SimulatedFleet, server_of: ServerOf, host: str, outcome: str
) -> None:
    snapshot = WinRMCollector(server_of(fleet, host), CREDENTIAL).collect()
    expected = parse_snapshot(
        (FIXTURES / "outcomes" / f"{host.removeprefix('outcome-')}.json").read_bytes()
    )
    assert snapshot == expected
    assert snapshot.last_backup is not None
    window = datetime(2026, 11, 24, 21, 0, tzinfo=timezone(timedelta(hours=9)))
    decided = window_outcome(snapshot.last_backup, window, snapshot.collected_at)
    assert type(decided).__name__ == outcome
