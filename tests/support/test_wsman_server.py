"""The loopback WS-Management server works with unmodified pywinrm over real sockets."""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Iterator

import pytest
import requests
import winrm
from winrm.exceptions import (
    InvalidCredentialsError,
    WinRMOperationTimeoutError,
    WinRMTransportError,
    WSManFaultError,
)
from winrm.protocol import Protocol

from .wsman_auth import ENCRYPTED_CONTENT_TYPE
from .wsman_server import CommandRequest, CommandResult, WSManFault, WSManServer

pytestmark = pytest.mark.timeout(30)

USER = "alice"
PASSWORD = "Backup-Check-1"  # noqa: S105 - throwaway credential of the fake server
WRONG_PASSWORD = "Backup-Check-2"  # noqa: S105
JAPANESE = "バックアップ完了"


class Recorder:
    """Handler that remembers every request and answers with a fixed result."""

    def __init__(self, result: CommandResult | None = None) -> None:
        self.calls: list[CommandRequest] = []
        self.result = result or CommandResult(stdout="")

    def __call__(self, request: CommandRequest) -> CommandResult:
        self.calls.append(request)
        return self.result


@pytest.fixture
def wsman_server() -> Iterator[WSManServer]:
    with WSManServer(users={USER: PASSWORD}) as server:
        yield server
    assert not server.errors


@pytest.fixture
def wsman_tls_server() -> Iterator[WSManServer]:
    with WSManServer(users={USER: PASSWORD}, tls=True) as server:
        yield server
    assert not server.errors


def session(
    server: WSManServer, transport: str = "basic", password: str = PASSWORD, **kwargs: object
) -> winrm.Session:
    # An explicit CA path keeps REQUESTS_CA_BUNDLE from the environment out of the tests.
    kwargs.setdefault("ca_trust_path", None)
    return winrm.Session(server.url, auth=(USER, password), transport=transport, **kwargs)


def protocol(server: WSManServer, url: str | None = None) -> Protocol:
    # pywinrm documents ca_trust_path=None but annotates the parameter as str.
    return Protocol(
        url or server.url,
        "basic",
        USER,
        PASSWORD,
        ca_trust_path=None,  # type: ignore[arg-type]
    )


def test_run_cmd_over_basic_returns_the_handler_output(wsman_server: WSManServer) -> None:
    handler = Recorder(
        CommandResult(stdout="Windows IP Configuration\r\n", stderr="warn", exit_code=3)
    )
    wsman_server.handler = handler

    response = session(wsman_server).run_cmd("ipconfig", ["/all"])

    assert (response.std_out, response.std_err, response.status_code) == (
        b"Windows IP Configuration\r\n",
        b"warn",
        3,
    )
    [request] = handler.calls
    assert (request.command, request.arguments, request.username) == ("ipconfig", ["/all"], USER)
    assert (request.stdin, request.codepage, request.script) == (b"", 437, None)


def test_run_ps_decodes_the_script_and_code_page_437_mangles_japanese(
    wsman_server: WSManServer,
) -> None:
    handler = Recorder(CommandResult(stdout=f"{JAPANESE}\r\n"))
    wsman_server.handler = handler
    script = f'Write-Output "{JAPANESE}"'

    response = session(wsman_server).run_ps(script)

    assert handler.calls[0].script == script
    assert response.std_out == b"?" * len(JAPANESE) + b"\r\n"


def test_code_page_65001_shell_returns_japanese_intact(wsman_server: WSManServer) -> None:
    handler = Recorder(CommandResult(stdout=f"{JAPANESE}\r\n", stderr=JAPANESE))
    wsman_server.handler = handler
    client = protocol(wsman_server)
    encoded = base64.b64encode(JAPANESE.encode("utf-16-le")).decode()

    shell_id = client.open_shell(codepage=65001)
    command_id = client.run_command(shell_id, "powershell", ["-NoProfile", "-enc", encoded])
    stdout, stderr, exit_code = client.get_command_output(shell_id, command_id)
    client.cleanup_command(shell_id, command_id)
    client.close_shell(shell_id)

    assert (stdout.decode("utf-8"), stderr.decode("utf-8"), exit_code) == (
        f"{JAPANESE}\r\n",
        JAPANESE,
        0,
    )
    assert (handler.calls[0].codepage, handler.calls[0].script) == (65001, JAPANESE)
    assert wsman_server.open_shell_ids == []


