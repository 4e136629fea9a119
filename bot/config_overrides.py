"""Environment overrides: BACKUPCHECK_<SECTION>__<KEY> or BACKUPCHECK_<KEY> sets one setting,
<NAME>_FILE reads it from a file (Docker secrets); names are checked, values parsed."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from bot.config_file import ConfigError, load_yaml, read_secret_file

# The config file's path; every other variable with this prefix may be an override.
CONFIG_ENV = "BACKUPCHECK_CONFIG"
ENV_PREFIX = "BACKUPCHECK_"
FILE_SUFFIX = "_FILE"
# A near miss of a top-level setting is a typo; anything further is someone else's variable
# (credential variables such as BACKUPCHECK_WINRM_PASSWORD, Kubernetes service links).
TOP_LEVEL_TYPO_CUTOFF = 0.8


@dataclass(frozen=True)
class Override:
    """One setting taken from the environment: which variable set it, where, and its value."""

    variable: str
    loc: tuple[str, ...]
    value: object


def env_overrides(environ: Mapping[str, str], root: type[BaseModel]) -> list[Override]:
    """Every setting of root (the Config model) that the BACKUPCHECK_* variables of environ
    override, checked and parsed."""
    targets: dict[tuple[str, ...], list[tuple[str, bool]]] = {}
    for variable in sorted(environ):
        target = _target(variable, root)
        # An empty variable counts as unset, so compose templates such as ${X:-} are harmless.
        if target is not None and environ[variable]:
            loc, from_file = target
            targets.setdefault(loc, []).append((variable, from_file))
    overrides = []
    for loc, sources in targets.items():
        if len(sources) > 1:
            names = [variable for variable, _ in sources]
            listed = ", ".join(names[:-1]) + f" and {names[-1]}"
            raise ConfigError(
                f"the environment variables {listed} set the same setting {'.'.join(loc)}; "
                "set only one of them."
            )
        ((variable, from_file),) = sources
        raw = environ[variable]
        if from_file:
            raw = read_secret_file(variable, Path(raw))
        overrides.append(Override(variable, loc, _parse_value(variable, loc, raw, root)))
    return overrides


def _sections(root: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """The top-level settings whose keys the environment may set one by one."""
    return {
        name: field.annotation
        for name, field in root.model_fields.items()
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
    }


def _top_level_scalars(root: type[BaseModel]) -> list[str]:
    # credentials and servers are structure, not settings: they stay in the file.
    sections = _sections(root)
    return [
        name
        for name, field in root.model_fields.items()
        if name not in sections and get_origin(field.annotation) not in (list, dict)
    ]


def _target(variable: str, root: type[BaseModel]) -> tuple[tuple[str, ...], bool] | None:
    """The setting a variable overrides and whether its value is a file's path; None when the
    variable is no override. Unknown sections and keys raise a ConfigError."""
    upper = variable.upper()
    if not upper.startswith(ENV_PREFIX) or upper == CONFIG_ENV:
        return None
    parts = upper.removeprefix(ENV_PREFIX).lower().split("__")
    if len(parts) == 1:
        return _top_level_target(variable, parts[0], root)
    if len(parts) > 2:
        raise ConfigError(
            f"the environment variable {variable} has too many parts; "
            f"name a setting as {ENV_PREFIX}<SECTION>__<KEY> or {ENV_PREFIX}<KEY>."
        )
    section, key = parts
    sections = _sections(root)
    if section not in sections:
        if section in root.model_fields:
            raise ConfigError(
                f"the environment variable {variable} cannot set {section}; "
                "list credentials and servers in the config file."
            )
        guess = _closest(section, list(sections))
        hint = "."
        if guess is not None:
            # Suggest the whole variable: the section corrected, and the key too if it is close.
            fields = field_names(root, (guess,))
            stem, from_file = _split_file(key, fields)
            stem = stem if stem in fields else _closest(stem, fields) or stem
            hint = f"; did you mean {_variable_for((guess, stem), from_file)}?"
        raise ConfigError(
            f"the environment variable {variable} has an unknown field {section}.{key}{hint}"
        )
    fields = field_names(root, (section,))
    stem, from_file = _split_file(key, fields)
    if stem in fields:
        return (section, stem), from_file
    guess = _closest(stem, fields)
    hint = f"; did you mean {_variable_for((section, guess), from_file)}?" if guess else "."
    raise ConfigError(
        f"the environment variable {variable} has an unknown field {section}.{key}{hint}"
    )


def _top_level_target(
    variable: str, key: str, root: type[BaseModel]
) -> tuple[tuple[str, ...], bool] | None:
    scalars = _top_level_scalars(root)
    stem, from_file = _split_file(key, scalars + list(_sections(root)))
    if stem in scalars:
        return (stem,), from_file
    if stem in _sections(root):
        raise ConfigError(
            f"the environment variable {variable} would set the whole section {stem}; "
            f"set its keys one by one, as {ENV_PREFIX}{stem.upper()}__<KEY>."
        )
    guess = _closest(stem, scalars, TOP_LEVEL_TYPO_CUTOFF)
    if guess is None:
        return None
    raise ConfigError(
        f"the environment variable {variable} has an unknown field {key}; "
        f"did you mean {_variable_for((guess,), from_file)}?"
    )


def _split_file(key: str, fields: list[str]) -> tuple[str, bool]:
    """The key without its _file suffix, and whether it had one (a field's own name wins)."""
    suffix = FILE_SUFFIX.lower()
    if key in fields or not key.endswith(suffix):
        return key, False
    return key.removesuffix(suffix), True


def _closest(word: str, candidates: list[str], cutoff: float = 0.6) -> str | None:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=cutoff)
    return close[0] if close else None


