"""Parses the text of `/backupcheck …` into what to do; anything else is a request for help."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from checks.inventory import SERVER_NAME_PATTERN

MAX_TEXT = 500
MAX_SERVERS = 20
_SERVER_NAME = re.compile(SERVER_NAME_PATTERN)

Action = Literal["help", "check", "all", "windows"]


@dataclass(frozen=True)
class SlashRequest:
    """What a slash command asks for. `understood` is False when help was not asked for."""

    action: Action
    servers: tuple[str, ...] = ()
    public: bool = False
    understood: bool = True


_KEYWORDS: dict[str, Action] = {"help": "help", "all": "all", "windows": "windows"}
HELP = SlashRequest("help")
NOT_UNDERSTOOD = SlashRequest("help", understood=False)


def parse_slash_text(text: str) -> SlashRequest:
    """Split the command text into an action, server names and the `public` flag."""
    if len(text) > MAX_TEXT or any(unicodedata.category(c) == "Cc" for c in text.strip()):
        return NOT_UNDERSTOOD
    words = text.split()
    public = bool(words) and words[-1].casefold() == "public"
    if public:
        words = words[:-1]
    if not words:
        return SlashRequest("help", public=public)
    keyword = _KEYWORDS.get(words[0].casefold())
    if len(words) == 1 and keyword is not None:
        return SlashRequest(keyword, public=public)
    if len(words) > MAX_SERVERS or not all(_SERVER_NAME.fullmatch(w) for w in words):
        return NOT_UNDERSTOOD
    # Keywords are not server names: "all fs01" is a typo, not a server called "all".
    if any(w.casefold() in _KEYWORDS for w in words):
        return NOT_UNDERSTOOD
    unique: dict[str, str] = {}
    for word in words:
        unique.setdefault(word.casefold(), word)
    return SlashRequest("check", servers=tuple(unique.values()), public=public)