@pytest.mark.parametrize(
    ("command_line", "script"),
    [
        ("powershell -EncodedCommand {}", "dir"),
        ("PowerShell.exe -NoProfile -encodedcommand {}", "dir"),
        ("powershell -enc {}", "dir"),
        ("powershell -e {}", "dir"),
        ("powershell /ec {}", "dir"),
        ("powershell -ExecutionPolicy Bypass {}", None),
        ("cmd /c {}", None),
    ],
)
def test_script_is_decoded_for_any_encodedcommand_spelling(
    command_line: str, script: str | None
) -> None:
    encoded = base64.b64encode(b"d\x00i\x00r\x00").decode()
    request = CommandRequest(command_line.format(encoded), [], b"", 437, USER)
    assert request.script == script


def test_ntlm_over_http_encrypts_every_message(wsman_server: WSManServer) -> None:
    handler = Recorder(CommandResult(stdout="BACKUP01\r\n"))
    wsman_server.handler = handler
    user_file_before = os.environ.get("NTLM_USER_FILE")

    response = session(wsman_server, "ntlm").run_cmd("hostname")

    assert response.std_out == b"BACKUP01\r\n"
    assert handler.calls[0].username == USER
    records = wsman_server.requests
    assert [r.action for r in records] == ["Create", "Command", "Receive", "Signal", "Delete"]
    for record in records:
        assert record.content_type == ENCRYPTED_CONTENT_TYPE
        assert b"Envelope" not in record.body
        assert b"Envelope" in record.xml
    # The NTLM handshake is two 401 round trips before anything is accepted.
    assert [r.status for r in wsman_server.http_requests[:3]] == [401, 401, 200]
    assert os.environ.get("NTLM_USER_FILE") == user_file_before


@pytest.mark.parametrize("transport", ["basic", "ntlm"])
def test_wrong_password_is_rejected_with_401(wsman_server: WSManServer, transport: str) -> None:
    handler = Recorder()
    wsman_server.handler = handler

    with pytest.raises(InvalidCredentialsError):
        session(wsman_server, transport, WRONG_PASSWORD).run_cmd("hostname")

    assert handler.calls == []
    assert wsman_server.requests == []
    assert wsman_server.http_requests[-1].status == 401


def test_unauthenticated_request_is_challenged_like_windows(wsman_server: WSManServer) -> None:
    response = requests.post(wsman_server.url, data=b"<x/>", timeout=5)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Negotiate, Basic realm="WSMAN"'


@pytest.mark.parametrize("transport", ["basic", "ntlm"])
def test_https_works_when_the_ca_is_trusted(wsman_tls_server: WSManServer, transport: str) -> None:
    wsman_tls_server.handler = Recorder(CommandResult(stdout="ok"))
    ca = str(wsman_tls_server.ca_cert_path)

    response = session(wsman_tls_server, transport, ca_trust_path=ca).run_cmd("hostname")

    assert response.std_out == b"ok"
    # pywinrm's message_encryption="auto" does not encrypt inside TLS.
    assert {r.content_type for r in wsman_tls_server.requests} == {
        "application/soap+xml;charset=UTF-8"
    }


def test_https_fails_when_the_ca_is_not_trusted(wsman_tls_server: WSManServer) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        session(wsman_tls_server, ca_trust_path=None).run_cmd("hostname")


def test_wsman_fault_from_the_handler_reaches_pywinrm(wsman_server: WSManServer) -> None:
    def handler(request: CommandRequest) -> CommandResult:
        raise WSManFault(2147942405, "Access is denied.")

    wsman_server.handler = handler

    with pytest.raises(WSManFaultError) as caught:
        session(wsman_server).run_cmd("wbadmin", ["get", "versions"])

    fault = caught.value
    assert (fault.code, fault.wsman_fault_code, fault.reason) == (
        500,
        2147942405,
        "Access is denied.",
    )
    assert (fault.fault_code, fault.fault_subcode) == ("s:Receiver", "w:InternalError")
    assert str(fault).startswith("Access is denied.")


def test_operation_timeout_fault_is_retried_by_get_command_output(
    wsman_server: WSManServer,
) -> None:
    calls: list[CommandRequest] = []

    def handler(request: CommandRequest) -> CommandResult:
        calls.append(request)
        if len(calls) == 1:
            raise WSManFault.operation_timeout()
        return CommandResult(stdout="done")

    wsman_server.handler = handler
    client = protocol(wsman_server)
    shell_id = client.open_shell()
    command_id = client.run_command(shell_id, "wbadmin")

    with pytest.raises(WinRMOperationTimeoutError):
        client.get_command_output_raw(shell_id, command_id)
    assert client.get_command_output(shell_id, command_id) == (b"done", b"", 0)
    assert len(calls) == 2


