"""The config file: defaults, strict keys, and errors that say where."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import Config, ConfigError, load_config


def test_no_file_means_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BACKUPCHECK_CONFIG", raising=False)
    assert load_config(None) == Config(language="en")


def test_an_empty_file_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("", encoding="utf-8")
    assert load_config(path) == Config()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "language: de\n",
            "the config file {p} is invalid at language: Input should be 'en' or 'ja'.",
        ),
        (
            "languag: ja\n",
            "the config file {p} has an unknown field languag; did you mean 'language'?",
        ),
        ("language: [ja\n", "the config file {p} is not valid YAML at line 2, column 1:"),
        ("- ja\n", "the config file {p} must be a mapping of settings."),
    ],
)
def test_bad_files_are_one_sentence_naming_the_place(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(message.format(p=path))


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"cannot read the config file .*nope\.yaml: No such file"
    ):
        load_config(tmp_path / "nope.yaml")


def test_the_example_config_is_valid() -> None:
    example = Path(__file__).parents[2] / "config" / "backupcheck.example.yaml"
    config = load_config(example)
    assert [s.name for s in config.resolved()] == ["fs01", "sql01", "lab01"]
    assert config.find("sql01").port == 5986  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "servers:\n  - {name: a, adress: x}\n",
            "unknown field servers[0].adress; did you mean 'address'?",
        ),
        (
            "defaults:\n  transprot: ntlm\n",
            "unknown field defaults.transprot; did you mean 'transport'?",
        ),
        ("credentials:\n  c: {username: u, pasword_env: P}\n", "did you mean 'password_env'?"),
    ],
)
def test_typos_in_nested_sections_get_suggestions(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(path)


def test_the_default_config_is_backupcheck_yaml_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BACKUPCHECK_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "backupcheck.yaml").write_text("language: ja\n", encoding="utf-8")
    assert load_config(None).language == "ja"
