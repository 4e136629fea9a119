"""The config file: defaults, strict keys, and errors that say where."""

from __future__ import annotations

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
    assert load_config(example) == Config()