def test_stdin_reaches_the_handler_only_once_it_is_complete(wsman_server: WSManServer) -> None:
    handler = Recorder(CommandResult(stdout="2 lines"))
    wsman_server.handler = handler
    client = protocol(wsman_server)
    shell_id = client.open_shell()
    command_id = client.run_command(shell_id, "findstr", ["/n", "."])

    client.send_command_input(shell_id, command_id, b"first\r\n")
    client.send_command_input(shell_id, command_id, "second\r\n", end=True)
    assert handler.calls == []
    stdout, _, _ = client.get_command_output(shell_id, command_id)

    assert stdout == b"2 lines"
    [request] = handler.calls
    assert request.stdin == b"first\r\nsecond\r\n"
    assert wsman_server.actions == ["Create", "Command", "Send", "Send", "Receive"]


def test_run_cmd_issues_create_command_receive_signal_delete(wsman_server: WSManServer) -> None:
    session(wsman_server).run_cmd("hostname")

    assert wsman_server.actions == ["Create", "Command", "Receive", "Signal", "Delete"]
    assert {record.user for record in wsman_server.requests} == {USER}
    assert wsman_server.open_shell_ids == []


def test_large_output_takes_several_receives() -> None:
    output = "0123456789" * 5
    handler = Recorder(CommandResult(stdout=output))
    with WSManServer(handler, users={USER: PASSWORD}, receive_chunk_size=16) as server:
        response = session(server).run_cmd("type", ["big.log"])

    assert response.std_out == output.encode()
    assert server.actions == ["Create", "Command"] + ["Receive"] * 4 + ["Signal", "Delete"]


@pytest.mark.parametrize("stall", ["slow handler", "hung server"])
def test_a_stalled_host_raises_a_read_timeout(wsman_server: WSManServer, stall: str) -> None:
    if stall == "hung server":
        wsman_server.hang = True
    else:
        wsman_server.handler = lambda request: CommandResult(stdout="late", delay=30)
    client = session(wsman_server, read_timeout_sec=2, operation_timeout_sec=1)

    started = time.monotonic()
    with pytest.raises(requests.exceptions.Timeout):
        client.run_cmd("wbadmin", ["get", "status"])

    assert time.monotonic() - started < 5


def test_injected_http_failures_surface_as_transport_errors(wsman_server: WSManServer) -> None:
    wsman_server.fail_next_http(500, b"<html>garbage")
    wsman_server.fail_next_http(503)

    with pytest.raises(WinRMTransportError) as garbage:
        session(wsman_server).run_cmd("hostname")
    with pytest.raises(WinRMTransportError) as unavailable:
        session(wsman_server).run_cmd("hostname")

    assert (garbage.value.code, garbage.value.response_text) == (500, "<html>garbage")
    assert unavailable.value.code == 503
    assert session(wsman_server).run_cmd("hostname").status_code == 0


def test_only_the_wsman_path_answers(wsman_server: WSManServer) -> None:
    client = protocol(wsman_server, f"http://127.0.0.1:{wsman_server.port}/other")

    with pytest.raises(WinRMTransportError) as caught:
        client.open_shell()

    assert caught.value.code == 404


def test_stop_closes_keep_alive_connections_and_joins_threads() -> None:
    server = WSManServer(users={USER: PASSWORD}).start()
    httpd = server._httpd
    client = session(server, "ntlm")
    client.protocol.open_shell()  # leaves an authenticated keep-alive connection open

    def serving() -> list[threading.Thread]:
        # This server's own threads only: other tests' servers may be busy in the background.
        return [t for t in threading.enumerate() if getattr(t, "_target", None) in _loops(httpd)]

    assert serving()  # the keep-alive connection's thread (and the accept loop)
    started = time.monotonic()
    server.stop()

    assert time.monotonic() - started < 2
    assert serving() == []
    assert not server.errors


def _loops(httpd: object) -> tuple[object, ...]:
    """The bound methods this server's threads run: the accept loop and one per connection."""
    return (getattr(httpd, "serve_forever", None), getattr(httpd, "process_request_thread", None))
