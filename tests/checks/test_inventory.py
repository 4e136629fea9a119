"""The inventory: defaults, lookups by name, and refusals that keep secrets out of the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from checks.inventory import Inventory

EXAMPLE: dict[str, Any] = {
    "credentials": {
        "backup-reader": {
            "username": "CORP\\svc-backupcheck",
            "password_env": "BACKUPCHECK_WINRM_PASSWORD",
        }
    },
    "servers": [
        {"name": "fs01", "address": "fs01.corp.example", "credential": "backup-reader"},
        {
            "name": "lab01",
            "address": "127.0.0.1",
            "port": 15985,
            "scheme": "http",
            "transport": "basic",
            "credential": "backup-reader",
        },
        {"name": "web02.corp.example", "address": "10.0.0.12", "scheme": "https"},
    ],
}


def test_every_server_gets_the_defaults_it_does_not_set() -> None:
    inventory = Inventory.model_validate(
        {
            **EXAMPLE,
            "defaults": {"transport": "credssp", "timezone": "Asia/Tokyo", "deadline_s": 90},
        }
    )
    fs01, lab01, web02 = inventory.resolved()
    assert (fs01.port, fs01.scheme, fs01.transport, fs01.timezone) == (
        5985,
        "http",
        "credssp",
        "Asia/Tokyo",
    )
    assert fs01.endpoint == "http://fs01.corp.example:5985/wsman"
    assert (lab01.port, lab01.transport) == (15985, "basic")
    assert (web02.port, web02.endpoint) == (5986, "https://10.0.0.12:5986/wsman")
    assert web02.credential is None
    assert (fs01.connect_timeout_s, fs01.operation_timeout_s, fs01.read_timeout_s) == (10, 60, 70)
    assert fs01.deadline_s == 90


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("fs01", "fs01"),
        ("FS01", "fs01"),
        ("fs01.corp.example", "fs01"),
        ("web02", "web02.corp.example"),
        ("WEB02.CORP.EXAMPLE", "web02.corp.example"),
        ("srv01", None),
        ("fs01.other.example", "fs01"),
    ],
)
def test_names_match_case_insensitively_and_short_names_match_fqdns(
    typed: str, found: str | None
) -> None:
    server = Inventory.model_validate(EXAMPLE).find(typed)
    assert (server.name if server else None) == found


def test_a_near_miss_gets_a_suggestion() -> None:
    inventory = Inventory.model_validate(EXAMPLE)
    assert inventory.suggest("fs1") == "fs01"
    assert inventory.suggest("zzzzzz") is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"servers": [{"name": "a", "address": "x"}, {"name": "A", "address": "y"}]},
            "listed twice",
        ),
        (
            {"servers": [{"name": "a", "address": "x", "credential": "nope"}]},
            "not defined under credentials",
        ),
        (
            {"credentials": {"c": {"username": "u", "password": "hunter2"}}},
            "passwords never go in the config file",
        ),
        ({"credentials": {"c": {"password_env": "P"}}}, "exactly one of username and username_env"),
        (
            {"defaults": {"operation_timeout_s": 80}},
            "read_timeout_s must be longer than operation_timeout_s",
        ),
        ({"defaults": {"timezone": "Mars/Olympus"}}, "not a known IANA time zone"),
        ({"servers": [{"name": "a; rm -rf", "address": "x"}]}, "String should match pattern"),
    ],
)
def test_inconsistent_inventories_are_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        Inventory.model_validate({**EXAMPLE, **change})
    assert "hunter2" not in str(caught.value)


def test_secret_files_are_paths_not_secrets(tmp_path: Path) -> None:
    inventory = Inventory.model_validate(
        {"credentials": {"c": {"username": "u", "password_file": str(tmp_path / "pw")}}}
    )
    assert inventory.credentials["c"].password_file == tmp_path / "pw"
