"""Finds out step by step why a server cannot be checked: its name, its WinRM port, one probe."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from checks.collect.errors import CollectError
from checks.fleet import DEFAULT_WORKERS, Clock, Collect
from checks.inventory import Server
from checks.snapshot import Snapshot

logger = logging.getLogger(__name__)

# The sentences probe.ps1 adds to `warnings` when a cmdlet or CIM query throws; for an account
# without local administrator rights that is "access denied". Keep in step with probe.ps1.
UNREADABLE_PREFIXES = (
    "shadow storage could not be read",
    "the backup policy could not be read",
    "the backup sources could not be read",
    "the backup target could not be read",
    "the backup schedule could not be read",
    "the backup history could not be read",
)
NO_WSB_PREFIX = "the Windows Server Backup feature is not installed"


@dataclass(frozen=True)
class ConnectFailure:
    """Why the WinRM port did not accept a TCP connection."""

    kind: Literal["refused", "timeout", "unreachable"]
    reason: str


@dataclass(frozen=True)
class Diagnosis:
    """What one server showed; the steps after the first failure were not tried (None)."""

    server: Server
    addresses: tuple[str, ...] | None = None  # what the name resolved to
    resolve_error: str | None = None
    connected_to: str | None = None  # the address whose port answered
    connect_failure: ConnectFailure | None = None
    collect_error: CollectError | None = None
    snapshot: Snapshot | None = None
    sent_at: datetime | None = None  # when the probe was started, by our clock
    received_at: datetime | None = None  # when its answer arrived
    internal_error: str | None = None  # the type of an exception that is a bug of ours


def resolve(server: Server) -> tuple[tuple[str, ...], str | None]:
    """The addresses server.address resolves to, or the resolver's reason it does not."""
    try:
        found = socket.getaddrinfo(server.address, server.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        return (), getattr(error, "strerror", None) or str(error)
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in found))
    return addresses, None


def connect(server: Server, addresses: Sequence[str]) -> tuple[str | None, ConnectFailure | None]:
    """Open (and close) a TCP connection to the WinRM port: the first address that answers."""
    failure = ConnectFailure("unreachable", "no address")
    for address in addresses:
        try:
            with socket.create_connection((address, server.port), server.connect_timeout_s):
                return address, None
        except ConnectionRefusedError:
            failure = ConnectFailure("refused", "connection refused")
        except TimeoutError:
            failure = ConnectFailure("timeout", f"{server.connect_timeout_s:g}")
        except OSError as error:
            failure = ConnectFailure("unreachable", error.strerror or type(error).__name__)
    return None, failure


def diagnose(server: Server, collect: Collect, clock: Clock) -> Diagnosis:
    """Resolve, connect, then run the real collector once; stops at the first failing step."""
    addresses, resolve_error = resolve(server)
    if resolve_error is not None:
        return Diagnosis(server, addresses=addresses, resolve_error=resolve_error)
    connected_to, failure = connect(server, addresses)
    if failure is not None:
        return Diagnosis(server, addresses=addresses, connect_failure=failure)
    found = Diagnosis(server, addresses=addresses, connected_to=connected_to)
    sent_at = clock()
    try:
        snapshot = collect(server)
    except CollectError as error:
        return replace(found, collect_error=error, sent_at=sent_at, received_at=clock())
    return replace(found, snapshot=snapshot, sent_at=sent_at, received_at=clock())


def diagnose_fleet(
    servers: Sequence[Server],
    collect: Collect,
    *,
    workers: int = DEFAULT_WORKERS,
    progress: Callable[[Diagnosis], None] | None = None,
    clock: Clock = lambda: datetime.now(UTC),
) -> list[Diagnosis]:
    """Diagnoses for all servers, in the order given; every step has its own timeout."""
    results: list[Diagnosis | None] = [None] * len(servers)

    def task(server: Server) -> Diagnosis:
        try:
            return diagnose(server, collect, clock)
        except Exception as error:  # a bug met by one host must not stop the others
            logger.exception("internal error while diagnosing %s", server.name)
            return Diagnosis(server, internal_error=type(error).__name__)

    with ThreadPoolExecutor(
        max_workers=max(1, min(workers, len(servers))), thread_name_prefix="doctor"
    ) as pool:
        futures = {pool.submit(task, server): index for index, server in enumerate(servers)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            if progress is not None:
                progress(future.result())
    return [result for result in results if result is not None]


def unreadable(snapshot: Snapshot) -> list[str]:
    """The probe's warnings that say a part of the backup setup could not be read."""
    return [w for w in snapshot.warnings if w.startswith(UNREADABLE_PREFIXES)]


def backup_installed(snapshot: Snapshot) -> bool:
    """Whether the Windows Server Backup feature is installed on the host."""
    return not any(w.startswith(NO_WSB_PREFIX) for w in snapshot.warnings)
