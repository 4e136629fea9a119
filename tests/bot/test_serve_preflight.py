"""`backupcheck serve` refuses to start on a first run's mistakes with doctor's sentence, exit 3."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml

from tests.bot.conftest import Run
from tests.support.slack_api import APP_TOKEN, BOT_TOKEN, SlackStandIn

pytestmark = pytest.mark.timeout(60)
CHANNEL = "C123"


def _config(tmp_path: Path, **sections: object) -> None:
    (tmp_path / "backupcheck.yaml").write_text(yaml.safe_dump(sections), encoding="utf-8")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _one_sentence(result_stderr: str) -> str:
    (line,) = result_stderr.splitlines()
    assert "Traceback" not in line
    assert "internal error" not in line
    return line


def test_a_wrong_bot_token_is_told_as_doctor_tells_it(
    run: Run, tmp_path: Path, stand_in: SlackStandIn
) -> None:
    _config(tmp_path)
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1-wrong",
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": stand_in.api_url,
    }
    result = run("serve", env=env)
    assert result.returncode == 3
    line = _one_sentence(result.stderr)
    assert line.startswith("backupcheck: cannot start: Slack bot token: Slack refused it: ")
    assert "invalid_auth → " in line
    assert "xoxb-1-wrong" not in line


def test_no_route_to_slack_is_one_sentence(run: Run, tmp_path: Path) -> None:
    _config(tmp_path)
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": f"http://127.0.0.1:{_closed_port()}/api/",
    }
    result = run("serve", env=env)
    assert result.returncode == 3
    line = _one_sentence(result.stderr)
    assert line.startswith("backupcheck: cannot start: Slack bot token: ")
    assert "more: run `backupcheck doctor`" in line  # the app token could not be tried either


def test_an_unreachable_database_is_one_sentence_without_its_password(
    run: Run, tmp_path: Path, stand_in: SlackStandIn
) -> None:
    url = f"postgresql+psycopg://backupcheck:S3cret-pw@127.0.0.1:{_closed_port()}/nowhere"
    _config(tmp_path, alerts={"channel": CHANNEL}, storage={"url": url})
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": stand_in.api_url,
    }
    result = run("serve", env=env)
    assert result.returncode == 3
    line = _one_sentence(result.stderr.strip())
    assert line.startswith(
        "backupcheck: cannot start: the database postgresql+psycopg://backupcheck:***@127.0.0.1:"
    )
    assert "→ check storage.url" in line
    assert "S3cret-pw" not in result.stderr
