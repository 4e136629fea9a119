"""Log lines: JSON with the host, check and alert ids; secrets masked whoever logs them."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

from bot.config import Config
from bot.logs import JsonFormatter, SecretMask, TextFormatter, known_secrets


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord(
        "bot.alerts.schedule.runner", logging.INFO, __file__, 1, message, args, None
    )
    record.__dict__.update(extra)
    return record


def test_a_json_line_carries_the_context_fields() -> None:
    line = JsonFormatter().format(_record("%s: %s", "fs01", "critical", host="fs01", alert_id=7))
    entry = json.loads(line)
    assert entry["message"] == "fs01: critical"
    assert (entry["level"], entry["logger"], entry["host"], entry["alert_id"]) == (
        "info",
        "bot.alerts.schedule.runner",
        "fs01",
        7,
    )
    assert "check_id" not in entry


def test_secrets_are_masked_in_messages_arguments_and_tracebacks() -> None:
    mask = SecretMask(["xoxb-123-secret", "Corr3ct-Horse", "ab"])
    record = _record("calling Slack with %s", "xoxb-123-secret")
    mask.filter(record)
    assert record.getMessage() == "calling Slack with ***"
    try:
        raise ValueError("login failed for password Corr3ct-Horse")
    except ValueError:
        failed = _record("boom")
        failed.exc_info = sys.exc_info()
    mask.filter(failed)
    assert "Corr3ct-Horse" not in JsonFormatter().format(failed)
    assert mask.mask("ab is too short to be a secret") == "ab is too short to be a secret"


def test_the_secrets_come_from_the_slack_variables_and_the_credentials(tmp_path: Path) -> None:
    secret_file = tmp_path / "winrm_password"
    secret_file.write_text("From-A-File-42\n", encoding="utf-8")
    config = Config.model_validate(
        {
            "credentials": {
                "env": {"username": "u", "password_env": "WINRM_PASSWORD"},
                "file": {"username": "u", "password_file": str(secret_file)},
            }
        }
    )
    environ = {"SLACK_BOT_TOKEN": "xoxb-1", "WINRM_PASSWORD": "From-Env-42", "OTHER": "x"}
    assert sorted(known_secrets(config, environ)) == ["From-A-File-42", "From-Env-42", "xoxb-1"]


def test_the_scheduler_s_chatter_stays_out_of_the_log() -> None:
    """APScheduler's "Running job" every 2 s would drown the bot's own lines at INFO."""
    script = """
import logging, time
from apscheduler.schedulers.background import BackgroundScheduler
from bot.logs import configure_logging
configure_logging("text", [])
scheduler = BackgroundScheduler()
scheduler.add_job(lambda: None, "interval", seconds=0.05, id="deliver")
scheduler.start()
time.sleep(0.3)
scheduler.shutdown()
logging.getLogger("bot.alerts.service").info("fs01: critical")
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert "Running job" not in result.stderr
    assert "Added job" not in result.stderr
    assert result.stderr.rstrip().endswith("INFO bot.alerts.service: fs01: critical")


def _held_job_log(job_id: str) -> str:
    """stderr of a process whose job `job_id` runs longer than its interval, then one other
    APScheduler warning."""
    script = f"""
import logging, time
from apscheduler.schedulers.background import BackgroundScheduler
from bot.logs import configure_logging
configure_logging("text", [])
scheduler = BackgroundScheduler(job_defaults={{"coalesce": True, "max_instances": 1}})
scheduler.add_job(lambda: time.sleep(1.5), "interval", seconds=0.05, id={job_id!r})
scheduler.start()
time.sleep(1.0)
scheduler.shutdown(wait=False)
logging.getLogger("apscheduler.scheduler").warning("Run time of job was missed")
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return result.stderr


def test_an_outbox_run_skipped_while_the_last_one_goes_on_is_not_a_warning_each_time() -> None:
    """A slow Slack holds the outbox's run past its next; APScheduler would warn every 2 s."""
    log = _held_job_log("outbox")
    assert "maximum number of running instances" not in log
    assert log.strip().endswith("WARNING apscheduler.scheduler: Run time of job was missed")


def test_any_other_job_skipped_still_says_so() -> None:
    """A planning round or a check held past its next run is worth its line."""
    log = _held_job_log("plan")
    assert "maximum number of running instances reached" in log
    assert "Run time of job was missed" in log


def test_a_host_s_text_cannot_forge_a_log_line() -> None:
    line = TextFormatter("%(levelname)s %(name)s: %(message)s").format(
        _record("%s: unknown (%s)", "fs01", "x\n2026-12-01 INFO bot: fs01: ok\x1b[2J")
    )
    assert "\n" not in line
    assert "\x1b" not in line
    assert line == (
        "INFO bot.alerts.schedule.runner: fs01: unknown "
        "(x\\x0a2026-12-01 INFO bot: fs01: ok\\x1b[2J)"
    )


def test_the_heartbeat_url_is_a_secret() -> None:
    url = "https://hc-ping.com/0b2f6c3e-1a2b-4c5d-8e9f-0123456789ab"
    config = Config.model_validate({"alerts": {"heartbeat_url": url}})
    assert known_secrets(config, {}) == [url]
    mask = SecretMask(known_secrets(config, {}))
    assert mask.mask(f"calling {url} failed") == "calling *** failed"
