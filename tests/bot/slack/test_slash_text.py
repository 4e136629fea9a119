"""What `/backupcheck …` text means; anything that is not understood asks for help."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.slack.slash_text import MAX_SERVERS, NOT_UNDERSTOOD, SlashRequest, parse_slash_text
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
        ("trend fs01", SlashRequest("trend", ("fs01",))),
        ("TREND fs01 D:", SlashRequest("trend", ("fs01",), volume="D:")),
        ("trend fs01 d public", SlashRequest("trend", ("fs01",), public=True, volume="d")),
        ("trend fs01 D:\\", SlashRequest("trend", ("fs01",), volume="D:\\")),
        ("trend", NOT_UNDERSTOOD),
        ("trend fs01 D: E:", NOT_UNDERSTOOD),
        ("trend fs01 Data", NOT_UNDERSTOOD),
        ("trend fs01 ../etc", NOT_UNDERSTOOD),
        ("trend $(calc) D:", NOT_UNDERSTOOD),
        ("fs01 trend", NOT_UNDERSTOOD),
        ("history fs01", SlashRequest("history", ("fs01",))),
        ("History fs01 public", SlashRequest("history", ("fs01",), public=True)),
        ("history", NOT_UNDERSTOOD),
        ("history fs01 fs02", NOT_UNDERSTOOD),
        ("history <@U123>", NOT_UNDERSTOOD),
        ("fs01 history", NOT_UNDERSTOOD),
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
        "silence fs01 \x1b[2J",
        "history fs01\x9b",
        "trend fs01 \x7fD:",
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
