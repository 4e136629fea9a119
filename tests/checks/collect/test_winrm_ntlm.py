"""NTLM logs in with the password's NT hash only: no LM hash, no DES, real pyspnego both ends."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
import spnego
from spnego._ntlm_raw.crypto import is_ntlm_hash

from checks.collect.winrm import WinRMCollector, ntlm_secret
from checks.inventory import Server
from checks.secrets import Credential
from checks.snapshot import parse_snapshot
from tests.conftest import FIXTURES, PASSWORD, USER, inventory_for
from tests.support.fleet import SimulatedFleet, load_profile

ServerOf = Callable[..., Server]
SEED = parse_snapshot((FIXTURES / "snapshots" / "seed-incident.json").read_bytes())


@contextmanager
def des_runs() -> Iterator[list[str]]:
    """Names of the DES functions that run in this thread meanwhile (LM hashes, NTLMv1)."""
    seen: list[str] = []

    def watch(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and Path(frame.f_code.co_filename).name == "des.py":
            seen.append(frame.f_code.co_name)

    sys.setprofile(watch)
    try:
        yield seen
    finally:
        sys.setprofile(None)


def test_the_secret_is_the_nt_hash_of_the_password_beside_no_lm_hash() -> None:
    # MS-NLMP 4.2.2.1.2, NTOWFv1 of "Password":
    # https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-nlmp/0fb94d19-16d2-481d-9121-112defbaac0b
    secret = ntlm_secret("Password")
    assert secret == "0" * 32 + ":a4f49c406510bdcab6824ee7c30fd852"
    # pyspnego reads the "LM:NT" form as hashes, not as a password to derive them from.
    assert is_ntlm_hash(secret)


def test_an_ntlm_check_logs_in_without_ever_running_des(
    fleet: SimulatedFleet, server_of: ServerOf
) -> None:
    before = len(fleet.requests_for("fs01"))
    with des_runs() as seen:
        snapshot = WinRMCollector(server_of(fleet, "fs01"), Credential(USER, PASSWORD)).collect()
    assert snapshot == SEED
    assert fleet.requests_for("fs01")[before:], "the check went over NTLM with encryption"
    assert seen == []


def test_given_the_password_itself_pyspnego_runs_des_for_the_lm_hash() -> None:
    # The observer above sees DES when it runs: pyspnego's own default, for the record.
    with des_runs() as seen:
        spnego.client(USER, PASSWORD, protocol="ntlm", options=spnego.NegotiateOptions.use_ntlm)
    assert seen


@pytest.mark.parametrize("password", ["パスワード-Ünïcode-1", "p@ss w0rd;'\"\\"])
def test_any_password_logs_in_over_ntlm_with_its_nt_hash(password: str) -> None:
    profile = load_profile(FIXTURES / "hosts" / "fs01.json")
    with SimulatedFleet({"fs01": profile}, users={USER: password}, auth=("ntlm",)) as fleet:
        (server,) = inventory_for(fleet, ["fs01"]).resolved()
        snapshot = WinRMCollector(server, Credential(USER, password)).collect()
        assert fleet.errors == []
    assert snapshot == SEED


def test_the_nt_hash_is_masked_like_the_password_in_a_collect_error(
    fleet: SimulatedFleet, server_of: ServerOf
) -> None:
    # The hash logs in as well as the password does: an error quoting it is as bad.
    from checks.collect.errors import CollectError

    collector = WinRMCollector(server_of(fleet, "fs01"), Credential(USER, PASSWORD))
    leaked = CollectError(
        "wsman_fault", code="x", address="fs01", text=f"no {ntlm_secret(PASSWORD)}"
    )
    scrubbed = collector._scrub(leaked)
    assert ntlm_secret(PASSWORD) not in str(scrubbed.params)
    assert PASSWORD not in str(scrubbed.params)
