"""What `/backupcheck …` text means; anything that is not understood asks for help."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack.slash_text import MAX_SERVERS, SlashRequest, parse_slash_text
from checks.inventory import SERVER_NAME_PATTERN


@pytest.mark.parametrize(
    ("text", "request_"),
    [
        ("", SlashRequest("help")),
        ("  help ", SlashRequest("help")),
        ("HELP", SlashRequest("help")),
        ("fs01", SlashRequest("check", ("fs01",))),
        ("FS01 fs02 fs01", SlashRequest("check", ("FS01", "fs02"))),
        ("fs01.corp.example public", SlashRequest("check", ("fs01.corp.example",), public=True)),
        ("all", SlashRequest("all")),
        ("all public", SlashRequest("all", public=True)),
        ("windows", SlashRequest("windows")),
        ("public", SlashRequest("help", public=True)),
    ],
)
def test_commands(text: str, request_: SlashRequest) -> None:
    assert parse_slash_text(text) == request_


@pytest.mark.parametrize(
    "text",
    [
        "fs01; Invoke-Expression evil",
        "$(Get-Process)",
        "fs01 `calc`",
        "../../etc/passwd",
        "fs01\x00",
        "fs01\nfs02",
        "🎉",
        "サーバー01",
        "x" * 5000,
        " ".join(f"s{n}" for n in range(MAX_SERVERS + 1)),
        "all fs01",
    ],
)
def test_anything_else_is_not_understood(text: str) -> None:
    assert parse_slash_text(text) == SlashRequest("help", understood=False)


@given(st.text(max_size=600))
def test_every_server_name_it_returns_is_a_plain_host_name(text: str) -> None:
    request = parse_slash_text(text)
    assert request.action in ("help", "check", "all", "windows")
    for name in request.servers:
        assert re.fullmatch(SERVER_NAME_PATTERN, name)
    assert len(request.servers) <= MAX_SERVERS
