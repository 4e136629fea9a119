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


@pytest.mark.parametrize(
    ("typed", "found"), [("db01", None), ("DB01.EAST.example", "db01.east.example")]
)
def test_a_short_name_shared_by_two_fqdns_matches_neither(typed: str, found: str | None) -> None:
    inventory = Inventory.model_validate(
        {
            "servers": [
                {"name": f"db01.{site}.example", "address": site} for site in ("east", "west")
            ]
        }
    )
    server = inventory.find(typed)
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
        (
            {"servers": [{"name": "a", "address": "x", "snapshot_file": "/mnt/a.json"}]},
            "either address: .* or snapshot_file: .*, exactly one of them",
        ),
        ({"servers": [{"name": "a"}]}, "either address: .* or snapshot_file: .*, exactly one"),
        ({"defaults": {"max_snapshot_age_min": 0}}, "greater than or equal to 1"),
        ({"defaults": {"max_snapshot_age_min": 10**9}}, "less than or equal to 44640"),
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


# --- refusing nonsense -------------------------------------------------------------------------

# A throwaway secret: the tests check no error repeats it.
SECRET = "Sup3r-S3cret"  # noqa: S105


def _refusal(change: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        Inventory.model_validate({**EXAMPLE, **change})
    message = str(caught.value)
    assert SECRET not in message
    return message


def _server(**fields: Any) -> dict[str, Any]:
    return {"servers": [{"name": "fs01", "address": "fs01.corp.example", **fields}]}


@pytest.mark.parametrize(
    ("address", "kept"),
    [
        ("fs01", "fs01"),
        ("fs01.corp.example", "fs01.corp.example"),
        ("fs01.corp.example.", "fs01.corp.example."),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("3com.example", "3com.example"),
        ("a" * 63 + ".example", "a" * 63 + ".example"),
        ("10.0.0.12", "10.0.0.12"),
        ("2001:db8::12", "2001:db8::12"),
        ("[2001:db8::12]", "2001:db8::12"),
        ("::1", "::1"),
    ],
)
def test_addresses_are_host_names_or_ip_literals(address: str, kept: str) -> None:
    (server,) = Inventory.model_validate(_server(address=address)).resolved()
    assert server.address == kept
    # An IPv6 literal is stored bare and bracketed in the URL, whichever way it was written.
    host = f"[{kept}]" if ":" in kept else kept
    assert server.endpoint == f"http://{host}:5985/wsman"


@pytest.mark.parametrize(
    ("address", "message"),
    [
        (f"admin:{SECRET}@fs01", "cannot carry a user name or password"),
        (f"admin@{SECRET}", "cannot carry a user name or password"),
        (f"http://admin:{SECRET}@fs01/wsman", "cannot carry a user name or password"),
        ("http://fs01", "without a scheme or path"),
        ("fs01/../x?#", "without a scheme or path"),
        ("fs01\\share", "without a scheme or path"),
        ("fs01\r\nHost: evil", "without spaces or control characters"),
        ("fs01 ", "without spaces or control characters"),
        ("fs 01", "without spaces or control characters"),
        ("\tfs01", "without spaces or control characters"),
        ("fs01\x00", "without spaces or control characters"),
        ("fs01:5985", "cannot carry a port; set it with port:"),
        ("10.0.0.12:5985", "cannot carry a port; set it with port:"),
        ("[2001:db8::12]:5985", "an address is a host name, an IPv4 or an IPv6 address"),
        ("fe80::1%eth0", "with a zone"),
        ("[fs01]", "an address is a host name"),
        ("-fs01", "an address is a host name"),
        ("fs01-.example", "an address is a host name"),
        ("fs_01.example", "an address is a host name"),
        ("fs01..example", "an address is a host name"),
        (".", "an address is a host name"),
        ("a" * 64 + ".example", "an address is a host name"),
        (("a" * 60 + ".") * 5 + "example", "an address is a host name"),
        ("ｆｓ０１", "an address is a host name"),
        # inet_aton would read these as 10.0.0.1 and 127.0.0.1.
        ("10.1", "an address is a host name"),
        ("127.000.000.001", "an address is a host name"),
        ("999.0.0.1", "an address is a host name"),
        ("", "at least 1 character"),
    ],
)
def test_other_addresses_are_refused_without_echoing_them(address: str, message: str) -> None:
    assert message in _refusal(_server(address=address))


@pytest.mark.parametrize(
    "field", ["connect_timeout_s", "operation_timeout_s", "read_timeout_s", "deadline_s"]
)
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("inf"), "finite number"),
        (float("nan"), "finite number"),
        ("1e400", "finite number"),
        (3600.5, "less than or equal to 3600"),
        (10**400, "valid number"),
        (0, "greater than 0"),
        (-1, "greater than 0"),
    ],
)
def test_timeouts_are_finite_positive_and_at_most_an_hour(
    field: str, value: object, message: str
) -> None:
    assert message in _refusal({"defaults": {field: value}})
    assert message in _refusal(_server(**{field: value}))


