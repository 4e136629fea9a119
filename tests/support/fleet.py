"""Many simulated Windows hosts, each with its own loopback address, served by one object.

Every host gets an address of its own (127.0.0.2, 127.0.0.3, ... then 127.0.1.1, ...; all of
127.0.0.0/8 is loopback on Linux) on one port shared by the whole fleet, since pywinrm always
posts to ``/wsman``. One thread runs a ``selectors`` loop over every listening socket; each
accepted connection is routed by the local address it arrived on (``getsockname()``) to its
host and served by a thread of its own, with the same HTTP, authentication and SOAP code as
``WSManServer``. What a host prints and how it fails is its :class:`HostProfile`.
"""

from __future__ import annotations

import contextlib
import errno
import resource
import secrets
import selectors
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from .fleet_hostile import hostile_receive, hostile_size
from .fleet_profiles import (
    Drop,
    Fault,
    Hang,
    HostProfile,
    HttpStatus,
    Malformed,
    OperationTimeouts,
    Refused,
    SoapFault,
    load_profile,
    load_profiles,
)
from .host_output import is_probe, not_recognized, probe_result
from .wsman_auth import AuthConfig, make_tls
from .wsman_http import Dropped, Failure, WSManRequestHandler
from .wsman_soap import (
    NS,
    CommandRequest,
    CommandResult,
    RequestRecord,
    WSManEndpoint,
    WSManFault,
)

__all__ = [
    "Fault",
    "HostProfile",
    "SimulatedFleet",
    "host_address",
    "load_profile",
    "load_profiles",
]

_BIND_ATTEMPTS = 20
_JOIN_TIMEOUT = 5.0
_SPARE_FDS = 512  # for connections, clients and the rest of the test process


def _ensure_fd_limit(sockets: int) -> None:
    """Raise the soft open-files limit (often 1024) if the listening sockets need it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = sockets + _SPARE_FDS
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(
            resource.RLIMIT_NOFILE,
            (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard),
        )


def host_address(index: int) -> str:
    """The loopback address of the fleet's ``index``-th host (0 -> 127.0.0.2)."""
    high, low = divmod(index + 1, 254)
    if not 0 <= high <= 255:
        raise ValueError(f"no loopback address for host #{index}")
    return f"127.0.{high}.{low + 1}"


class _Host(WSManEndpoint):
    """One simulated host: a WS-Management endpoint whose answers follow its profile."""

    def __init__(
        self, fleet: SimulatedFleet, name: str, profile: HostProfile, address: str, auth: AuthConfig
    ) -> None:
        super().__init__(
            self._answer,
            default_codepage=fleet.default_codepage,
            receive_chunk_size=fleet.receive_chunk_size,
            errors=fleet.errors,
            stopping=fleet._stopping,
        )
        self.fleet, self.name, self.profile, self.address = fleet, name, profile, address
        self.auth = auth
        self.latency = profile.latency_ms / 1000
        self.hang = isinstance(profile.fault, Hang)
        self._timeouts: dict[str, int] = {}  # OperationTimeout faults answered, per command
        self._sent: dict[str, int] = {}  # stdout bytes a huge_output host sent, per command

    @property
    def endpoint(self) -> _Host:  # a host is its own Site for WSManRequestHandler
        return self

    @property
    def url(self) -> str:
        return self.fleet.url_of(self.name)

    def next_failure(self) -> Failure | None:
        fault = self.profile.fault
        if isinstance(fault, HttpStatus) and fault.status != 401:
            return fault.status, fault.body.encode("utf-8"), "text/html; charset=utf-8"
        if self._malformed("redirect"):
            # Somewhere the inventory does not name: the fleet's first other host.
            other = next(n for n, p in self.fleet.profiles.items() if p.fault is None)
            return 307, b"", "text/plain", self.fleet.url_of(other)
        if self._malformed("http_500_not_utf8"):
            return 500, b"\xff\xfe<\x00h\x00\xe9\x81 not UTF-8", "text/html; charset=utf-8"
        return super().next_failure()

    def _malformed(self, reply: str) -> bool:
        fault = self.profile.fault
        return isinstance(fault, Malformed) and fault.reply == reply

    def _relates_to(self, action: str, message_id: str) -> str:
        if action == "Delete" and self._malformed("delete_relates_to"):
            return "uuid:00000000-0000-0000-0000-000000000000"
        return super()._relates_to(action, message_id)

    def _op_create(self, soap: Any) -> str:
        reply = super()._op_create(soap)
        if self._malformed("no_shell_id"):
            return "<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams></rsp:Shell>"
        return reply

    def _op_command(self, soap: Any) -> str:
        fault = self.profile.fault
        if isinstance(fault, SoapFault):
            raise WSManFault(fault.code, fault.message)
        return super()._op_command(soap)

    def _op_receive(self, soap: Any) -> str:
        fault = self.profile.fault
        if isinstance(fault, Drop):
            raise Dropped
        wanted = soap.body.find("rsp:Receive/rsp:DesiredStream", NS)
        command = wanted.get("CommandId", "") if wanted is not None else ""
        if isinstance(fault, OperationTimeouts):
            with self._lock:
                answered = self._timeouts.get(command, 0)
                self._timeouts[command] = answered + 1
            if answered < fault.count:
                raise WSManFault.operation_timeout()
        with self._lock:
            sent = self._sent.get(command, 0)
            self._sent[command] = sent + hostile_size(fault, sent)
        raw = hostile_receive(fault, command, sent, self.profile.snapshot)
        if raw is not None:
            raise raw
        reply = super()._op_receive(soap)
        if self._malformed("exit_code_not_integer"):
            return reply.replace("<rsp:ExitCode>0<", "<rsp:ExitCode>zero<")
        return reply

    def _answer(self, request: CommandRequest) -> CommandResult:
        if not is_probe(request):
            self.fleet._unexpected(self.name, request.command_line)
            return not_recognized(request)
        return probe_result(self.profile)


