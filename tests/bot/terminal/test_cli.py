"""The terminal CLI: tables for people, Report v1 for scripts, Nagios exit codes for monitors."""

from __future__ import annotations

import json
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

import pytest

from checks.evaluate import evaluate
from checks.i18n import Catalog
from checks.report import Report
from checks.snapshot import parse_snapshot
from tests.bot.conftest import Run
from tests.conftest import FIXTURES, SNAPSHOT_FILES

SEED = str(FIXTURES / "snapshots" / "seed-incident.json")


def _no_traceback(text: str) -> None:
    assert "Traceback" not in text
    assert len(text.strip().splitlines()) == 1, text


@pytest.mark.parametrize(
    ("name", "exit_code"),
    [("seed-incident", 2), ("japanese-labels", 1), ("network-space-unknown", 0)],
)
def test_evaluate_exits_with_the_nagios_code_of_the_host_status(
    run: Run, name: str, exit_code: int
) -> None:
    result = run("evaluate", str(FIXTURES / "snapshots" / f"{name}.json"))
    assert result.returncode == exit_code, result.stderr


def test_evaluate_prints_a_table_findings_tips_and_a_verdict(run: Run) -> None:
    result = run("evaluate", SEED)
    out = result.stdout
    assert "SERVER01: volumes" in out
    for column in ("Volume", "Label", "Roles", "Size", "Free", "Min. free", "Rec. free", "Status"):
        assert column in out
    assert "[VSS_MIN_FREE]" in out
    assert "Free at least 85 MB on D:." in out
    assert "vssadmin add shadowstorage /for=D: /on=C:" in out
    assert "(run as administrator)" in out
    assert out.strip().splitlines()[-1].startswith("SERVER01: CRITICAL. D: has 235 MB free")


@pytest.mark.parametrize("path", SNAPSHOT_FILES, ids=lambda p: p.stem)
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_evaluate_json_is_exactly_report_v1_in_both_languages(
    run: Run, path: Path, lang: str, now: datetime, en: Catalog, ja: Catalog
) -> None:
    result = run("evaluate", str(path), "--format", "json", "--lang", lang)
    printed = Report.model_validate_json(result.stdout)
    expected = evaluate(
        parse_snapshot(path.read_bytes()), printed.checked_at, en if lang == "en" else ja
    )
    assert printed == expected
    assert result.returncode == printed.status.exit_code
    table = run("evaluate", str(path), "--lang", lang)
    assert table.returncode == printed.status.exit_code
    assert printed.host in table.stdout


def test_evaluate_reads_stdin_with_a_dash(run: Run) -> None:
    result = run("evaluate", "-", "-f", "json", stdin=Path(SEED).read_text(encoding="utf-8"))
    assert json.loads(result.stdout)["status"] == "critical"
    assert result.returncode == 2


def test_japanese_output(run: Run) -> None:
    result = run("evaluate", SEED, "--lang", "ja")
    assert "SERVER01 のボリューム" in result.stdout
    assert "D: で少なくとも 85 MB を空けてください。" in result.stdout
    assert (
        result.stdout.strip().splitlines()[-1].startswith("SERVER01: 危険。D: の空き容量は 235 MB")
    )


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ["evaluate", "missing.json"],
            None,
            "backupcheck: cannot read missing.json: No such file or directory.",
        ),
        (["evaluate", "-"], "this is not json", "backupcheck: -: the snapshot is not valid JSON:"),
        (
            ["evaluate", "-"],
            '{"schema": 2}',
            "backupcheck: -: the snapshot has schema 2, but only schema 1 is supported",
        ),
        (["evaluate", "-", "--format", "yaml"], None, "Invalid value for '--format'"),
        (["frobnicate"], None, "No such command 'frobnicate'"),
        (
            ["check"],
            None,
            "backupcheck: say what to check: server names from the config (backupcheck check "
            "fs01), --all for every server, or --local for this machine.",
        ),
    ],
)
def test_bad_input_is_one_sentence_on_stderr_and_exit_3(
    run: Run, args: list[str], stdin: str | None, message: str
) -> None:
    result = run(*args, stdin=stdin)
    assert result.returncode == 3
    assert result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_broken_snapshot_names_the_field(run: Run) -> None:
    doc = json.loads(Path(SEED).read_text(encoding="utf-8"))
    doc["volumes"][1]["free_bytes"] = -1
    result = run("evaluate", "-", stdin=json.dumps(doc))
    assert result.returncode == 3
    _no_traceback(result.stderr)
    assert "volumes[1].free_bytes" in result.stderr


