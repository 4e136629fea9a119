"""Addresses, fuzzed: whatever is accepted is one host in the URL, and refusals never echo."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.inventory import Inventory, check_address

# A stand-in for a password: it holds characters no accepted address or name can.
SECRET = "p4ss S3cr3t!"  # noqa: S105

# Text near the edge: pieces of host names, IP literals and URLs, and anything else.
# fmt: off
_PIECE_TEXT = [
    "fs01", "corp", "example", "10", "0", "255", "db8", "2001", "ffff", "xn--", "a" * 63,
    ".", "-", ":", "::", "[", "]", "@", "/", "?", "#", "%", "\\", " ", "\r\n", "\t", "\x00",
]
# fmt: on
PIECES = st.sampled_from(_PIECE_TEXT)
ADDRESSES = st.one_of(st.lists(PIECES, max_size=12).map("".join), st.text(max_size=80))


@given(ADDRESSES)
@settings(max_examples=500, deadline=None)
def test_an_accepted_address_is_exactly_the_host_of_the_url(address: str) -> None:
    try:
        kept = check_address(address)
    except ValueError:
        return
    assert set(kept) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:")
    (server,) = Inventory.model_validate(
        {"servers": [{"name": "fs01", "address": address, "port": 15985}]}
    ).resolved()
    url = urlsplit(server.endpoint)
    # Nothing slips into the user name, the port or the path.
    assert (url.username, url.password, url.port, url.path) == (None, None, 15985, "/wsman")
    assert url.hostname == kept.lower()


@given(ADDRESSES, ADDRESSES)
@settings(max_examples=300, deadline=None)
def test_a_refused_address_is_never_repeated(before: str, after: str) -> None:
    # Every address holding the secret is refused, and the sentence does not quote it.
    for address in (f"{before}{SECRET}{after}", f"{before}:{SECRET}@{after}"):
        with pytest.raises(ValueError, match=r"^[^\n]+$") as caught:
            check_address(address)
        assert SECRET not in str(caught.value)
