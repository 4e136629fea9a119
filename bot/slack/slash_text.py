"""Parses the text of `/backupcheck …` into what to do; anything else is a request for help."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from checks.inventory import SERVER_NAME_PATTERN

MAX_TEXT = 500
MAX_SERVERS = 20
_SERVER_NAME = re.compile(SERVER_NAME_PATTERN)

Action = Literal[
    "help",
    "check",
    "all",
    "windows",
    "status",
    "silence",
    "unsilence",
    "bad_duration",
    "trend",
    "history",
]
MAX_SILENCE = timedelta(days=30)
_DURATION = re.compile(r"(\d{1,5})([mhd])", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
# A drive letter as people type it: D, D: or D:\
_VOLUME = re.compile(r"[A-Za-z]:?\\?")
# Words that start a subcommand taking arguments: never server names.
_SUBCOMMANDS = ("silence", "unsilence", "trend", "history")
# Unicode's control characters (category Cc) are exactly these; a regex tests them in C.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class SlashRequest:
    """What a slash command asks for. `understood` is False when help was not asked for."""

    action: Action
    servers: tuple[str, ...] = ()
    public: bool = False
    understood: bool = True
    duration: timedelta | None = None  # for silence
    duration_text: str = ""  # as typed, for the error when it is not a duration
    volume: str | None = None  # for trend: one volume, as typed


_KEYWORDS: dict[str, Action] = {
    "help": "help",
    "all": "all",
    "windows": "windows",
    "status": "status",
}
_NOT_NAMES = frozenset(_KEYWORDS) | frozenset(_SUBCOMMANDS)
HELP = SlashRequest("help")
NOT_UNDERSTOOD = SlashRequest("help", understood=False)


def parse_slash_text(text: str) -> SlashRequest:
    """Split the command text into an action, server names and the `public` flag."""
    if len(text) > MAX_TEXT or _CONTROL.search(text.strip()):
        return NOT_UNDERSTOOD
    words = text.split()
    public = bool(words) and words[-1].casefold() == "public"
    if public:
        words = words[:-1]
    if not words:
        return SlashRequest("help", public=public)
    first = words[0].casefold()
    if first in ("silence", "unsilence"):
        return _silence(first, words[1:])
    if first == "trend":
        return _trend(words[1:], public)
    if first == "history":
        return _history(words[1:], public)
    keyword = _KEYWORDS.get(first)
    if len(words) == 1 and keyword is not None:
        return SlashRequest(keyword, public=public)
    if len(words) > MAX_SERVERS:
        return NOT_UNDERSTOOD
    unique: dict[str, str] = {}
    for word in words:
        folded = word.casefold()
        # Keywords are not server names: "all fs01" is a typo, not a server called "all".
        if folded in _NOT_NAMES or not _SERVER_NAME.fullmatch(word):
            return NOT_UNDERSTOOD
        unique.setdefault(folded, word)
    return SlashRequest("check", servers=tuple(unique.values()), public=public)


def parse_duration(text: str) -> timedelta | None:
    """90m, 12h or 7d as a timedelta; None unless it is one, positive and at most 30 days."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        return None
    amount = timedelta(**{_UNITS[match.group(2).lower()]: int(match.group(1))})
    return amount if timedelta(0) < amount <= MAX_SILENCE else None


def _silence(keyword: str, rest: list[str]) -> SlashRequest:
    wanted = 2 if keyword == "silence" else 1
    if len(rest) != wanted or not _SERVER_NAME.fullmatch(rest[0]):
        return NOT_UNDERSTOOD
    if keyword == "unsilence":
        return SlashRequest("unsilence", servers=(rest[0],))
    duration = parse_duration(rest[1])
    if duration is None:
        return SlashRequest("bad_duration", servers=(rest[0],), duration_text=rest[1][:20])
    return SlashRequest("silence", servers=(rest[0],), duration=duration)


def _trend(rest: list[str], public: bool) -> SlashRequest:
    """`trend SERVER [VOLUME]`: one server, and at most one drive letter."""
    if not 1 <= len(rest) <= 2 or not _SERVER_NAME.fullmatch(rest[0]):
        return NOT_UNDERSTOOD
    if len(rest) == 2 and not _VOLUME.fullmatch(rest[1]):
        return NOT_UNDERSTOOD
    volume = rest[1] if len(rest) == 2 else None
    return SlashRequest("trend", servers=(rest[0],), public=public, volume=volume)


def _history(rest: list[str], public: bool) -> SlashRequest:
    """`history SERVER`: exactly one server."""
    if len(rest) != 1 or not _SERVER_NAME.fullmatch(rest[0]):
        return NOT_UNDERSTOOD
    return SlashRequest("history", servers=(rest[0],), public=public)