def test_check_local_runs_the_main_job_on_this_machine(run: Run) -> None:
    result = run("check", "--local")
    assert result.returncode in (0, 1, 2), result.stderr
    assert "volumes" in result.stdout
    assert "[NO_BACKUP_POLICY]" in result.stdout
    report = Report.model_validate_json(run("check", "--local", "-f", "json").stdout)
    assert report.volumes
    assert all(v.roles == ["source"] for v in report.volumes)


@pytest.mark.parametrize("name", ["snapshot", "report"])
def test_schema_prints_the_json_schema(run: Run, name: str) -> None:
    result = run("schema", name)
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert "schema" in schema["properties"]
    assert schema["type"] == "object"


def test_the_config_sets_the_default_language_and_lang_overrides_it(
    run: Run, tmp_path: Path
) -> None:
    config = tmp_path / "backupcheck.yaml"
    config.write_text("language: ja\n", encoding="utf-8")
    japanese = run("evaluate", SEED, "--config", str(config))
    assert "SERVER01 のボリューム" in japanese.stdout
    from_env = run("evaluate", SEED, env={"BACKUPCHECK_CONFIG": str(config)})
    assert "SERVER01 のボリューム" in from_env.stdout
    english = run("evaluate", SEED, "--config", str(config), "--lang", "en")
    assert "SERVER01: volumes" in english.stdout


def test_a_config_typo_is_refused_with_a_suggestion(run: Run, tmp_path: Path) -> None:
    config = tmp_path / "backupcheck.yaml"
    config.write_text("langauge: ja\n", encoding="utf-8")
    result = run("evaluate", SEED, "--config", str(config))
    assert result.returncode == 3
    _no_traceback(result.stderr)
    assert "unknown field langauge; did you mean 'language'?" in result.stderr


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_each_command_is_whole_on_its_own_line_in_a_narrow_terminal(run: Run, lang: str) -> None:
    result = run("evaluate", SEED, "--lang", lang, env={"COLUMNS": "60"})
    report = Report.model_validate_json(run("evaluate", SEED, "-f", "json").stdout)
    commands = [c.text for f in report.findings for tip in f.tips for c in tip.commands]
    assert any(len(command) > 60 for command in commands)  # the PowerShell one-liners
    lines = result.stdout.splitlines()
    for command in commands:
        # The line is the command and nothing else (but its indent): it can be copied whole.
        assert f"    {command}" in lines, command
    elevated = "管理者として実行" if lang == "ja" else "run as administrator"
    notes = [line for line in lines if f"({elevated})" in line]
    assert notes
    for note in notes:
        assert not any(command in note for command in commands), note
        assert note.strip().endswith(":")
    # The text around them still wraps to the terminal's width (the verdict is left whole too).
    others = [line for line in lines[:-1] if line[4:] not in commands]
    assert max(len(line) for line in others) <= 60


def test_without_a_config_file_a_server_command_says_where_it_looked(run: Run) -> None:
    for args in (["check", "--all"], ["check", "fs01"], ["windows"], ["trend", "fs01"]):
        result = run(*args)
        assert result.returncode == 3, args
        assert result.stderr.startswith(
            "backupcheck: no config file found (looked for --config, $BACKUPCHECK_CONFIG and "
            "./backupcheck.yaml): write one from config/backupcheck.example.yaml"
        ), args
        # The way to try it without a config, whichever command was typed.
        assert "`backupcheck check --local`" in result.stderr, args


def test_an_unquoted_backup_time_is_explained(run: Run, tmp_path: Path) -> None:
    """YAML 1.1 reads 21:00 as 1260; the sentence says to quote it."""
    config = tmp_path / "backupcheck.yaml"
    config.write_text("servers:\n  - {name: a, address: a.example, backup_times: [21:00]}\n")
    result = run("check", "--all")
    assert result.returncode == 3
    assert result.stderr.strip().endswith(
        'invalid at servers[0].backup_times: write each time in quotes, like "21:00" '
        "(unquoted, YAML reads a time as a number)."
    )


def test_version(run: Run) -> None:
    result = run("--version")
    assert (result.returncode, result.stdout) == (0, f"backupcheck {version('backupcheck')}\n")


def test_japanese_sentences_end_with_a_full_stop(run: Run) -> None:
    result = run("evaluate", SEED, "--lang", "ja")
    (last,) = [line for line in result.stdout.splitlines() if "次回のバックアップ" in line]
    assert "。チェック日時: " in last
    assert last.rstrip().endswith("。")
