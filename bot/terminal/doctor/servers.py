"""The doctor's lines per server: name, port, login, permissions and clock, each with its fix."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from bot.terminal.doctor.findings import Finding, Outcome
from checks.collect.errors import CollectError
from checks.diagnose import Diagnosis, backup_installed, unreadable
from checks.i18n import Catalog
from checks.inventory import Inventory, Server
from checks.snapshot import Snapshot

# Kerberos refuses tickets from a clock more than five minutes off (its default tolerance).
MAX_CLOCK_SKEW = timedelta(minutes=5)
STEPS = ("resolve", "port", "login", "read", "clock")
# Errors raised once the shell runs: the login worked, reading the backup setup did not.
READ_ERRORS = frozenset({"powershell", "bad_output", "probe_timeout"})
# The fix for each collector error (checks/collect/errors.py keys); others get doctor.fix.collect.
COLLECT_FIXES = {
    "auth_failed": "auth_failed",
    "wsman_fault": "wsman_fault",
    "tls_certificate": "tls_certificate",
    "tls_failed": "tls_failed",
    "not_wsman": "not_wsman",
    "http_status": "http_status",
    "http_status_detail": "http_status",
    "probe_timeout": "slow",
    "read_timeout": "slow",
    "connect_timeout": "port_timeout",
    "refused": "port_refused",
    "dropped": "http_status",
    "unresolved": "resolve",
    "no_credential": "no_credential",
    "username_env_missing": "variable",
    "password_env_missing": "variable",
    "password_file_unreadable": "password_file",
    "certificate_needs_https": "certificate_needs_https",
    "powershell": "powershell",
    "bad_output": "bad_output",
}


def clock_skew(diagnosis: Diagnosis) -> timedelta | None:
    """How far the server's clock is off ours (positive: ahead); None when it was not read.

    Zero while the server's time falls between sending the probe and receiving its answer.
    """
    snapshot, sent, received = diagnosis.snapshot, diagnosis.sent_at, diagnosis.received_at
    if snapshot is None or sent is None or received is None:
        return None
    # The probe writes whole seconds, so its time may read up to a second early.
    earliest = sent.replace(microsecond=0)
    if snapshot.collected_at < earliest:
        return snapshot.collected_at - earliest
    if snapshot.collected_at > received:
        return snapshot.collected_at - received
    return timedelta(0)


@dataclass(frozen=True)
class _Login:
    """Who the server is logged on as, and where the password comes from, for messages."""

    user: str
    source: str


def _login_of(
    server: Server, inventory: Inventory, environ: Mapping[str, str], t: Catalog
) -> _Login:
    profile = inventory.credentials.get(server.credential) if server.credential else None
    if profile is None:
        return _Login("?", "?")
    user = profile.username or environ.get(profile.username_env or "", "") or "?"
    if profile.password_env is not None:
        source = t.text("doctor.source_env", variable=profile.password_env)
    elif profile.password_file is not None:
        source = t.text("doctor.source_file", path=profile.password_file)
    else:
        source = t.text("doctor.source_profile", name=server.credential)
    return _Login(user, source)


def server_findings(
    diagnosis: Diagnosis, inventory: Inventory, environ: Mapping[str, str], t: Catalog
) -> list[Finding]:
    """One finding per step; after the first failure the later steps are skipped."""
    server = diagnosis.server
    login = _login_of(server, inventory, environ, t)
    findings: list[Finding] = []
    for step in STEPS:
        name = t.text(f"doctor.step.{step}", server=server.name)
        if findings and findings[-1].outcome is not Outcome.PASSED:
            findings.append(Finding(name, Outcome.SKIPPED, t.text("doctor.skipped")))
        elif diagnosis.internal_error is not None:
            detail = t.text("doctor.internal", kind=diagnosis.internal_error)
            findings.append(Finding(name, Outcome.FAILED, detail))
        else:
            outcome, detail, fix = _judge(step, diagnosis, login, t)
            findings.append(Finding(name, outcome, detail, fix))
    return findings


def _judge(step: str, d: Diagnosis, login: _Login, t: Catalog) -> tuple[Outcome, str, str | None]:
    server = d.server
    where = f"[{d.connected_to}]" if d.connected_to and ":" in d.connected_to else d.connected_to
    params = {
        "server": server.name,
        "address": server.address,
        "port": server.port,
        "where": f"{where or server.address}:{server.port}",
        "user": login.user,
        "source": login.source,
        "seconds": f"{server.connect_timeout_s:g}",
    }
    error = d.collect_error
    if step == "resolve":
        if d.resolve_error is not None:
            detail = t.text("doctor.resolve_failed", reason=d.resolve_error, **params)
            return Outcome.FAILED, detail, t.text("doctor.fix.resolve", **params)
        if _is_ip(server.address or ""):
            return Outcome.PASSED, t.text("doctor.resolve_ip", **params), None
        found = ", ".join(d.addresses or ())
        return Outcome.PASSED, t.text("doctor.resolve_ok", addresses=found, **params), None
    if step == "port":
        failure = d.connect_failure
        if failure is None:
            return Outcome.PASSED, t.text("doctor.port_ok", **params), None
        detail = t.text(f"doctor.port_{failure.kind}", reason=failure.reason, **params)
        return Outcome.FAILED, detail, t.text(f"doctor.fix.port_{failure.kind}", **params)
    if step == "login":
        if error is not None and error.key not in READ_ERRORS:
            return Outcome.FAILED, error.text(t), _collect_fix(error, params, t)
        ok = t.text("doctor.login_ok", transport=server.transport, **params)
        return Outcome.PASSED, ok, None
    if step == "read" and error is not None:
        return Outcome.FAILED, error.text(t), _collect_fix(error, params, t)
    skew = clock_skew(d)
    if d.snapshot is None or skew is None:
        # Cannot happen once the login passed: the probe answered with a snapshot.
        return Outcome.FAILED, t.text("doctor.internal", kind="NoSnapshot"), None
    if step == "read":
        return _judge_read(d.snapshot, params, t)
    return _judge_clock(skew, t)


def _judge_read(
    snapshot: Snapshot, params: Mapping[str, object], t: Catalog
) -> tuple[Outcome, str, str | None]:
    problems = unreadable(snapshot)
    if problems:
        detail = t.text("doctor.read_failed", what="; ".join(problems))
        return Outcome.FAILED, detail, t.text("doctor.fix.read", **params)
    if not backup_installed(snapshot):
        return Outcome.PASSED, t.text("doctor.read_no_wsb"), None
    if snapshot.backup is None:
        return Outcome.PASSED, t.text("doctor.read_no_policy"), None
    return Outcome.PASSED, t.text("doctor.read_ok"), None


def _judge_clock(skew: timedelta, t: Catalog) -> tuple[Outcome, str, str | None]:
    if abs(skew) <= MAX_CLOCK_SKEW:
        seconds = t.number(abs(skew).total_seconds(), "#,##0")
        return Outcome.PASSED, t.text("doctor.clock_ok", seconds=seconds), None
    minutes = t.number(abs(skew).total_seconds() / 60, "#,##0")
    key = "doctor.clock_ahead" if skew > timedelta(0) else "doctor.clock_behind"
    return Outcome.FAILED, t.text(key, minutes=minutes), t.text("doctor.fix.clock")


def _collect_fix(error: CollectError, params: Mapping[str, object], t: Catalog) -> str:
    fix = COLLECT_FIXES.get(error.key, "collect")
    return t.text(f"doctor.fix.{fix}", **{**params, **error.params})


def _is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True
