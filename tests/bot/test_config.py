"""The config file: defaults, strict keys, and errors that say where."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bot.config import Config, ConfigError, load_config, secret_from_env
from bot.i18n import catalog
from bot.terminal.doctor.findings import Outcome
from bot.terminal.doctor.slack import check_slack
from tests.bot.conftest import Run


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


# --- environment overrides ---------------------------------------------------------------------

# A throwaway secret: the tests check it never shows up in an error.
SECRET_URL = "postgresql+psycopg://backupcheck:Sup3r-S3cret@db.example/backupcheck"  # noqa: S105


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("variable", "value", "setting"),
    [
        ("BACKUPCHECK_STORAGE__URL", SECRET_URL, lambda c: c.storage.url),
        ("BACKUPCHECK_ALERTS__CHANNEL", "C0123456789", lambda c: c.alerts.channel),
        ("BACKUPCHECK_SLACK__MODE", "http", lambda c: c.slack.mode),
        ("BACKUPCHECK_LANGUAGE", "ja", lambda c: c.language),
        ("BACKUPCHECK_DEFAULTS__TIMEZONE", "Asia/Tokyo", lambda c: c.defaults.timezone),
        ("backupcheck_slack__mode", "http", lambda c: c.slack.mode),
    ],
)
def test_each_kind_of_override_sets_its_setting(
    variable: str, value: str, setting: Callable[[Config], object]
) -> None:
    assert setting(load_config(None, {variable: value})) == value


@pytest.mark.parametrize(
    ("variable", "value", "setting", "expected"),
    [
        ("BACKUPCHECK_SLACK__USE_USER_LOCALE", "false", lambda c: c.slack.use_user_locale, False),
        ("BACKUPCHECK_SLACK__HTTP_PORT", "8000", lambda c: c.slack.http_port, 8000),
        ("BACKUPCHECK_ALERTS__EDIT_INTERVAL_S", "2.5", lambda c: c.alerts.edit_interval_s, 2.5),
        (
            "BACKUPCHECK_SLACK__ALLOWED_USERS",
            "[U1, U2]",
            lambda c: c.slack.allowed_users,
            ["U1", "U2"],
        ),
        (
            "BACKUPCHECK_DEFAULTS__BACKUP_TIMES",
            '["21:00", "03:30"]',
            lambda c: c.defaults.backup_times,
            ["21:00", "03:30"],
        ),
        # Text settings take the value verbatim: YAML would have turned these into other types.
        ("BACKUPCHECK_DEFAULTS__CREDENTIAL", "yes", lambda c: c.defaults.credential, "yes"),
        ("BACKUPCHECK_STORAGE__URL", "sqlite:///a #b", lambda c: c.storage.url, "sqlite:///a #b"),
    ],
)
def test_values_are_parsed_as_yaml_scalars(
    variable: str, value: str, setting: Callable[[Config], object], expected: object
) -> None:
    assert setting(load_config(None, {variable: value})) == expected


def test_overrides_win_over_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "language: en\nslack:\n  mode: socket\n  http_port: 3001\n")
    environ = {"BACKUPCHECK_LANGUAGE": "ja", "BACKUPCHECK_SLACK__MODE": "http"}
    config = load_config(path, environ)
    assert (config.language, config.slack.mode) == ("ja", "http")
    assert config.slack.http_port == 3001  # the file's other keys stay


def test_overrides_apply_to_the_file_named_by_backupcheck_config(tmp_path: Path) -> None:
    path = _write(tmp_path, "language: ja\nalerts: {channel: C0123456789}\n")
    environ = {"BACKUPCHECK_CONFIG": str(path), "BACKUPCHECK_ALERTS__MIN_SEVERITY": "critical"}
    config = load_config(None, environ)
    assert (config.language, config.alerts.channel) == ("ja", "C0123456789")
    assert config.alerts.min_severity == "critical"


def test_an_override_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "db_url"
    secret.write_text(SECRET_URL + "\n", encoding="utf-8")
    config = load_config(None, {"BACKUPCHECK_STORAGE__URL_FILE": str(secret)})
    assert config.storage.url == SECRET_URL  # one trailing newline stripped


def test_a_file_keeps_all_but_one_trailing_newline(tmp_path: Path) -> None:
    secret = tmp_path / "language"
    secret.write_text("ja\n\n", encoding="utf-8")
    assert secret_from_env({"X_FILE": str(secret)}, "X") == "ja\n"


def test_a_variable_and_its_file_together_are_an_error(tmp_path: Path) -> None:
    secret = tmp_path / "db_url"
    secret.write_text(SECRET_URL, encoding="utf-8")
    environ = {"BACKUPCHECK_STORAGE__URL": SECRET_URL, "BACKUPCHECK_STORAGE__URL_FILE": str(secret)}
    with pytest.raises(ConfigError) as caught:
        load_config(None, environ)
    message = str(caught.value)
    assert message == (
        "the environment variables BACKUPCHECK_STORAGE__URL and BACKUPCHECK_STORAGE__URL_FILE "
        "set the same setting storage.url; set only one of them."
    )
    assert "Sup3r-S3cret" not in message


def test_an_unreadable_file_names_the_variable_and_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ConfigError) as caught:
        load_config(None, {"BACKUPCHECK_STORAGE__URL_FILE": str(missing)})
    assert str(caught.value) == (
        f"cannot read the file {missing} that BACKUPCHECK_STORAGE__URL_FILE names: "
        "No such file or directory."
    )


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        (
            "BACKUPCHECK_SLACK__MOD",
            "the environment variable BACKUPCHECK_SLACK__MOD has an unknown field slack.mod; "
            "did you mean BACKUPCHECK_SLACK__MODE?",
        ),
        (
            "BACKUPCHECK_STORAGE__ULR_FILE",
            "the environment variable BACKUPCHECK_STORAGE__ULR_FILE has an unknown field "
            "storage.ulr_file; did you mean BACKUPCHECK_STORAGE__URL_FILE?",
        ),
        (
            "BACKUPCHECK_ALERT__CHANNEL",
            "the environment variable BACKUPCHECK_ALERT__CHANNEL has an unknown field "
            "alert.channel; did you mean BACKUPCHECK_ALERTS__CHANNEL?",
        ),
        (
            "BACKUPCHECK_LANGAUGE",
            "the environment variable BACKUPCHECK_LANGAUGE has an unknown field langauge; "
            "did you mean BACKUPCHECK_LANGUAGE?",
        ),
        (
            "BACKUPCHECK_XYZZY__PLUGH",
            "the environment variable BACKUPCHECK_XYZZY__PLUGH has an unknown field xyzzy.plugh.",
        ),
        (
            "BACKUPCHECK_SLACK",
            "the environment variable BACKUPCHECK_SLACK would set the whole section slack; "
            "set its keys one by one, as BACKUPCHECK_SLACK__<KEY>.",
        ),
        (
            "BACKUPCHECK_SERVERS__FS01",
            "the environment variable BACKUPCHECK_SERVERS__FS01 cannot set servers; "
            "list credentials and servers in the config file.",
        ),
        (
            "BACKUPCHECK_SLACK__MODE__X",
            "the environment variable BACKUPCHECK_SLACK__MODE__X has too many parts",
        ),
    ],
)
def test_unknown_names_are_refused_naming_the_variable(variable: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, {variable: "Sup3r-S3cret"})
    assert str(caught.value).startswith(message)
    assert "Sup3r-S3cret" not in str(caught.value)


def test_other_backupcheck_variables_are_left_alone(tmp_path: Path) -> None:
    # The example's credential variables, Kubernetes service links and the config path itself.
    path = _write(tmp_path, "")
    environ = {
        "BACKUPCHECK_CONFIG": str(path),
        "BACKUPCHECK_WINRM_PASSWORD": "Sup3r-S3cret",
        "BACKUPCHECK_PORT": "tcp://10.0.0.7:8080",
        "BACKUPCHECK_SERVICE_HOST": "10.0.0.7",
        "BACKUPCHECK_SLACK__MODE": "",  # empty counts as unset
    }
    assert load_config(None, environ) == Config()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "BACKUPCHECK_SLACK__MODE",
            "Sup3r-S3cret",
            "the environment variable BACKUPCHECK_SLACK__MODE is invalid at slack.mode: "
            "Input should be 'socket' or 'http'.",
        ),
        (
            "BACKUPCHECK_SLACK__HTTP_PORT",
            "Sup3r-S3cret",
            "the environment variable BACKUPCHECK_SLACK__HTTP_PORT is invalid at slack.http_port:",
        ),
        (
            "BACKUPCHECK_SLACK__ALLOWED_USERS",
            "[Sup3r-S3cret",
            "the value of BACKUPCHECK_SLACK__ALLOWED_USERS is not valid YAML",
        ),
        (
            "BACKUPCHECK_SLACK__API_URL",
            "ftp://Sup3r-S3cret@x",
            "the environment variable BACKUPCHECK_SLACK__API_URL is invalid at slack.api_url:",
        ),
    ],
)
def test_a_secret_never_appears_in_an_error(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, {variable: value})
    assert str(caught.value).startswith(message)
    assert "Sup3r-S3cret" not in str(caught.value)


def test_a_secret_read_from_a_file_never_appears_in_an_error(tmp_path: Path) -> None:
    secret = tmp_path / "port"
    secret.write_text("Sup3r-S3cret\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(None, {"BACKUPCHECK_SLACK__HTTP_PORT_FILE": str(secret)})
    assert "BACKUPCHECK_SLACK__HTTP_PORT_FILE is invalid at slack.http_port" in str(caught.value)
    assert "Sup3r-S3cret" not in str(caught.value)


def test_a_rule_across_settings_names_the_overrides_too(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "credentials:\n  r: {username: u, password_env: P}\n"
        "servers:\n  - {name: fs01, address: fs01.example}\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, {"BACKUPCHECK_DEFAULTS__CREDENTIAL": "nope"})
    assert str(caught.value).startswith(
        f"the config file {path} (with BACKUPCHECK_DEFAULTS__CREDENTIAL) is invalid: "
        "server 'fs01' uses the credential 'nope'"
    )


# --- Slack secrets -----------------------------------------------------------------------------


def test_secret_from_env_reads_the_variable_or_its_file(tmp_path: Path) -> None:
    token = tmp_path / "bot_token"
    token.write_text("xoxb-from-file\n", encoding="utf-8")
    assert secret_from_env({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_BOT_TOKEN") == "xoxb-1"
    assert secret_from_env({"SLACK_BOT_TOKEN_FILE": str(token)}, "SLACK_BOT_TOKEN") == (
        "xoxb-from-file"
    )
    assert secret_from_env({"SLACK_BOT_TOKEN": ""}, "SLACK_BOT_TOKEN") is None
    assert secret_from_env({}, "SLACK_BOT_TOKEN") is None


def test_secret_from_env_refuses_both_and_never_shows_the_secret(tmp_path: Path) -> None:
    token = tmp_path / "app_token"
    token.write_text("xapp-Sup3r-S3cret", encoding="utf-8")
    environ = {"SLACK_APP_TOKEN": "xapp-Sup3r-S3cret", "SLACK_APP_TOKEN_FILE": str(token)}
    with pytest.raises(ConfigError, match="both SLACK_APP_TOKEN and SLACK_APP_TOKEN_FILE") as c:
        secret_from_env(environ, "SLACK_APP_TOKEN")
    assert "Sup3r-S3cret" not in str(c.value)
    with pytest.raises(ConfigError) as caught:
        secret_from_env({"SLACK_SIGNING_SECRET_FILE": str(tmp_path)}, "SLACK_SIGNING_SECRET")
    assert str(caught.value).startswith(
        f"cannot read the file {tmp_path} that SLACK_SIGNING_SECRET_FILE names:"
    )


def test_the_doctor_reports_an_unreadable_token_file(tmp_path: Path) -> None:
    environ = {
        "SLACK_BOT_TOKEN": "xoxb-Sup3r-S3cret",
        "SLACK_BOT_TOKEN_FILE": str(tmp_path / "bot"),
        "SLACK_APP_TOKEN_FILE": str(tmp_path / "app"),
    }
    bot, app, channel = check_slack(Config(), environ, catalog("en"))
    assert (bot.outcome, app.outcome) == (Outcome.FAILED, Outcome.FAILED)
    assert "both SLACK_BOT_TOKEN and SLACK_BOT_TOKEN_FILE are set" in bot.detail
    assert "Sup3r-S3cret" not in bot.detail
    assert app.detail.startswith(f"cannot read the file {tmp_path / 'app'}")
    assert channel.outcome is Outcome.SKIPPED


# --- files and values that are not sensible configuration ------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"language: \xff\xfe\n",
            "is not UTF-8 text (the first bad byte is at line 1, column 11).",
        ),
        (b"a: 1\nb: caf\xe9\n", "is not UTF-8 text (the first bad byte is at line 2, column 7)."),
        (b"a: " + b"[" * 10_000 + b"]" * 10_000, "nests deeper than 32 levels at line 1, column"),
        (
            b"defaults: {port: " + b"9" * 5000 + b"}\n",
            "has a number longer than 100 characters at line 1, column 18.",
        ),
        (b"defaults: {port: " + b"1:" * 200 + b"1}\n", "has a number longer than 100 characters"),
        (b"a: &a [*a]\n", "has an alias inside the node it refers to at line 1, column 8."),
        (b"a: &a {<<: *a}\n", "has an alias inside the node it refers to at line 1, column 12."),
        (b"a: !!int ''\n", "has an explicit tag (!!…); write the value plainly at line 1, column"),
        (b"a: !!bool x\n", "has an explicit tag"),
        (b"a: !!python/name:os.system x\n", "has an explicit tag"),
        (b"1: x\n", "has a key that is not a name of up to 128 printable characters at line 1"),
        (b"? [a]\n: x\n", "has a key that is not a name of up to 128 printable characters"),
        (b'"a\\tb": x\n', "has a key that is not a name of up to 128 printable characters"),
        (b"k" * 129 + b": x\n", "has a key that is not a name of up to 128 printable characters"),
        (b"a: 1\nb: \x01\n", "is not valid YAML at line 2, column 4: the character U+0001 is not"),
        (b"a: *Sup3r-S3cret\n", "is not valid YAML at line 1, column 4: found undefined alias."),
        (b"a: '\t'\n\tb: 1\n", "is not valid YAML at line 2, column 1: found character '\\t'"),
    ],
)
def test_nonsense_files_are_one_sentence_without_their_content(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert str(caught.value).startswith(f"the config file {path} ")
    assert message in str(caught.value)
    assert "Sup3r-S3cret" not in str(caught.value)


def test_a_file_larger_than_a_mebibyte_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(b"# " + b"x" * (1024 * 1024) + b"\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert str(caught.value) == f"the config file {path} is larger than 1 MiB."


def test_a_large_fleet_is_well_within_the_limit(tmp_path: Path) -> None:
    entries = "".join(f"  - {{name: s{n}, address: s{n}.corp.example}}\n" for n in range(5000))
    path = _write(tmp_path, "servers:\n" + entries)
    assert path.stat().st_size < 256 * 1024
    assert len(load_config(path, {}).servers) == 5000


def test_an_alias_bomb_is_validated_quickly(tmp_path: Path) -> None:
    # Aliases are shared, never copied: a billion laughs stays ten lists of ten.
    levels = "".join(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]\n" for n in range(1, 9))
    text = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n" + levels
    path = _write(tmp_path, text.replace("l8: &l8", "slack:\n  allowed_users: &l8"))
    with pytest.raises(ConfigError, match="unknown field l0"):
        load_config(path, {})


def test_an_alias_shared_by_two_sections_takes_an_override_in_one(tmp_path: Path) -> None:
    path = _write(tmp_path, "slack: &s {}\nstorage: *s\n")
    config = load_config(path, {"BACKUPCHECK_SLACK__MODE": "http"})
    assert config.slack.mode == "http"


def test_a_secret_file_over_a_mebibyte_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "db_url"
    secret.write_bytes(b"x" * (1024 * 1024 + 1))
    with pytest.raises(ConfigError) as caught:
        load_config(None, {"BACKUPCHECK_STORAGE__URL_FILE": str(secret)})
    assert str(caught.value) == (
        f"the file {secret} that BACKUPCHECK_STORAGE__URL_FILE names is larger than 1 MiB."
    )


def test_a_secret_file_that_is_not_utf8_is_named_not_quoted(tmp_path: Path) -> None:
    secret = tmp_path / "db_url"
    secret.write_bytes(b"Sup3r-S3cret\xff")
    with pytest.raises(ConfigError) as caught:
        load_config(None, {"BACKUPCHECK_STORAGE__URL_FILE": str(secret)})
    assert str(caught.value).startswith(
        f"the file {secret} that BACKUPCHECK_STORAGE__URL_FILE names is not UTF-8 text"
    )
    assert "Sup3r-S3cret" not in str(caught.value)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "BACKUPCHECK_DEFAULTS__DEADLINE_S",
            "1e400",
            "the environment variable BACKUPCHECK_DEFAULTS__DEADLINE_S is invalid at "
            "defaults.deadline_s: Input should be a finite number.",
        ),
        (
            "BACKUPCHECK_DEFAULTS__CONNECT_TIMEOUT_S",
            ".nan",
            "the environment variable BACKUPCHECK_DEFAULTS__CONNECT_TIMEOUT_S is invalid at "
            "defaults.connect_timeout_s: Input should be a finite number.",
        ),
        (
            "BACKUPCHECK_DEFAULTS__DEADLINE_S",
            "86400",
            "the environment variable BACKUPCHECK_DEFAULTS__DEADLINE_S is invalid at "
            "defaults.deadline_s: Input should be less than or equal to 3600.",
        ),
        (
            "BACKUPCHECK_ALERTS__EDIT_INTERVAL_S",
            ".inf",
            "the environment variable BACKUPCHECK_ALERTS__EDIT_INTERVAL_S is invalid at "
            "alerts.edit_interval_s: Input should be a finite number.",
        ),
        (
            "BACKUPCHECK_SLACK__HTTP_PORT",
            "9" * 5000,
            "the value of BACKUPCHECK_SLACK__HTTP_PORT has a number longer than 100 characters.",
        ),
        (
            "BACKUPCHECK_SLACK__ALLOWED_USERS",
            "[" * 10_000 + "]" * 10_000,
            "the value of BACKUPCHECK_SLACK__ALLOWED_USERS nests deeper than 32 levels.",
        ),
        (
            "BACKUPCHECK_SLACK__ALLOWED_USERS",
            "&a [*a]",
            "the value of BACKUPCHECK_SLACK__ALLOWED_USERS has an alias inside the node",
        ),
        (
            "BACKUPCHECK_SLACK__ALLOWED_USERS",
            "*Sup3r-S3cret",
            "the value of BACKUPCHECK_SLACK__ALLOWED_USERS is not valid YAML; quote text",
        ),
        (
            "BACKUPCHECK_DEFAULTS__CREDENTIAL",
            "a:Sup3r-S3cret",
            "the environment variable BACKUPCHECK_DEFAULTS__CREDENTIAL is invalid at "
            "defaults.credential: String should match pattern",
        ),
    ],
)
def test_nonsense_overrides_are_one_sentence_naming_the_variable(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, {variable: value})
    assert str(caught.value).startswith(message)
    assert "Sup3r-S3cret" not in str(caught.value)


def test_an_error_in_a_server_entry_names_the_server(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "servers:\n  - {name: fs01, address: fs01.example}\n"
        "  - {name: fs02, address: 'admin:Sup3r-S3cret@fs02'}\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    assert str(caught.value) == (
        f"the config file {path} (server fs02) is invalid at servers[1].address: an address "
        "cannot carry a user name or password; put them in a credential profile."
    )


# --- through the real command ------------------------------------------------------------------

NONSENSE_FILES = {
    "infinite deadline": b"defaults: {deadline_s: 1e400}\nservers: [{name: a, address: a}]\n",
    "userinfo": b"servers: [{name: a, address: 'admin:Sup3r-S3cret@host'}]\n",
    "crlf": b'servers: [{name: a, address: "host\\r\\nX-Sup3r-S3cret: 1"}]\n',
    "path": b"servers: [{name: a, address: 'host/../x?#Sup3r-S3cret'}]\n",
    "not utf-8": b"language: \xff\n",
    "deep": b"a: " + b"[" * 10_000 + b"]" * 10_000 + b"\n",
    "long port": b"defaults: {port: " + b"9" * 5000 + b"}\n",
    "control name": b'servers: [{name: "a\\e]0;x\\a", address: a}]\n',
}


@pytest.mark.parametrize("content", NONSENSE_FILES.values(), ids=list(NONSENSE_FILES))
@pytest.mark.parametrize("command", [("check", "--all"), ("doctor",)])
def test_the_command_refuses_nonsense_in_one_sentence(
    run: Run, tmp_path: Path, content: bytes, command: tuple[str, ...]
) -> None:
    path = tmp_path / "nonsense.yaml"
    path.write_bytes(content)
    result = run(*command, "--config", str(path))
    assert result.returncode == 3
    output = result.stdout + result.stderr
    assert f"the config file {path} " in output
    assert len(output.strip().splitlines()) == 1, output
    for leak in ("Traceback", "internal error", "Sup3r-S3cret"):
        assert leak not in output


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BACKUPCHECK_DEFAULTS__DEADLINE_S", ".inf"),
        ("BACKUPCHECK_SLACK__HTTP_PORT", "9" * 5000),
        ("BACKUPCHECK_SLACK__ALLOWED_USERS", "[" * 10_000),
    ],
)
def test_the_command_refuses_nonsense_overrides_in_one_sentence(
    run: Run, tmp_path: Path, variable: str, value: str
) -> None:
    path = _write(tmp_path, "servers: [{name: a, address: a}]\n")
    result = run("check", "--all", "--config", str(path), env={variable: value})
    assert result.returncode == 3
    output = result.stdout + result.stderr
    assert variable in output
    assert len(output.strip().splitlines()) == 1, output
    assert "Traceback" not in output
    assert "internal error" not in output


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("slack", "api_url", "https://admin:Secret@slack.example/api/"),
        ("slack", "api_url", "https://slack.example/api/?x=1"),
        ("slack", "allowed_users", ["U1> <!channel"]),
        ("alerts", "on_call_users", ["<!everyone>"]),
        ("alerts", "responder_usergroups", ["S1|x"]),
        ("alerts", "channel", "#ops"),
    ],
)
def test_slack_ids_and_the_api_url_are_refused_unless_well_formed(
    tmp_path: Path, section: str, key: str, value: object
) -> None:
    """IDs go into mentions and the URL into logs: anything else is one sentence, not echoed."""
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({section: {key: value}}), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f"{section}.{key}" in str(caught.value)
    assert "Secret" not in str(caught.value)
    assert "channel" not in str(caught.value).replace("alerts.channel", "")
