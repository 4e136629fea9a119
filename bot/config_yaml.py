"""YAML that cannot nest too deep, refer to itself or spell numbers absurdly; imported only when
there is YAML to read, since the yaml package costs start-up that `evaluate` never needs."""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from bot.config_file import MAX_DEPTH, MAX_KEY_CHARS, MAX_NUMBER_CHARS, ConfigError

_STR_TAG = "tag:yaml.org,2002:str"
# YAML's problems quote the text they stumbled on (an alias name, an escape); a long quote may
# be part of a secret, while a short one ('\t') is the clue people need.
_LONG_QUOTE = re.compile(r"\s*(['\"])[^'\"]{5,}\1")


class _Limit(yaml.MarkedYAMLError):
    """One of config_file's bounds; its problem reads as the end of a sentence."""

    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(problem=problem, problem_mark=mark)


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader with a depth limit, no tags or self-referring aliases, short numbers and name
    keys."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0
        self._open: set[str] = set()

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        anchor = event.anchor if isinstance(event, yaml.NodeEvent) else None
        if isinstance(event, yaml.AliasEvent):
            # An alias inside the node it names makes a structure that contains itself.
            if anchor in self._open:
                raise _Limit("has an alias inside the node it refers to", event.start_mark)
            return super().compose_node(parent, index)
        if getattr(event, "tag", None) not in (None, "!"):
            # The settings need no tags, and PyYAML's constructors crash on some (!!int "",
            # !!bool x, !!timestamp x) with IndexError, KeyError or AttributeError.
            raise _Limit("has an explicit tag (!!…); write the value plainly", event.start_mark)
        if self._depth >= MAX_DEPTH:
            raise _Limit(f"nests deeper than {MAX_DEPTH} levels", event.start_mark)
        self._depth += 1
        if anchor is not None:
            self._open.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            self._open.discard(anchor or "")

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[object, object]:
        self.flatten_mapping(node)  # merge keys (<<) first, so they are not checked as keys
        for key_node, _ in node.value:
            if not _is_name(key_node):
                problem = (
                    f"has a key that is not a name of up to {MAX_KEY_CHARS} printable characters"
                )
                raise _Limit(problem, key_node.start_mark)
        return dict(super().construct_mapping(node, deep))

    def construct_short_number(self, node: ScalarNode) -> object:
        if len(node.value) > MAX_NUMBER_CHARS:
            raise _Limit(f"has a number longer than {MAX_NUMBER_CHARS} characters", node.start_mark)
        if node.tag.endswith(":int"):
            return self.construct_yaml_int(node)
        return self.construct_yaml_float(node)


_BoundedLoader.add_constructor("tag:yaml.org,2002:int", _BoundedLoader.construct_short_number)
_BoundedLoader.add_constructor("tag:yaml.org,2002:float", _BoundedLoader.construct_short_number)


def _is_name(node: Node) -> bool:
    value = node.value
    return (
        isinstance(node, ScalarNode)
        and node.tag == _STR_TAG
        and isinstance(value, str)
        and 0 < len(value) <= MAX_KEY_CHARS
        and value.isprintable()
    )


def parse_yaml(text: str, what: str, *, syntax_hint: str | None = None) -> object:
    """One YAML document within the bounds above, or a ConfigError naming what. With a
    syntax_hint (for one-line values, where line and column say nothing) errors give no place,
    and a syntax error gives the hint instead of YAML's problem."""
    try:
        return yaml.load(text, Loader=_BoundedLoader)  # noqa: S506 (a SafeLoader)
    except _Limit as error:
        where = _where(error, text) if syntax_hint is None else ""
        raise ConfigError(f"{what} {error.problem}{where}.") from None
    except yaml.YAMLError as error:
        if syntax_hint is not None:
            raise ConfigError(f"{what} is not valid YAML; {syntax_hint}.") from None
        where = _where(error, text)
        raise ConfigError(f"{what} is not valid YAML{where}: {_problem(error)}.") from None


def _where(error: yaml.YAMLError, text: str) -> str:
    if isinstance(error, yaml.reader.ReaderError):
        # The reader counts characters, not lines; it only fails on characters YAML forbids.
        before = text[: error.position]
        line, column = before.count("\n") + 1, error.position - before.rfind("\n")
        return f" at line {line}, column {column}"
    mark = getattr(error, "problem_mark", None)
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""


def _problem(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.reader.ReaderError):
        return f"the character U+{error.character:04X} is not allowed in YAML"
    problem = getattr(error, "problem", None) or "it is not valid YAML"
    return _LONG_QUOTE.sub("", str(problem))