def _variable_for(loc: tuple[str, ...], from_file: bool) -> str:
    return ENV_PREFIX + "__".join(loc).upper() + (FILE_SUFFIX if from_file else "")


def _parse_value(variable: str, loc: tuple[str, ...], raw: str, root: type[BaseModel]) -> object:
    """Text settings take the value verbatim, so a URL or secret is never reinterpreted;
    the others read it as YAML, so `true`, `5` and `[a, b]` work."""
    model = root if len(loc) == 1 else _sections(root)[loc[0]]
    if _is_text(model.model_fields[loc[-1]].annotation):
        return raw
    # No detail on syntax: YAML's message may quote the value.
    hint = "quote text and write lists as [a, b]"
    return load_yaml(raw, f"the value of {variable}", syntax_hint=hint)


def _is_text(annotation: object) -> bool:
    union = get_origin(annotation) in (Union, UnionType)
    kinds = [a for a in (get_args(annotation) if union else (annotation,)) if a is not type(None)]
    # A constrained text (a profile name, a path without NUL) is Annotated[str, …].
    kinds = [get_args(k)[0] if get_origin(k) is Annotated else k for k in kinds]
    return bool(kinds) and all(kind in (str, Path) for kind in kinds)


def place(document: dict[str, Any], override: Override) -> None:
    """Put an override into the document read from the file; it wins over the file's value."""
    if len(override.loc) == 1:
        document[override.loc[0]] = override.value
        return
    section, key = override.loc
    if document.get(section) is None:
        document[section] = {}
    # A section that is not a mapping is the file's mistake; validation names the file. A copy,
    # not the mapping itself: a YAML alias may share it with another section.
    if isinstance(document[section], dict):
        document[section] = {**document[section], key: override.value}


def field_names(root: type[BaseModel], parent: tuple[int | str, ...]) -> list[str]:
    """The field names of the model at a location, for "did you mean" suggestions."""
    node: object = root
    for part in parent:
        if isinstance(node, type) and issubclass(node, BaseModel):
            if str(part) not in node.model_fields:
                return []
            node = node.model_fields[str(part)].annotation
        else:
            # list[Model] is indexed by position, dict[str, Model] by key: step into the item type.
            node = get_args(node)[-1] if get_args(node) else None
    if isinstance(node, type) and issubclass(node, BaseModel):
        return list(node.model_fields)
    return []
