"""The WinRM collector: runs the probe on a Windows host in one shell and parses its Snapshot."""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable, Mapping
from typing import Any
from xml.etree.ElementTree import ParseError

from requests_credssp.exceptions import AuthenticationException as CredSSPAuthenticationError
from spnego.exceptions import SpnegoError
from winrm.exceptions import WinRMError, WinRMOperationTimeoutError, WinRMTransportError
from winrm.protocol import Protocol

from checks.collect.errors import CollectError
from checks.collect.failures import explain, powershell_error
from checks.collect.probe import ProbeCommand, probe_command
from checks.inventory import Inventory, Server
from checks.secrets import Credential, resolve_credential
from checks.snapshot import InvalidSnapshot, Snapshot, parse_snapshot

logger = logging.getLogger(__name__)

# UTF-8, so that PowerShell's errors in Japanese arrive intact; pywinrm's default is 437.
UTF8_CODEPAGE = 65001
# What pywinrm, requests (OSError subclasses) and the auth libraries raise on the wire.
_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    WinRMError,
    WinRMOperationTimeoutError,
    WinRMTransportError,
    ParseError,
    OSError,
    SpnegoError,
    CredSSPAuthenticationError,
)


class WinRMCollector:
    """Collects one server's Snapshot over WS-Management with pywinrm."""

    def __init__(
        self, server: Server, credential: Credential, command: ProbeCommand | None = None
    ) -> None:
        self.server = server
        self._credential = credential
        self._command = command or probe_command()

    def collect(self) -> Snapshot:
        """Run the probe; any failure raises CollectError with one sentence."""
        try:
            stdout, stderr, exit_code = self._run()
        except CollectError:
            raise
        except _TRANSPORT_ERRORS as error:
            raise self._scrub(explain(error, self.server, self._credential.username)) from None
        if exit_code != 0:
            message = powershell_error(stderr, exit_code)
            raise self._scrub(CollectError("powershell", server=self.server.name, message=message))
        try:
            return parse_snapshot(stdout)
        except InvalidSnapshot as error:
            raise self._scrub(
                CollectError("bad_output", server=self.server.name, problem=str(error))
            ) from None

    def _run(self) -> tuple[bytes, bytes, int]:
        protocol = self._protocol()
        deadline = time.monotonic() + self.server.deadline_s
        shell_id = protocol.open_shell(codepage=UTF8_CODEPAGE, noprofile=True)
        try:
            command_id = protocol.run_command(shell_id, self._command.command_line)
            if self._command.stdin is not None:
                protocol.send_command_input(shell_id, command_id, self._command.stdin, end=True)
            return self._receive(protocol, shell_id, command_id, deadline)
        finally:
            # Deleting the shell ends its command too, so no separate Signal request is needed.
            self._close(protocol, shell_id)

    def _receive(
        self, protocol: Protocol, shell_id: str, command_id: str, deadline: float
    ) -> tuple[bytes, bytes, int]:
        stdout: list[bytes] = []
        stderr: list[bytes] = []
        while True:
            try:
                out, err, code, done = protocol.get_command_output_raw(shell_id, command_id)
            except WinRMOperationTimeoutError:
                # Windows answers a long-poll Receive this way while the command still runs.
                if time.monotonic() >= deadline:
                    raise
                continue
            stdout.append(out)
            stderr.append(err)
            if done:
                return b"".join(stdout), b"".join(stderr), code
            if time.monotonic() >= deadline:
                raise WinRMOperationTimeoutError()

    def _close(self, protocol: Protocol, shell_id: str) -> None:
        try:
            protocol.close_shell(shell_id, close_session=True)
        except _TRANSPORT_ERRORS as error:
            # The result (or the real error) is already in hand; a failed cleanup must not hide it.
            logger.info(
                "could not delete the shell on %s: %s", self.server.name, type(error).__name__
            )

    def _protocol(self) -> Protocol:
        server, credential = self.server, self._credential
        if server.transport == "certificate" and server.scheme != "https":
            raise CollectError("certificate_needs_https", permanent=True, server=server.name)
        if server.transport == "basic" and server.scheme == "http":
            logger.warning(
                "%s: basic authentication over http sends the password unencrypted", server.name
            )
        if not server.verify_tls and server.scheme == "https":
            logger.warning("%s: TLS certificate validation is turned off", server.name)
        options: dict[str, Any] = {
            "transport": server.transport,
            "username": credential.username,
            "password": credential.password,
            "server_cert_validation": "validate" if server.verify_tls else "ignore",
            "ca_trust_path": str(server.ca_bundle) if server.ca_bundle else _system_trust(),
            "read_timeout_sec": server.read_timeout_s,
            "operation_timeout_sec": server.operation_timeout_s,
            "message_encryption": "auto",
            # Not None: pywinrm turns None into a no_proxy setting that requests applies by
            # rewriting os.environ for each request, which races between checking threads
            # (KeyError: 'no_proxy'). Empty proxies mean "no proxy" without touching it.
            "proxy": "",
        }
        if server.transport == "certificate":
            options["cert_pem"] = str(credential.cert_pem)
            options["cert_key_pem"] = str(credential.cert_key_pem)
        protocol = Protocol(server.endpoint, **options)
        # pywinrm hands this value to requests as its timeout; a (connect, read) pair lets an
        # unreachable host fail after the connect timeout instead of the longer read timeout.
        protocol.transport.read_timeout_sec = (  # type: ignore[assignment]
            server.connect_timeout_s,
            server.read_timeout_s,
        )
        return protocol

    def _scrub(self, error: CollectError) -> CollectError:
        """Make sure no secret can ride along in a message that ends up in a report."""
        return error.scrubbed(self._credential.password)


def _system_trust() -> str | None:
    """The operating system's CA bundle (requests would otherwise use certifi's)."""
    paths = ssl.get_default_verify_paths()
    return paths.cafile or paths.capath


def winrm_collect(inventory: Inventory, environ: Mapping[str, str]) -> Callable[[Server], Snapshot]:
    """A collect function for the fleet: resolves each server's credential, then runs the probe."""

    def collect(server: Server) -> Snapshot:
        if server.credential is None:
            raise CollectError("no_credential", permanent=True, server=server.name)
        credential = resolve_credential(
            server.credential, inventory.credentials[server.credential], environ
        )
        return WinRMCollector(server, credential).collect()

    return collect
