"""`backupcheck doctor`: a broken first run explained line by line, then the same run fixed."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import Config
from bot.i18n import catalog
from bot.terminal.doctor.findings import Finding, Outcome, exit_code, summary
from bot.terminal.doctor.servers import clock_skew, server_findings
from bot.terminal.doctor.slack import check_slack
from checks.collect.winrm import winrm_collect
from checks.diagnose import Diagnosis, diagnose, diagnose_fleet
from checks.snapshot import parse_snapshot
from tests.bot.conftest import Run
from tests.conftest import ENVIRON, FIXTURES, PASSWORD, USER, inventory_for
from tests.support.fleet import HostProfile, SimulatedFleet
from tests.support.slack_api import APP_TOKEN, BOT_TOKEN, SlackChannel, SlackStandIn

WRONG_PASSWORD = "Wr0ng-Horse-Staple"  # noqa: S105 - what a typo in the vault looks like
WRONG_TOKEN = "xoxb-0000-not-the-bot-token"  # noqa: S105
REVOKED_APP_TOKEN = "xapp-1-revoked"  # noqa: S105
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # noqa: S105 - Slack's documented example
SECRETS = (
    PASSWORD,
    WRONG_PASSWORD,
    WRONG_TOKEN,
    BOT_TOKEN,
    APP_TOKEN,
    REVOKED_APP_TOKEN,
    SIGNING_SECRET,
)
SEED = json.loads((FIXTURES / "snapshots" / "seed-incident.json").read_text(encoding="utf-8"))
UNREADABLE = [
    "shadow storage could not be read: Access denied",
    "the backup policy could not be read: Access is denied.",
]


def _profile(collected_at: datetime, **changes: Any) -> HostProfile:
    snapshot = {**SEED, "collected_at": collected_at.isoformat(timespec="seconds"), **changes}
    return HostProfile(snapshot=json.dumps(snapshot).encode("utf-8"))


@pytest.fixture(scope="module")
def hosts() -> Iterator[SimulatedFleet]:
    """Hosts whose clocks agree with ours (the shared fleet's snapshots are from a fixed day)."""
    now = datetime.now(UTC)
    profiles = {
        "win01": _profile(now),
        "win02": _profile(now),
        "noadmin01": _profile(now, backup=None, shadow_storage=[], warnings=UNREADABLE),
        "nowsb01": _profile(
            now,
            backup=None,
            warnings=[
                "the Windows Server Backup feature is not installed, so there is no "
                "backup policy to read"
            ],
        ),
        "skew01": _profile(now - timedelta(hours=2)),
    }
    with SimulatedFleet(profiles, users={USER: PASSWORD}) as running:
        yield running
        assert running.errors == []
        assert running.unexpected_commands == []


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that is bound but not listening: connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def _document(hosts: SimulatedFleet, names: list[str], **sections: Any) -> dict[str, Any]:
    inventory = inventory_for(hosts, names)
    document: dict[str, Any] = inventory.model_dump(mode="json", exclude_none=True)
    document.update(sections)
    return document


def _write(tmp_path: Path, document: dict[str, Any], name: str = "doctor.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return str(path)


def _slack_env(stand_in: SlackStandIn, **overrides: str) -> dict[str, str]:
    return {
        **ENVIRON,
        "SLACK_API_URL": stand_in.api_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_SIGNING_SECRET": "",
        **overrides,
    }


def _line(output: str, start: str) -> str:
    """The one output line that starts with start."""
    found = [line for line in output.splitlines() if line.startswith(start)]
    assert len(found) == 1, f"{start!r} in:\n{output}"
    return found[0]


def _no_secrets(*outputs: str) -> None:
    for output in outputs:
        for secret in SECRETS:
            assert secret not in output


def test_a_broken_first_run_is_explained_line_by_line_and_passes_once_fixed(
    run: Run,
    tmp_path: Path,
    hosts: SimulatedFleet,
    stand_in: SlackStandIn,
    closed_port: int,
) -> None:
    document = _document(hosts, ["win01"], alerts={"channel": "C123"})
    dead = {"name": "dead01", "address": "127.0.0.1", "port": closed_port}
    broken_env = _slack_env(
        stand_in, SLACK_BOT_TOKEN=WRONG_TOKEN, BACKUPCHECK_WINRM_PASSWORD=WRONG_PASSWORD
    )
    requests_before = hosts.http_requests_for("win01")

    # 1. A typo in the config: one line with "did you mean", and nothing else is contacted.
    typo = {**document, "servers": [*document["servers"], {**dead, "adress": "x"}]}
    del typo["servers"][-1]["address"]
    result = run("doctor", "-c", _write(tmp_path, typo), env=broken_env)
    assert result.returncode == 3, result.stdout + result.stderr
    line = _line(result.stdout, "✗ Config file: ")
    assert "unknown field servers[1].adress; did you mean 'address'?" in line
    assert line.endswith("→ correct the file, then run `backupcheck doctor` again")
    assert len(result.stdout.splitlines()) == 1
    assert stand_in.calls() == []
    assert hosts.http_requests_for("win01") == requests_before
    _no_secrets(result.stdout, result.stderr)

    # 2. The config parses, but the token, one host's port and the password are wrong.
    config = _write(tmp_path, {**document, "servers": [*document["servers"], dead]})
    result = run("doctor", "-c", config, env=broken_env)
    out = result.stdout
    assert result.returncode == 2, out + result.stderr
    assert _line(out, "✓ Config file: ").endswith("is valid; servers listed: 2")
    assert _line(out, "✗ Slack bot token: ") == (
        "✗ Slack bot token: Slack refused it: invalid_auth → copy the Bot User OAuth Token "
        "(xoxb-…) again from the app's Install App page; reinstalling the app issues a new one"
    )
    assert _line(out, "✓ Slack app token: ").endswith("valid: Socket Mode can connect")
    assert _line(out, "– Slack alert channel: ").endswith("skipped: it needs a working bot token")
    win01, _ = hosts.address_of("win01")
    assert _line(out, "✓ win01: name: ") == f"✓ win01: name: {win01} is an IP address"
    assert _line(out, "✓ win01: WinRM port: ").endswith("accepts connections")
    login = _line(out, "✗ win01: login: ")
    assert f"authentication failed for {USER} on {win01} (ntlm)" in login
    assert "→ check the password in $BACKUPCHECK_WINRM_PASSWORD and that svc-backupcheck" in login
    assert _line(out, "– win01: clock: ").endswith("skipped: an earlier step failed")
    refused = _line(out, "✗ dead01: WinRM port: ")
    assert f"127.0.0.1:{closed_port} refused the connection" in refused
    assert "→ start WinRM on the server (winrm quickconfig" in refused
    assert _line(out, "– dead01: login: ").endswith("skipped: an earlier step failed")
    assert out.splitlines()[-1].startswith("Problems to fix: 3.")
    _no_secrets(out, result.stderr)

    # 3. Fixed: the right token and password, and dead01's address points at a running host.
    address, port = hosts.address_of("win02")
    fixed = _write(
        tmp_path,
        {**document, "servers": [*document["servers"], {**dead, "address": address, "port": port}]},
    )
    result = run("doctor", "-c", fixed, env=_slack_env(stand_in))
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    lines = out.splitlines()
    assert all(line.startswith("✓ ") for line in lines[:-1]), out
    assert len(lines) == 1 + 3 + 2 * 5 + 1  # config, Slack, five steps per server, verdict
    assert _line(out, "✓ Slack bot token: ").endswith(
        "valid: the bot is @backupcheck in Backupcheck Test"
    )
    assert _line(out, "✓ Slack alert channel: ").endswith("#ops (C123): the bot is a member")
    assert _line(out, "✓ win01: login: ").endswith(f"{USER} logs in over ntlm")
    assert _line(out, "✓ dead01: backup policy and shadow storage: ").endswith(
        "the probe read the backup policy and the shadow storage"
    )
    assert re.search(r"^✓ win01: clock: within \d+ s of this machine's clock$", out, re.M)
    assert lines[-1] == "Everything a first run needs is in place."
    _no_secrets(out, result.stderr)
    assert hosts.unexpected_commands == []


@pytest.mark.parametrize("how", ["--lang", "config"])
def test_japanese(
    run: Run, tmp_path: Path, hosts: SimulatedFleet, stand_in: SlackStandIn, how: str
) -> None:
    sections: dict[str, Any] = {"language": "ja"} if how == "config" else {}
    config = _write(tmp_path, _document(hosts, ["win01"], **sections))
    args = ["--lang", "ja"] if how == "--lang" else []
    env = _slack_env(
        stand_in, SLACK_BOT_TOKEN=WRONG_TOKEN, BACKUPCHECK_WINRM_PASSWORD=WRONG_PASSWORD
    )
    result = run("doctor", "-c", config, *args, env=env)
    out = result.stdout
    assert result.returncode == 2, out + result.stderr
    assert _line(out, "✓ 設定ファイル: ").endswith("は有効です。サーバー数: 1")
    assert _line(out, "✗ Slack ボットトークン: ").startswith(
        "✗ Slack ボットトークン: Slack に拒否されました: invalid_auth → アプリの Install App ページ"
    )
    assert _line(out, "– Slack アラートチャンネル: ").endswith(
        "alerts.channel が設定されていないため、`serve` はスラッシュコマンドに答えますがアラートは"
        "投稿しません"
    )
    login = _line(out, "✗ win01: ログオン: ")
    assert "→ 環境変数 $BACKUPCHECK_WINRM_PASSWORD のパスワードと" in login
    assert _line(out, "– win01: 時計: ").endswith("スキップ: 前の手順が失敗しました")
    assert out.splitlines()[-1].startswith("対処が必要な問題: 2 件。")
    _no_secrets(out, result.stderr)


def test_an_account_without_admin_rights_and_a_skewed_clock(
    run: Run, tmp_path: Path, hosts: SimulatedFleet
) -> None:
    config = _write(tmp_path, _document(hosts, ["noadmin01", "skew01", "nowsb01"]))
    result = run("doctor", "-c", config, "--no-slack", env=ENVIRON)
    out = result.stdout
    assert result.returncode == 2, out + result.stderr
    assert _line(out, "– Slack: ").endswith("skipped (--no-slack)")
    assert _line(out, "✓ noadmin01: login: ").endswith(f"{USER} logs in over ntlm")
    read = _line(out, "✗ noadmin01: backup policy and shadow storage: ")
    assert "the probe could not read everything: " + "; ".join(UNREADABLE) in read
    assert read.endswith(
        f"→ give {USER} the right for each read that failed (docs/windows-setup.md, section "
        "4.1): the Windows Server Backup cmdlets need the local Administrators or Backup "
        "Operators group, the shadow storage (Win32_ShadowStorage) is documented for local "
        "Administrators only; local Administrators reads everything"
    )
    assert _line(out, "– noadmin01: clock: ").endswith("skipped: an earlier step failed")
    clock = _line(out, "✗ skew01: clock: ")
    assert re.search(r"the server's clock is 12\d min behind this machine's → synchronise", clock)
    assert "Kerberos refuses logons beyond 5 minutes" in clock
    assert _line(out, "✓ nowsb01: backup policy and shadow storage: ").endswith(
        "Windows Server Backup is not installed, so there is no policy to read"
    )
    assert _line(out, "✓ nowsb01: clock: ")
    assert out.splitlines()[-1].startswith("Problems to fix: 2.")


def test_without_slack_tokens_each_is_missing_and_no_slack_passes(
    run: Run, tmp_path: Path, hosts: SimulatedFleet
) -> None:
    config = _write(tmp_path, _document(hosts, ["win01"]))
    env = {**ENVIRON, "SLACK_BOT_TOKEN": "", "SLACK_APP_TOKEN": " ", "SLACK_API_URL": ""}
    result = run("doctor", "-c", config, env=env)
    assert result.returncode == 2
    bot = _line(result.stdout, "✗ Slack bot token: ")
    assert bot.startswith("✗ Slack bot token: SLACK_BOT_TOKEN is not set → export SLACK_BOT_TOKEN")
    assert "only `backupcheck serve` needs it, so pass --no-slack" in bot
    assert "SLACK_APP_TOKEN is not set → export SLACK_APP_TOKEN=xapp-…" in result.stdout
    result = run("doctor", "-c", config, "--no-slack", env=env)
    assert result.returncode == 0, result.stdout
    assert "Slack bot token" not in result.stdout


def test_a_typo_of_a_key_in_a_section_and_a_missing_file(run: Run, tmp_path: Path) -> None:
    config = _write(tmp_path, {"alerts": {"chanel": "C123"}})
    result = run("doctor", "-c", config, "--no-slack", "--lang", "ja")
    assert result.returncode == 3
    line = _line(result.stdout, "✗ 設定ファイル: ")
    assert "unknown field alerts.chanel; did you mean 'channel'?" in line
    assert line.endswith(
        "→ ファイルを修正してから、もう一度 `backupcheck doctor` を実行してください"
    )
    result = run(
        "doctor", "--no-slack"
    )  # no --config, no $BACKUPCHECK_CONFIG, no ./backupcheck.yaml
    assert result.returncode == 2
    assert _line(result.stdout, "✗ Config file: ").startswith(
        "✗ Config file: no config file: neither --config, $BACKUPCHECK_CONFIG nor "
        "./backupcheck.yaml → copy config/backupcheck.example.yaml"
    )


def test_a_config_without_servers_fails(run: Run, tmp_path: Path) -> None:
    result = run("doctor", "-c", _write(tmp_path, {"language": "en"}), "--no-slack")
    assert result.returncode == 2
    assert _line(result.stdout, "✗ Servers: ").endswith(
        "→ add each Windows server under servers: with its name, address and credential"
    )


# --- Slack, against the loopback stand-in ------------------------------------------------------


def _slack(stand_in: SlackStandIn, env: dict[str, str] | None = None, **settings: Any) -> list[str]:
    config = Config.model_validate(settings)
    findings = check_slack(config, env or _slack_env(stand_in), catalog("en"))
    return [_render(f) for f in findings]


def _render(finding: Finding) -> str:
    mark = {Outcome.PASSED: "✓", Outcome.FAILED: "✗", Outcome.SKIPPED: "–"}[finding.outcome]
    fix = f" → {finding.fix}" if finding.fix else ""
    return f"{mark} {finding.name}: {finding.detail}{fix}"


def test_the_bot_must_be_a_member_of_the_alert_channel(stand_in: SlackStandIn) -> None:
    stand_in.channels["C777"] = SlackChannel("C777", "backups", is_member=False)
    lines = _slack(stand_in, alerts={"channel": "C777", "escalation_channel": "C999"})
    assert lines[2] == (
        "✗ Slack alert channel: #backups (C777): the bot is not a member, so it cannot post "
        "alerts there → type /invite @backupcheck in the channel"
    )
    assert lines[3].startswith(
        "✗ Slack escalation channel: the channel C999 does not exist, or the bot cannot see it"
    )
    assert [c.params["channel"] for c in stand_in.calls("conversations.info")] == ["C777", "C999"]


@pytest.mark.parametrize(("history", "outcome"), [(None, "✓"), ("not_in_channel", "✗")])
def test_without_channels_read_the_history_tells_membership(
    stand_in: SlackStandIn, history: str | None, outcome: str
) -> None:
    # The app manifest grants channels:history but not channels:read.
    stand_in.queue_response(
        "conversations.info",
        body={"ok": False, "error": "missing_scope", "needed": "channels:read"},
    )
    if history:
        stand_in.queue_response("conversations.history", body={"ok": False, "error": history})
    lines = _slack(stand_in, alerts={"channel": "C123"})
    assert lines[2].startswith(f"{outcome} Slack alert channel: C123: the bot ")
    assert len(stand_in.calls("conversations.history")) == 1


def test_http_mode_needs_the_signing_secret_not_the_app_token(stand_in: SlackStandIn) -> None:
    env = _slack_env(stand_in, SLACK_APP_TOKEN="")
    lines = _slack(stand_in, env, slack={"mode": "http"})
    assert lines[1].startswith("✗ Slack signing secret: SLACK_SIGNING_SECRET is not set → export")
    env["SLACK_SIGNING_SECRET"] = SIGNING_SECRET
    lines = _slack(stand_in, env, slack={"mode": "http"})
    assert lines[1].startswith("✓ Slack signing secret: set")
    assert not any("app token" in line for line in lines)
    assert lines[2].startswith("– Slack alert channel: skipped: alerts.channel is not set")
    _no_secrets(*lines)


def test_tokens_of_the_wrong_kind_are_not_sent_anywhere(stand_in: SlackStandIn) -> None:
    env = _slack_env(stand_in, SLACK_BOT_TOKEN=APP_TOKEN, SLACK_APP_TOKEN=BOT_TOKEN)
    lines = _slack(stand_in, env)
    assert lines[0].startswith(
        "✗ Slack bot token: SLACK_BOT_TOKEN does not start with xoxb-, so it is the wrong kind"
    )
    assert lines[1].startswith("✗ Slack app token: SLACK_APP_TOKEN does not start with xapp-")
    assert stand_in.calls() == []
    _no_secrets(*lines)


def test_an_app_token_slack_refuses(stand_in: SlackStandIn) -> None:
    lines = _slack(stand_in, _slack_env(stand_in, SLACK_APP_TOKEN=REVOKED_APP_TOKEN))
    assert lines[1] == (
        "✗ Slack app token: Slack refused it: invalid_auth → create an app-level token with the "
        "connections:write scope (Basic Information → App-Level Tokens) and put it in "
        "SLACK_APP_TOKEN"
    )


def test_slack_out_of_reach(stand_in: SlackStandIn, closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/api/"
    lines = _slack(stand_in, _slack_env(stand_in, SLACK_API_URL=url))
    assert lines[0].startswith(f"✗ Slack bot token: cannot reach Slack at {url}: ")
    assert lines[0].endswith(
        "→ check this machine's network and proxy, and slack.api_url or $SLACK_API_URL"
    )


# --- the server steps, in process ----------------------------------------------------------------


def test_every_server_is_diagnosed_in_order_with_progress(hosts: SimulatedFleet) -> None:
    inventory = inventory_for(hosts, ["win01", "skew01", "noadmin01", "win02"])
    seen: list[str] = []
    diagnoses = diagnose_fleet(
        inventory.resolved(),
        winrm_collect(inventory, ENVIRON),
        workers=2,
        progress=lambda d: seen.append(d.server.name),
    )
    assert [d.server.name for d in diagnoses] == ["win01", "skew01", "noadmin01", "win02"]
    assert sorted(seen) == sorted(d.server.name for d in diagnoses)
    assert all(d.snapshot is not None for d in diagnoses)


def test_a_name_that_does_not_resolve_skips_the_rest(hosts: SimulatedFleet) -> None:
    inventory = inventory_for(hosts, ["win01"])
    server = inventory.resolved()[0].model_copy(update={"address": "doctor-test.invalid"})
    diagnosis = diagnose(server, winrm_collect(inventory, ENVIRON), lambda: datetime.now(UTC))
    assert diagnosis.resolve_error is not None
    assert diagnosis.connect_failure is None
    assert diagnosis.snapshot is None
    findings = server_findings(diagnosis, inventory, ENVIRON, catalog("en"))
    assert [f.outcome for f in findings] == [Outcome.FAILED] + [Outcome.SKIPPED] * 4
    assert findings[0].detail.startswith("the name doctor-test.invalid does not resolve (")
    assert exit_code(findings) == 2


@pytest.mark.parametrize(
    ("collected", "skew"),
    [
        (timedelta(seconds=1), timedelta(0)),  # between sending and receiving
        (timedelta(0), timedelta(0)),  # whole seconds only: reads up to a second early
        (timedelta(minutes=7), timedelta(minutes=7, seconds=-2.6)),  # ahead of receiving
        (timedelta(minutes=-6), timedelta(minutes=-6)),  # behind sending
    ],
)
def test_clock_skew_counts_only_what_lies_outside_the_round_trip(
    hosts: SimulatedFleet, collected: timedelta, skew: timedelta
) -> None:
    whole = datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)
    sent = whole + timedelta(seconds=0.6)
    received = sent + timedelta(seconds=2)
    document = {**SEED, "collected_at": (whole + collected).isoformat()}
    (server,) = inventory_for(hosts, ["win01"]).resolved()
    diagnosis = Diagnosis(
        server, snapshot=parse_snapshot(json.dumps(document)), sent_at=sent, received_at=received
    )
    assert clock_skew(diagnosis) == skew


def test_the_verdict() -> None:
    t = catalog("en")
    passed = Finding("a", Outcome.PASSED, "fine")
    skipped = Finding("b", Outcome.SKIPPED, "not tried")
    failed = Finding("c", Outcome.FAILED, "broken", "mend it")
    assert exit_code([passed, skipped]) == 0
    assert summary([passed, skipped], t) == "Everything a first run needs is in place."
    assert exit_code([passed, failed, failed]) == 2
    assert summary([failed, failed], t).startswith("Problems to fix: 2.")
    assert not failed.ok
    assert skipped.ok


@pytest.mark.parametrize(
    ("host", "environ", "detail", "fix"),
    [
        (
            "win01",
            {},
            "the environment variable BACKUPCHECK_WINRM_PASSWORD (password of credential "
            "'reader') is not set",
            "export BACKUPCHECK_WINRM_PASSWORD=… in the environment backupcheck runs in",
        ),
        (
            "fault-wsman-access-denied",
            ENVIRON,
            "WinRM fault 5 from ",
            f"{USER} logged on but may not open the remote shell that runs the probe: add it "
            "to the server's local Administrators group, or give it Read and Execute in WinRM's "
            "RootSDDL (docs/windows-setup.md, sections 4.2 and 4.3); Remote Management Users "
            "alone is not enough",
        ),
    ],
)
def test_login_problems_name_their_fix(
    hosts: SimulatedFleet,
    fleet: SimulatedFleet,
    host: str,
    environ: dict[str, str],
    detail: str,
    fix: str,
) -> None:
    inventory = inventory_for(hosts if host in hosts.profiles else fleet, [host])
    (server,) = inventory.resolved()
    diagnosis = diagnose(server, winrm_collect(inventory, environ), lambda: datetime.now(UTC))
    findings = server_findings(diagnosis, inventory, environ, catalog("en"))
    assert [f.outcome for f in findings] == [Outcome.PASSED] * 2 + [Outcome.FAILED] + [
        Outcome.SKIPPED
    ] * 2
    assert findings[2].detail.startswith(detail)
    assert findings[2].fix == fix
