"""The simulated fleet answers real pywinrm over real sockets, one loopback address per host."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import get_args

import pytest
import requests
from winrm.exceptions import (
    InvalidCredentialsError,
    WinRMOperationTimeoutError,
    WinRMTransportError,
    WSManFaultError,
)
from winrm.protocol import Protocol

from checks.collect.probe import BOOTSTRAP_SCRIPT, POWERSHELL, encode_command, probe_command

from .fleet import HostProfile, SimulatedFleet, host_address, load_profile, load_profiles
from .fleet_profiles import POWERSHELL_BANNER, Fault
from .host_output import clixml_error, thrown_error_lines

pytestmark = pytest.mark.timeout(60)

FIXTURES = Path(__file__).parents[1] / "fixtures"
PROFILES = load_profiles(FIXTURES / "hosts")
SEED = (FIXTURES / "snapshots" / "seed-incident.json").read_bytes()
JAPANESE_SNAPSHOT = (FIXTURES / "snapshots" / "japanese-labels.json").read_bytes()
USERS = {"alice": "Fleet-Check-1"}  # throwaway credentials of the fake hosts
USER, PASSWORD = next(iter(USERS.items()))
JP_ERROR = "アクセスが拒否されました。"
CLIXML_START = (
    '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
)


@pytest.fixture
def fleet() -> Iterator[SimulatedFleet]:
    with SimulatedFleet(PROFILES, users=USERS) as running:
        yield running
    assert not running.errors


def client(fleet: SimulatedFleet, name: str, transport: str = "ntlm", **kwargs: object) -> Protocol:
    # pywinrm documents ca_trust_path=None but annotates the parameter as str.
    kwargs.setdefault("ca_trust_path", None)
    return Protocol(fleet.url_of(name), transport, USER, PASSWORD, **kwargs)  # type: ignore[arg-type]


def run_probe(
    protocol: Protocol, codepage: int = 65001, command_line: str | None = None, stdin: bytes = b""
) -> tuple[bytes, bytes, int]:
    """What the collector does: one shell, the bootstrap, the probe on stdin, Receive, Delete."""
    probe = probe_command()
    shell_id = protocol.open_shell(codepage=codepage)
    command_id = protocol.run_command(shell_id, command_line or probe.command_line)
    protocol.send_command_input(shell_id, command_id, stdin or probe.stdin or b"", end=True)
    result = protocol.get_command_output(shell_id, command_id)
    protocol.close_shell(shell_id)
    return result


def test_two_hosts_on_their_own_addresses_answer_with_their_own_snapshots(
    fleet: SimulatedFleet,
) -> None:
    assert probe_command().stdin is not None  # the probe goes through the stdin bootstrap

    fs01 = run_probe(client(fleet, "fs01"))
    jp01 = run_probe(client(fleet, "jp01"))

    assert fs01 == (SEED, b"", 0)
    assert jp01 == (JAPANESE_SNAPSHOT, b"", 0)
    assert json.loads(jp01[0])["host"] == "ファイルサーバー01"
    (fs_ip, fs_port), (jp_ip, jp_port) = fleet.address_of("fs01"), fleet.address_of("jp01")
    assert fs_ip != jp_ip
    assert fs_port == jp_port == fleet.port
    for name in ("fs01", "jp01"):
        assert fleet.actions_for(name) == ["Create", "Command", "Send", "Receive", "Delete"]
        # NTLM: two 401 round trips on pywinrm's empty POST, then one request per action.
        assert fleet.http_requests_for(name) == 3 + 5
    assert fleet.actions_for("dc01") == []
    assert fleet.unexpected_commands == []


def test_the_probe_may_also_be_run_directly_with_encodedcommand(fleet: SimulatedFleet) -> None:
    probe = probe_command()
    script = base64.b64decode(probe.command_line.split()[-1]).decode("utf-16-le")
    assert script == BOOTSTRAP_SCRIPT
    assert probe.stdin is not None
    direct = f"{POWERSHELL} {encode_command(probe.stdin.decode('utf-8'))}"
    protocol = client(fleet, "fs01", "basic")
    shell_id = protocol.open_shell(codepage=65001)
    command_id = protocol.run_command(shell_id, "powershell.exe", direct.split()[1:])

    assert protocol.get_command_output(shell_id, command_id) == (SEED, b"", 0)


@pytest.mark.parametrize(
    ("command_line", "stdin", "term"),
    [
        ("hostname", b"", "hostname"),
        (f"{POWERSHELL} {encode_command('Get-Volume')}", b"", "Get-Volume"),
        (probe_command().command_line, b"Get-WBPolicy\r\n", "Get-WBPolicy"),
    ],
)
def test_a_command_that_is_not_the_probe_is_refused_and_recorded(
    fleet: SimulatedFleet, command_line: str, stdin: bytes, term: str
) -> None:
    stdout, stderr, exit_code = run_probe(client(fleet, "dc01"), 65001, command_line, stdin)

    assert (stdout, exit_code) == (b"", 1)
    text = stderr.decode("utf-8")
    assert text.startswith(CLIXML_START)
    assert f"{term} : The term '{term}' is not recognized as the name of a cmdlet" in text
    assert text.endswith('<S S="Error"> _x000D__x000A_</S></Objs>')
    assert fleet.unexpected_commands == [("dc01", command_line)]


def test_refused_host_has_no_listener(fleet: SimulatedFleet) -> None:
    with pytest.raises(requests.exceptions.ConnectionError, match=r"[Rr]efused"):
        client(fleet, "fault-refused").open_shell()


@pytest.mark.parametrize("transport", ["ntlm", "basic"])
def test_http_401_rejects_every_authentication_attempt(
    fleet: SimulatedFleet, transport: str
) -> None:
    with pytest.raises(InvalidCredentialsError):
        run_probe(client(fleet, "fault-http-401", transport))

    assert fleet.actions_for("fault-http-401") == []
    # NTLM really negotiates (empty POST, NEGOTIATE, AUTHENTICATE) and is then refused.
    assert fleet.http_requests_for("fault-http-401") == (3 if transport == "ntlm" else 1)


@pytest.mark.parametrize(("name", "status"), [("fault-http-500", 500), ("fault-http-503", 503)])
def test_http_error_status_answers_authenticated_requests(
    fleet: SimulatedFleet, name: str, status: int
) -> None:
    with pytest.raises(WinRMTransportError) as caught:
        run_probe(client(fleet, name))

    assert caught.value.code == status
    assert caught.value.response_text == PROFILES[name].fault.body  # type: ignore[union-attr]


def test_wsman_fault_answers_the_command_request(fleet: SimulatedFleet) -> None:
    with pytest.raises(WSManFaultError) as caught:
        run_probe(client(fleet, "fault-wsman"))

    assert caught.value.wsman_fault_code == 2150858770
    assert caught.value.reason.startswith("The client cannot connect to the destination")
    assert fleet.actions_for("fault-wsman") == ["Create", "Command"]


def test_operation_timeouts_come_before_the_output(fleet: SimulatedFleet) -> None:
    protocol = client(fleet, "fault-operation-timeouts")
    probe = probe_command()
    shell_id = protocol.open_shell(codepage=65001)
    command_id = protocol.run_command(shell_id, probe.command_line)
    protocol.send_command_input(shell_id, command_id, probe.stdin or b"", end=True)

    for _ in range(2):
        with pytest.raises(WinRMOperationTimeoutError):
            protocol.get_command_output_raw(shell_id, command_id)
    assert protocol.get_command_output_raw(shell_id, command_id) == (SEED, b"", 0, True)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("fault-truncated", (SEED[:200], b"", 0)),
        ("fault-garbage", (POWERSHELL_BANNER.encode("ascii"), b"", 0)),
        (
            "fault-exit-code",
            (b"", b"Get-WBPolicy : The Windows Server Backup feature is not installed.\r\n", 3),
        ),
        ("fault-powershell-error", (b"", clixml_error(thrown_error_lines(JP_ERROR)).encode(), 1)),
    ],
)
def test_output_faults_print_exactly_these_bytes(
    fleet: SimulatedFleet, name: str, expected: tuple[bytes, bytes, int]
) -> None:
    assert run_probe(client(fleet, name)) == expected


@pytest.mark.parametrize(
    ("codepage", "message"), [(65001, JP_ERROR.encode("utf-8")), (437, b"?" * len(JP_ERROR))]
)
def test_clixml_error_is_encoded_in_the_shells_code_page(
    fleet: SimulatedFleet, codepage: int, message: bytes
) -> None:
    stdout, stderr, exit_code = run_probe(client(fleet, "fault-powershell-error"), codepage)

    assert (stdout, exit_code) == (b"", 1)
    assert stderr.startswith(CLIXML_START.encode() + b'<S S="Error">' + message + b"_x000D_")
    assert stderr.endswith(b'<S S="Error"> _x000D__x000A_</S></Objs>')


def test_drop_closes_the_connection_at_the_first_receive(fleet: SimulatedFleet) -> None:
    with pytest.raises(requests.exceptions.ConnectionError):
        run_probe(client(fleet, "fault-drop"))

    assert fleet.actions_for("fault-drop") == ["Create", "Command", "Send", "Receive"]


def test_hang_makes_the_client_time_out(fleet: SimulatedFleet) -> None:
    protocol = client(fleet, "fault-hang", read_timeout_sec=2, operation_timeout_sec=1)

    started = time.monotonic()
    with pytest.raises(requests.exceptions.Timeout):
        protocol.open_shell()

    assert 1.5 < time.monotonic() - started < 5
    assert fleet.http_requests_for("fault-hang") == 1


def test_latency_delays_every_http_request(fleet: SimulatedFleet) -> None:
    started = time.monotonic()
    assert run_probe(client(fleet, "slow01")) == (SEED, b"", 0)

    requests_made = fleet.http_requests_for("slow01")
    assert requests_made == 8
    assert time.monotonic() - started >= requests_made * 0.05


def test_large_output_comes_back_in_several_receive_chunks() -> None:
    profiles = {"jp01": PROFILES["jp01"]}
    with SimulatedFleet(profiles, users=USERS, receive_chunk_size=512) as small:
        assert run_probe(client(small, "jp01")) == (JAPANESE_SNAPSHOT, b"", 0)

    chunks = -(-len(JAPANESE_SNAPSHOT) // 512)
    assert small.actions_for("jp01") == ["Create", "Command", "Send"] + ["Receive"] * chunks + [
        "Delete"
    ]
    assert not small.errors


@pytest.mark.parametrize("transport", ["ntlm", "basic"])
def test_https_with_a_certificate_naming_every_host(transport: str) -> None:
    profiles = {name: PROFILES[name] for name in ("fs01", "jp01")}
    with SimulatedFleet(profiles, users=USERS, tls=True) as secure:
        ca = str(secure.ca_cert_path)
        assert run_probe(client(secure, "jp01", transport, ca_trust_path=ca)) == (
            JAPANESE_SNAPSHOT,
            b"",
            0,
        )
        with pytest.raises(requests.exceptions.SSLError):
            client(secure, "fs01", transport).open_shell()
    assert secure.url_of("jp01").startswith("https://127.0.0.3:")
    assert not secure.errors


def test_three_hundred_hosts_start_and_stop_quickly() -> None:
    # Compared as sets: threads other tests left behind may end meanwhile, and that is no leak.
    before = set(threading.enumerate())
    profiles = {f"host{i:03d}": PROFILES["fs01"] for i in range(300)}
    profiles["host250"] = PROFILES["jp01"]
    fleet = SimulatedFleet(profiles, users=USERS)

    started = time.monotonic()
    fleet.start()
    start_time = time.monotonic() - started
    try:
        assert fleet.address_of("host250") == (host_address(250), fleet.port)
        assert run_probe(client(fleet, "host250", "basic")) == (JAPANESE_SNAPSHOT, b"", 0)
        assert run_probe(client(fleet, "host299"))[0] == SEED  # on 127.0.1.x
        idle = client(fleet, "host001")
        idle.open_shell()  # leaves an authenticated keep-alive connection open
    finally:
        started = time.monotonic()
        fleet.stop()
    stop_time = time.monotonic() - started

    assert (start_time, stop_time) < (1.0, 1.0)
    assert fleet.actions_for("host299") == ["Create", "Command", "Send", "Receive", "Delete"]
    assert set(threading.enumerate()) - before == set()
    assert not fleet.errors


def test_host_addresses_fill_127_0_x_y() -> None:
    assert [host_address(i) for i in (0, 1, 252, 253, 507)] == [
        "127.0.0.2",
        "127.0.0.3",
        "127.0.0.254",
        "127.0.1.1",
        "127.0.2.1",
    ]


def test_fixture_profiles_cover_every_fault_kind() -> None:
    kinds = {profile.fault.kind for profile in PROFILES.values() if profile.fault is not None}
    every_kind = {member.model_fields["kind"].default for member in get_args(get_args(Fault)[0])}

    assert kinds == every_kind
    assert PROFILES["fs01"].fault is None
    assert PROFILES["fault-operation-timeouts"].fault.count == 2  # type: ignore[union-attr]
    assert {p.snapshot for n, p in PROFILES.items() if n.startswith("fault-")} == {SEED}


def test_profile_with_an_inline_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "inline.json"
    document = {"snapshot": {"schema": 1, "host": "ホスト"}, "latency_ms": 5, "fault": None}
    path.write_text(json.dumps(document), encoding="utf-8")

    assert load_profile(path) == HostProfile(
        snapshot='{"schema":1,"host":"ホスト"}'.encode(), latency_ms=5
    )


@pytest.mark.parametrize(
    "document",
    [
        {"snapshot": "missing.json"},
        {"snapshot": {}, "fault": {"kind": "meltdown"}},
        {"snapshot": {}, "fault": {"kind": "truncated"}},
        {"snapshot": {}, "latency_ms": -1},
        {"snapshot": {}, "colour": "blue"},
    ],
)
def test_invalid_profiles_are_rejected_with_the_file_name(
    tmp_path: Path, document: dict[str, object]
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), encoding="utf-8")

    with pytest.raises(ValueError, match=r"bad\.json"):
        load_profile(path)
