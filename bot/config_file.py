"""Reading configuration text within bounds: the file's bytes, UTF-8, and YAML (config_yaml.py)."""

from __future__ import annotations

from pathlib import Path

# A full config of a few hundred servers is tens of kilobytes; a bigger file is a mistake
# (or /dev/zero), and reading it whole would hold it in memory.
MAX_FILE_BYTES = 1024 * 1024
# The config nests four levels (servers, an entry, backup_times); YAML's composer recurses per
# level, so 10,000 brackets end in a RecursionError without a limit.
MAX_DEPTH = 32
# int() refuses more than 4,300 decimal digits with a ValueError, and a sexagesimal 1:2:3:…
# of a megabyte takes minutes; no setting needs a number of more than a few digits.
MAX_NUMBER_CHARS = 100
# Keys name settings, credential profiles and nothing else; they are echoed in errors.
MAX_KEY_CHARS = 128


class ConfigError(ValueError):
    """The configuration cannot be used; the message is one sentence naming the place."""


def read_text(path: Path, what: str) -> str:
    """The UTF-8 text of a file of at most MAX_FILE_BYTES; what ("the config file x.yaml") names
    it in the ConfigError's sentence, which never quotes the content."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ConfigError(f"cannot read {what}: {reason}.") from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(f"{what} is larger than {MAX_FILE_BYTES // 1024 // 1024} MiB.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = _position(data, error.start)
        raise ConfigError(
            f"{what} is not UTF-8 text (the first bad byte is at line {line}, column {column})."
        ) from None


def read_secret_file(variable: str, path: Path) -> str:
    """The secret in the file a variable names, without the newline editors add; the errors name
    the variable and the path, never a byte of what the file holds."""
    text = read_text(path, f"the file {path} that {variable} names")
    # `echo` and editors end the file with a newline that is no part of the secret.
    return text[:-2] if text.endswith("\r\n") else text.removesuffix("\n")


def _position(data: bytes, offset: int) -> tuple[int, int]:
    before = data[:offset]
    return before.count(b"\n") + 1, offset - (before.rfind(b"\n") + 1) + 1


def load_yaml(text: str, what: str, *, syntax_hint: str | None = None) -> object:
    """One YAML document within the bounds above, or a ConfigError naming what. With a
    syntax_hint (for one-line values, where line and column say nothing) errors give no place,
    and a syntax error gives the hint instead of YAML's problem."""
    from bot.config_yaml import parse_yaml

    return parse_yaml(text, what, syntax_hint=syntax_hint)