class SimulatedFleet:
    """Simulated Windows hosts on loopback; a context manager, or call start()/stop().

    ``users`` (``user`` or ``DOMAIN\\user`` -> password) is shared by all hosts; ``auth`` is any
    of "ntlm" (offered as Negotiate) and "basic"; ``tls`` serves HTTPS with a certificate from a
    fresh CA (``ca_cert_path``) naming every host's address. Host state (actions, counters)
    stays readable after stop() and is fresh after each start().
    """

    def __init__(
        self,
        profiles: Mapping[str, HostProfile],
        *,
        users: Mapping[str, str],
        auth: Collection[str] = ("ntlm", "basic"),
        tls: bool = False,
        receive_chunk_size: int = 32 * 1024,
        default_codepage: int = 437,
    ) -> None:
        self.profiles = dict(profiles)
        self.users = dict(users)
        self.auth_schemes = tuple(auth)
        self.tls = tls
        self.receive_chunk_size = receive_chunk_size
        self.default_codepage = default_codepage
        self.port = 0
        self.ca_cert_path: Path | None = None
        self.errors: list[BaseException] = []  # unexpected server-side exceptions
        self._addresses = {name: host_address(i) for i, name in enumerate(self.profiles)}
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._unexpected_commands: list[tuple[str, str]] = []
        self._hosts: dict[str, _Host] = {}
        self._by_address: dict[str, _Host] = {}  # hosts that listen
        self._sockets: list[socket.socket] = []  # listening, and the refused hosts' reservations
        self._connections: set[socket.socket] = set()
        self._workers: set[threading.Thread] = set()
        self._selector: selectors.BaseSelector | None = None
        self._wakeup: tuple[socket.socket, socket.socket] | None = None
        self._accept_thread: threading.Thread | None = None
        self._ssl_context: ssl.SSLContext | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    # -- queries ----------------------------------------------------------------------------

    def address_of(self, name: str) -> tuple[str, int]:
        """``(ip, port)`` of a host (a ``refused`` host's address has no listener)."""
        return self._addresses[name], self.port

    def url_of(self, name: str) -> str:
        """The WinRM endpoint URL of a host, e.g. ``http://127.0.0.2:40123/wsman``."""
        return f"{'https' if self.tls else 'http'}://{self._addresses[name]}:{self.port}/wsman"

    def actions_for(self, name: str) -> list[str]:
        """WS-Management actions the host received, in order ("Create", "Command", ...)."""
        return self._host(name).actions

    def requests_for(self, name: str) -> list[RequestRecord]:
        """The host's WS-Management requests, as on the wire and decrypted."""
        return self._host(name).requests

    def http_requests_for(self, name: str) -> int:
        """HTTP requests the host read, auth handshakes and unanswered requests included."""
        return self._host(name).http_requests_received

    def open_shell_ids_for(self, name: str) -> list[str]:
        return self._host(name).open_shell_ids

    @property
    def unexpected_commands(self) -> list[tuple[str, str]]:
        """``(host name, command line)`` of every command that was not the probe."""
        with self._lock:
            return list(self._unexpected_commands)

    def set_profile(self, name: str, profile: HostProfile) -> None:
        """Change what a running host answers from its next request on (say, after a fix)."""
        host = self._host(name)
        self.profiles[name] = profile
        host.profile = profile
        host.latency = profile.latency_ms / 1000
        host.hang = isinstance(profile.fault, Hang)

    def _host(self, name: str) -> _Host:
        if name not in self._addresses:
            raise KeyError(f"no host named {name!r}")
        if name not in self._hosts:
            raise RuntimeError("the fleet has not been started")
        return self._hosts[name]

    def _unexpected(self, name: str, command_line: str) -> None:
        with self._lock:
            self._unexpected_commands.append((name, command_line))

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> SimulatedFleet:
        if self._accept_thread is not None:
            raise RuntimeError("the fleet is already running")
        self._stopping = threading.Event()
        _ensure_fd_limit(len(self._addresses))
        self._tmp = tempfile.TemporaryDirectory(prefix="wsman-fleet-")
        try:
            self._make_hosts(Path(self._tmp.name))
            self._bind()
        except BaseException:
            self._tmp.cleanup()
            raise
        self._selector = selectors.DefaultSelector()
        self._wakeup = socket.socketpair()
        self._selector.register(self._wakeup[0], selectors.EVENT_READ, None)
        for sock in self._sockets:
            if sock.getsockname()[0] in self._by_address:
                self._selector.register(sock, selectors.EVENT_READ, sock)
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"wsman-fleet-{self.port}", daemon=True
        )
        self._accept_thread.start()
        return self

    def _make_hosts(self, workdir: Path) -> None:
        bindings = None
        if self.tls:
            identities = ["127.0.0.1", "localhost", *self._addresses.values()]
            self._ssl_context, self.ca_cert_path, bindings = make_tls(workdir, identities)
        accept = AuthConfig(self.users, self.auth_schemes, workdir, bindings)
        # The same user names with passwords nobody knows: every attempt fails, as with a wrong
        # password, after a real NTLM handshake.
        unknown = {user: secrets.token_hex(16) for user in self.users or ["nobody"]}
        reject = AuthConfig(
            unknown, self.auth_schemes, workdir, bindings, user_file_name="ntlm-reject.txt"
        )
        self._hosts.clear()
        self._by_address.clear()
        for name, profile in self.profiles.items():
            fault = profile.fault
            rejects = isinstance(fault, HttpStatus) and fault.status == 401
            host = _Host(self, name, profile, self._addresses[name], reject if rejects else accept)
            self._hosts[name] = host
            if not isinstance(fault, Refused):
                self._by_address[host.address] = host

    def _bind(self) -> None:
        """Bind every host's address on one port, retrying with another if one is taken."""
        for _ in range(_BIND_ATTEMPTS):
            port = 0
            try:
                for address in self._addresses.values():
                    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    self._sockets.append(sock)
                    listens = address in self._by_address
                    if listens:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    sock.bind((address, port))
                    port = sock.getsockname()[1]
                    if listens:
                        sock.listen(128)
                        sock.setblocking(False)
                    # else: bound (so nothing else can take it) but not listening: refused
                self.port = port
                return
            except OSError as exc:
                self._close_sockets()
                if exc.errno != errno.EADDRINUSE:
                    raise
        raise OSError(errno.EADDRINUSE, "no port is free on every fleet address")

    def _accept_loop(self) -> None:
        assert self._selector is not None
        while True:
            for key, _ in self._selector.select():
                if key.data is None:  # woken up by stop()
                    return
                try:
                    self._accept(key.data)
                except Exception as exc:  # noqa: BLE001 - the loop must outlive any one client
                    self.errors.append(exc)

    def _accept(self, listener: socket.socket) -> None:
        try:
            conn, peer = listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self.errors.append(exc)
            time.sleep(0.01)  # e.g. out of file descriptors: don't spin
            return
        try:
            conn.setblocking(True)
            local = conn.getsockname()
        except OSError:  # the client already reset the connection
            conn.close()
            return
        host = self._by_address.get(local[0])
        if host is None:  # cannot happen: only the hosts' addresses listen
            self.errors.append(RuntimeError(f"connection to unknown address {local}"))
            conn.close()
            return
        if self._ssl_context is not None:
            # Handshake later, in the connection's thread, so a bad client can't stall accepts.
            conn = self._ssl_context.wrap_socket(
                conn, server_side=True, do_handshake_on_connect=False
            )
        worker = threading.Thread(
            target=self._serve, args=(conn, peer, host), name=f"wsman-fleet-{host.name}"
        )
        with self._lock:  # registered before it runs, so stop() always sees it
            self._connections.add(conn)
            self._workers.add(worker)
        worker.start()

    def _serve(self, conn: socket.socket, peer: Any, host: _Host) -> None:
        try:
            WSManRequestHandler(conn, peer, host)  # type: ignore[arg-type]
        except OSError:
            pass  # clients going away: timeouts, rejected certificates, stop()
        except Exception as exc:  # noqa: BLE001 - kept for the test to assert on
            if not self._stopping.is_set():
                self.errors.append(exc)
        finally:
            with self._lock:
                self._connections.discard(conn)
                self._workers.discard(threading.current_thread())
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_WR)
            conn.close()

    def stop(self) -> None:
        """Stop accepting, drop open connections, join every thread; state stays readable."""
        if self._accept_thread is None or self._selector is None or self._wakeup is None:
            return
        self._stopping.set()  # ends latency waits, hangs and handler delays
        self._wakeup[1].send(b"\0")
        self._accept_thread.join()
        self._selector.close()
        for sock in self._wakeup:
            sock.close()
        self._close_sockets()
        with self._lock:
            connections, workers = list(self._connections), list(self._workers)
        for conn in connections:
            with contextlib.suppress(OSError, ValueError):
                conn.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + _JOIN_TIMEOUT
        for worker in workers:
            worker.join(max(deadline - time.monotonic(), 0))
            if worker.is_alive():
                self.errors.append(RuntimeError(f"{worker.name} did not stop"))
        self._accept_thread = self._selector = self._wakeup = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _close_sockets(self) -> None:
        for sock in self._sockets:
            sock.close()
        self._sockets.clear()

    def __enter__(self) -> SimulatedFleet:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
