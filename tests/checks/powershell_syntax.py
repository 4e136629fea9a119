"""Reading PowerShell commands as PowerShell would: statements and single-quoted literals."""

from __future__ import annotations

from dataclasses import dataclass

import tree_sitter_powershell
from tree_sitter import Language, Node, Parser

from checks.quoting import PS_SINGLE_QUOTES

PARSER = Parser(Language(tree_sitter_powershell.language()))
# tree-sitter-powershell knows only the ASCII quote, while PowerShell ends and escapes a
# single-quoted string with any of PS_SINGLE_QUOTES alike. Mapping them onto "'" (one character
# each, so offsets keep) gives the grammar the token boundaries PowerShell sees.
_AS_ASCII = str.maketrans(dict.fromkeys(PS_SINGLE_QUOTES, "'"))


@dataclass(frozen=True)
class Parsed:
    """A command as PowerShell tokenizes it."""

    statements: int
    literals: list[str]  # decoded values of the single-quoted string literals, in order
    skeleton: str  # the command with every single-quoted literal replaced by ''
    has_error: bool


def decode_verbatim(raw: str) -> str:
    """The value of a PowerShell single-quoted literal, quotes included in raw."""
    if len(raw) < 2 or raw[0] not in PS_SINGLE_QUOTES or raw[-1] not in PS_SINGLE_QUOTES:
        raise ValueError(f"not a single-quoted literal: {raw!r}")
    body, value, n = raw[1:-1], [], 0
    while n < len(body):
        if body[n] in PS_SINGLE_QUOTES:
            # Two quotes in a row stand for the second; a lone one would have ended the string.
            if n + 1 >= len(body) or body[n + 1] not in PS_SINGLE_QUOTES:
                raise ValueError(f"a lone quote inside {raw!r}")
            n += 1
        value.append(body[n])
        n += 1
    return "".join(value)


def parse(command: str) -> Parsed:
    """Statements, literals and skeleton of one command."""
    normalized = command.translate(_AS_ASCII)
    data = normalized.encode("utf-8")
    root = PARSER.parse(data).root_node
    spans: list[tuple[int, int]] = []

    def walk(node: Node) -> None:
        if node.type == "string_literal" and data[node.start_byte : node.start_byte + 1] == b"'":
            start = len(data[: node.start_byte].decode("utf-8"))
            end = len(data[: node.end_byte].decode("utf-8"))
            spans.append((start, end))
            return
        for child in node.children:
            walk(child)

    walk(root)
    statement_lists = [c for c in root.children if c.type == "statement_list"]
    statements = sum(len(s.named_children) for s in statement_lists)
    if root.type != "program" or len(statement_lists) != 1:
        statements = -1
    skeleton, at = [], 0
    for start, end in spans:
        skeleton += [command[at:start], "''"]
        at = end
    skeleton.append(command[at:])
    return Parsed(
        statements=statements,
        literals=[decode_verbatim(command[start:end]) for start, end in spans],
        skeleton="".join(skeleton),
        has_error=root.has_error,
    )
