"""The WinRM collector: runs the probe on a Windows host in one shell and parses its Snapshot."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from xml.etree.ElementTree import ParseError

from requests_credssp.exceptions import AuthenticationException as CredSSPAuthenticationError
from spnego._ntlm_raw.crypto import ntowfv1
from spnego.exceptions import SpnegoError
from winrm.exceptions import WinRMError, WinRMOperationTimeoutError, WinRMTransportError
from winrm.protocol import Protocol

from checks.collect.errors import CollectError
from checks.collect.exchange import (
    BoundedTransport,
    DeadlineReached,
    Exchange,
    ExchangeRefused,
    MalformedReply,
)
from checks.collect.failures import explain, odd_reply, powershell_error
from checks.collect.probe import ProbeCommand, probe_command
from checks.inventory import Inventory, Server
from checks.secrets import Credential, masked_snapshot, resolve_credential
from checks.snapshot import InvalidSnapshot, Snapshot, parse_snapshot

logger = logging.getLogger(__name__)

# UTF-8, so that PowerShell's errors in Japanese arrive intact; pywinrm's default is 437.
UTF8_CODEPAGE = 65001
# pyspnego derives an LM hash (DES, in pure Python: about 2 ms of CPU) from every password it is
# given, although NTLMv2, all it speaks unless LM_COMPAT_LEVEL says otherwise, never uses one.
# Given "{lm_hash}:{nt_hash}" instead of the password (the pass-the-hash form requests_ntlm
# advertises; pyspnego's changelog, 0.1.6), it takes the NT hash as it is; the LM half stays
# zeros, so no LM hash of the password is ever computed.
_NO_LM_HASH = "0" * 32
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
# What pywinrm's parsing of a reply raises when an element is missing or malformed: `next()`
# on no match, int() of a non-number, a missing attribute, its assert on RelatesTo.
_ODD_REPLY_ERRORS: tuple[type[BaseException], ...] = (
    StopIteration,
    ValueError,
    KeyError,
    IndexError,
    AttributeError,
    TypeError,
    AssertionError,
)
_FAILURES: tuple[type[BaseException], ...] = (*_TRANSPORT_ERRORS, ExchangeRefused)
T = TypeVar("T")


class WinRMCollector:
    """Collects one server's Snapshot over WS-Management with pywinrm."""

    def __init__(
        self,
        server: Server,
        credential: Credential,
        command: ProbeCommand | None = None,
    ) -> None:
        self.server = server
        self._credential = credential
        self._command = command or probe_command()

    def collect(self) -> Snapshot:
        """Run the probe; any failure raises CollectError with one sentence."""
        with Exchange(self.server.deadline_s, self.server.max_exchange_bytes) as exchange:
            try:
                stdout, stderr, exit_code = self._run(exchange)
            except CollectError:
                raise
            except _FAILURES as error:
                # Once the deadline cut the connection, whatever broke is the deadline's doing.
                cause = DeadlineReached() if exchange.expired else error
                failure = explain(cause, self.server, self._credential.username)
                raise self._scrub(failure) from None
        if exit_code != 0:
            message = powershell_error(stderr, exit_code)
            raise self._scrub(CollectError("powershell", server=self.server.name, message=message))
        try:
            return masked_snapshot(parse_snapshot(stdout), self._credential.password)
        except InvalidSnapshot as error:
            raise self._scrub(
                CollectError("bad_output", server=self.server.name, problem=str(error))
            ) from None

    def _run(self, exchange: Exchange) -> tuple[bytes, bytes, int]:
        protocol = self._protocol(exchange)
        shell_id = _step(
            "Create", lambda: protocol.open_shell(codepage=UTF8_CODEPAGE, noprofile=True)
        )
        if not shell_id:
            raise MalformedReply("Create", odd_reply("Create", StopIteration()))
        try:
            line = self._command.command_line
            command_id = _step("Command", lambda: protocol.run_command(shell_id, line))
            if not command_id:
                raise MalformedReply("Command", odd_reply("Command", StopIteration()))
            stdin = self._command.stdin
            if stdin is not None:
                _step(
                    "Send",
                    lambda: protocol.send_command_input(shell_id, command_id, stdin, end=True),
                )
            return self._receive(protocol, shell_id, command_id, exchange)
        finally:
            # Deleting the shell ends its command too, so no separate Signal request is needed.
            self._close(protocol, shell_id, exchange)

    def _receive(
        self, protocol: Protocol, shell_id: str, command_id: str, exchange: Exchange
    ) -> tuple[bytes, bytes, int]:
        stdout: list[bytes] = []
        stderr: list[bytes] = []
        while True:
            try:
                out, err, code, done = _step(
                    "Receive", lambda: protocol.get_command_output_raw(shell_id, command_id)
                )
            except WinRMOperationTimeoutError:
                # Windows answers a long-poll Receive this way while the command still runs.
                exchange.remaining()
                continue
            stdout.append(out)
            stderr.append(err)
            if done:
                return b"".join(stdout), b"".join(stderr), code
            exchange.remaining()

    def _close(self, protocol: Protocol, shell_id: str, exchange: Exchange) -> None:
        exchange.allow_close()
        try:
            _step("Delete", lambda: protocol.close_shell(shell_id, close_session=True))
        except _FAILURES as error:
            # The result (or the real error) is already in hand; a failed cleanup must not hide it.
            logger.info(
                "could not delete the shell on %s: %s", self.server.name, type(error).__name__
            )
        finally:
            protocol.transport.close_session()

    def _protocol(self, exchange: Exchange) -> Protocol:
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
            "username": credential.username,
            "password": ntlm_secret(credential.password)
            if server.transport == "ntlm"
            else credential.password,
            "server_cert_validation": "validate" if server.verify_tls else "ignore",
            "ca_trust_path": str(server.ca_bundle) if server.ca_bundle else _system_trust(),
            "message_encryption": "auto",
            # Not None: pywinrm turns None into a no_proxy setting that requests applies by
            # rewriting os.environ for each request, which races between checking threads
            # (KeyError: 'no_proxy'). Empty proxies mean "no proxy" without touching it.
            "proxy": "",
        }
        if server.transport == "certificate":
            options["cert_pem"] = str(credential.cert_pem)
            options["cert_key_pem"] = str(credential.cert_key_pem)
        timeouts: dict[str, Any] = {
            "read_timeout_sec": server.read_timeout_s,
            "operation_timeout_sec": server.operation_timeout_s,
        }
        protocol = Protocol(server.endpoint, transport=server.transport, **timeouts, **options)
        # The same transport, with every request bounded by the exchange (see exchange.py).
        protocol.transport = BoundedTransport(
            exchange,
            endpoint=server.endpoint,
            auth_method=server.transport,
            service="HTTP",
            **options,
        )
        # pywinrm hands this value to requests as its timeout; a (connect, read) pair lets an
        # unreachable host fail after the connect timeout instead of the longer read timeout.
        protocol.transport.read_timeout_sec = (  # type: ignore[assignment]
            server.connect_timeout_s,
            server.read_timeout_s,
        )
        return protocol

    def _scrub(self, error: CollectError) -> CollectError:
        """Make sure no secret can ride along in a message that ends up in a report."""
        password = self._credential.password
        # The NT hash stands in for the password over NTLM, and logs in as well as it does.
        return error.scrubbed(password).scrubbed(ntlm_secret(password) if password else "")


def _step(action: str, call: Callable[[], T]) -> T:
    """Run one pywinrm request; a reply it cannot parse becomes MalformedReply."""
    try:
        return call()
    except _FAILURES:
        raise
    except _ODD_REPLY_ERRORS as error:
        raise MalformedReply(action, odd_reply(action, error)) from error


def ntlm_secret(password: str) -> str:
    """What NTLM authenticates with in place of ``password``: its NT hash, and no LM hash."""
    return f"{_NO_LM_HASH}:{ntowfv1(password).hex()}"


def _system_trust() -> str | None:
    """The operating system's CA bundle (requests would otherwise use certifi's)."""
    paths = ssl.get_default_verify_paths()
    return paths.cafile or paths.capath


def winrm_collect(
    inventory: Inventory,
    environ: Mapping[str, str],
) -> Callable[[Server], Snapshot]:
    """A collect function for the fleet: resolves each server's credential, then runs the probe."""

    def collect(server: Server) -> Snapshot:
        if server.credential is None:
            raise CollectError("no_credential", permanent=True, server=server.name)
        credential = resolve_credential(
            server.credential, inventory.credentials[server.credential], environ
        )
        collector = WinRMCollector(server, credential)
        return collector.collect()

    return collect
