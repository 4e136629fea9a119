"""The config, fuzzed: any file or override gives a Config or one ConfigError sentence, never
another exception and never a secret."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from bot.config import Config, ConfigError, load_config
from checks.inventory import CredentialProfile, ServerEntry

# A stand-in for a password. Its space and punctuation fit no name, address or ID, so an error
# that shows it has echoed a value, not named a place.
SECRET = "p4ss S3cr3t!"  # noqa: S105
FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _keys(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


SECTION_KEYS = {
    name: _keys(field.annotation)
    for name, field in Config.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
}
ENTRY_KEYS = _keys(ServerEntry)
PROFILE_KEYS = [*_keys(CredentialProfile), "password"]

# Values a field may meet: sensible ones, edge numbers, and text that carries the secret.
SECRET_TEXT = st.builds(lambda a, b: f"{a}{SECRET}{b}", st.text(max_size=8), st.text(max_size=8))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**4000), max_value=10**4000),
    st.floats(),
    st.sampled_from([math.inf, -math.inf, math.nan, 0, 1, 3600, 3601, 65535, 65536, 1e400]),
    st.sampled_from(["fs01", "fs01.corp.example", "10.0.0.1", "::1", "21:00", "mon", "Asia/Tokyo"]),
    st.sampled_from(["http", "https", "ntlm", "en", "ja", "socket", "C0123456789", "/x"]),
    st.text(max_size=20),
    SECRET_TEXT,
    st.just(f"admin:{SECRET}@fs01"),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


def _mapping(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    # Mostly real keys, so validation gets past "unknown field" to the values themselves.
    key = st.sampled_from(keys) | st.text(min_size=1, max_size=10)
    return st.dictionaries(key, VALUES, max_size=6)


ENTRY = st.fixed_dictionaries(
    {"name": st.sampled_from(["fs01", "FS01", "sql01.corp.example"]) | SCALARS},
    optional={"address": SCALARS},
).flatmap(lambda base: _mapping(ENTRY_KEYS).map(lambda rest: {**rest, **base}))
DOCUMENTS = st.fixed_dictionaries(
    {},
    optional={
        "language": SCALARS,
        "log_format": SCALARS,
        "defaults": _mapping(ENTRY_KEYS[:-2]),
        "servers": st.lists(ENTRY, max_size=3) | VALUES,
        "credentials": st.dictionaries(
            st.sampled_from(["backup-reader", "c"]) | st.text(max_size=8), _mapping(PROFILE_KEYS)
        ),
        **{section: _mapping(keys) for section, keys in SECTION_KEYS.items()},
    },
)

# YAML-ish text: the tokens that make parsers and limits trip, in any order.
# fmt: off
_TOKEN_TEXT = [
    "servers:", "defaults:", "port:", "deadline_s:", "- ", ": ", "\n", "  ", "[", "]", "{",
    "}", ",", "&a ", "*a ", "<<: ", "? ", "!!int ", "!!python/name:os.system ", "'", '"', "#",
    "1e400", ".nan", "9" * 120, "1:" * 60, "0x" + "f" * 99, "\t", "\x85", "\ufeff", "%YAML 1.1",
    "---", "...", "|", ">", "\\", "é", "\x1b", f"'{SECRET}'", "on", "~", "2026-11-24",
]
# fmt: on
TOKENS = st.sampled_from(_TOKEN_TEXT)
YAMLISH = st.one_of(
    st.lists(TOKENS, max_size=40).map("".join),
    st.text(max_size=200),
)


def _outcome(path: Path | None, environ: dict[str, str]) -> str | None:
    """None for a valid config, else the ConfigError's message; any other exception fails."""
    try:
        config = load_config(path, environ)
    except ConfigError as error:
        message = str(error)
        assert message, "an empty error"
        assert "\n" not in message, message
        assert "\x1b" not in message, message
        assert message.endswith((".", "?")), message
        return message
    assert isinstance(config, Config)
    return None


@given(DOCUMENTS)
@FUZZ
def test_any_settings_give_a_config_or_one_sentence_without_the_secret(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    message = _outcome(path, {})
    assert message is None or SECRET not in message, message


@given(YAMLISH)
@FUZZ
def test_any_text_gives_a_config_or_one_sentence(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _outcome(path, {})


@given(st.binary(max_size=200))
@FUZZ
def test_any_bytes_give_a_config_or_one_sentence(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(data)
    _outcome(path, {})


OVERRIDES = st.sampled_from(
    [f"BACKUPCHECK_{s.upper()}__{k.upper()}" for s, keys in SECTION_KEYS.items() for k in keys]
    + ["BACKUPCHECK_LANGUAGE", "BACKUPCHECK_LOG_FORMAT", "BACKUPCHECK_SERVERS__X"]
    + ["BACKUPCHECK_SLACK__MOD", "BACKUPCHECK_ALERTS", "BACKUPCHECK_A__B__C"]
)
# Environment values cannot hold NUL; anything else can.
ENV_VALUES = st.one_of(
    YAMLISH, SECRET_TEXT, st.text(max_size=50), st.sampled_from(["1e400", ".inf", ".nan"])
).map(lambda value: value.replace("\x00", ""))


@given(st.dictionaries(OVERRIDES, ENV_VALUES, max_size=4))
@FUZZ
def test_any_overrides_give_a_config_or_one_sentence_without_the_secret(
    environ: dict[str, str],
) -> None:
    message = _outcome(None, environ)
    assert message is None or SECRET not in message, message
