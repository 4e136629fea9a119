"""Log output of the long-running bot: text or one JSON object per line, secrets masked."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from bot.config import Config
from bot.display import visible

# Context a log call may pass in `extra=`; the JSON lines carry them as fields.
CONTEXT_FIELDS = ("host", "check_id", "alert_id", "job")
MASK = "***"
# Shorter values would mask ordinary words; real tokens and passwords are longer.
MIN_SECRET_LENGTH = 6
SLACK_SECRETS = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and the context fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in CONTEXT_FIELDS:
            value = record.__dict__.get(field)
            if value is not None:
                entry[field] = value
        if record.exc_info:
            entry["error"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """One line per record: a host's text (a label, an error it sent) cannot forge more lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return visible(super().formatMessage(record))


class SecretMask(logging.Filter):
    """Replaces every known secret in a record's text, whichever library logged it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted(
            {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True
        )

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        text = record.getMessage()
        masked = self.mask(text)
        if masked != text:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_text is None:
            record.exc_text = self.mask(logging.Formatter().formatException(record.exc_info))
        return True

    def mask(self, text: str) -> str:
        """The text with every secret replaced by ***."""
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text


def known_secrets(config: Config, environ: Mapping[str, str]) -> list[str]:
    """The values that must never be logged: Slack tokens, the credentials' passwords and the
    heartbeat URL (a healthchecks.io ping URL's path is the check's token)."""
    secrets = [config.alerts.heartbeat_url or ""]
    for name in SLACK_SECRETS:
        secrets.append(environ.get(name, ""))
        if environ.get(f"{name}_FILE"):  # Docker secrets
            secrets.append(_read(environ[f"{name}_FILE"]))
    for profile in config.credentials.values():
        if profile.password_env:
            secrets.append(environ.get(profile.password_env, ""))
        if profile.password_file:
            secrets.append(_read(str(profile.password_file)))
    return [s for s in secrets if s]


def configure_logging(log_format: str, secrets: Iterable[str], level: int = logging.INFO) -> None:
    """Send logs to stderr in the chosen format, with secrets masked on every handler."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretMask(secrets))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # alembic announces every migration step, and APScheduler every job it adds or runs (the
    # outbox's every 2 s), at INFO; the bot logs its own line per check and alert event instead.
    for chatty in ("alembic", "apscheduler"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    skipped = logging.getLogger("apscheduler.scheduler")
    if not any(isinstance(f, SkippedRuns) for f in skipped.filters):
        skipped.addFilter(SkippedRuns())


class SkippedRuns(logging.Filter):
    """Drops APScheduler's warning that an outbox run was skipped because the last one goes on."""

    # The outbox runs every 2 s: while Slack is slow it would repeat every 2 s, and the
    # delivery logs what it could not post. Any other job skipped is worth its line.
    def filter(self, record: logging.LogRecord) -> bool:
        """False for the outbox's skipped-run warning only."""
        if "maximum number of running instances" not in str(record.msg):
            return True
        job = record.args[0] if isinstance(record.args, tuple) and record.args else None
        return getattr(job, "id", None) != "outbox"


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError:
        return ""