def test_an_hour_is_allowed() -> None:
    inventory = Inventory.model_validate(
        {"defaults": {"operation_timeout_s": 3000, "read_timeout_s": 3600, "deadline_s": 3600}}
    )
    assert inventory.defaults.deadline_s == 3600


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"defaults": {"port": 10**400}}, "less than or equal to 65535"),
        ({"defaults": {"lead_time_min": 10**20}}, "less than or equal to 1440"),
        ({"defaults": {"timezone": SECRET}}, "not a known IANA time zone"),
        ({"defaults": {"timezone": "../../etc/passwd"}}, "not a known IANA time zone"),
        ({"defaults": {"timezone": "x" * 5000}}, "not a known IANA time zone"),
        ({"defaults": {"ca_bundle": "/etc/ssl/\x00x"}}, "without NUL bytes"),
        ({"defaults": {"ca_bundle": "/x" * 3000}}, "at most 4096 characters"),
        ({"defaults": {"credential": f"a:{SECRET}"}}, "String should match pattern"),
        ({"credentials": {"backup reader": {"username": "u"}}}, "String should match pattern"),
        ({"credentials": {"c": {"username": "u\r\nx"}}}, "cannot contain control characters"),
        ({"credentials": {"c": {"username": "u" * 257}}}, "at most 256 characters"),
        ({"credentials": {"c": {"username_env": "A=B"}}}, "String should match pattern"),
        ({"credentials": {"c": {"username": "u", "password_env": "$P"}}}, "should match pattern"),
        (
            {"credentials": {"c": {"username": "u", "password_file": "/run/\x00"}}},
            "without NUL bytes",
        ),
    ],
)
def test_absurd_values_are_refused_without_echoing_them(
    change: dict[str, Any], message: str
) -> None:
    assert message in _refusal(change)


@pytest.mark.parametrize(
    "name",
    ["fs01\n", "fs01\r\nOK - fine", "\x1b]0;pwned\x07", "fs\x0001", "fs01 ", "[/]", "a" * 254, ""],
)
def test_server_names_are_short_and_plain(name: str) -> None:
    # Names reach Slack, the terminal, Nagios lines and logs as they are.
    assert "String should match pattern" in _refusal(_server(name=name))


def test_the_longest_name_is_a_dns_name() -> None:
    (server,) = Inventory.model_validate(_server(name="a" * 253)).resolved()
    assert len(server.name) == 253


def test_a_server_is_reached_over_winrm_or_read_from_its_snapshot_file() -> None:
    inventory = Inventory.model_validate(
        {
            "servers": [
                {"name": "fs01", "address": "fs01.corp.example"},
                {"name": "dmz01", "snapshot_file": "/mnt/backupcheck/dmz01.json"},
            ]
        }
    )
    fs01, dmz01 = inventory.resolved()
    assert (fs01.reads_file, fs01.address, fs01.snapshot_file) == (False, "fs01.corp.example", None)
    assert (dmz01.reads_file, dmz01.address) == (True, None)
    assert dmz01.snapshot_file == Path("/mnt/backupcheck/dmz01.json")
    assert dmz01.max_snapshot_age_min == 26 * 60  # a daily task, with two hours to spare
