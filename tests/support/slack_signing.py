"""HTTP-mode requests as Slack sends them: signed, form-encoded slash commands and actions.

``sign`` implements Slack's v0 request signing (HMAC-SHA256 of ``v0:<timestamp>:<body>`` keyed
with the signing secret); the body builders share their payloads with the Socket Mode stand-in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import requests

from .slack_workspace import TsClock, Workspace, block_actions_payload, slash_command_payload

__all__ = [
    "FORM_CONTENT_TYPE",
    "NOWHERE_RESPONSE_URL",
    "SLACK_USER_AGENT",
    "block_action_body",
    "post",
    "sign",
    "slash_command_body",
]

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
SLACK_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
# Default response URL: loopback port 9 (discard) refuses connections, so a test that forgot
# to pass stand_in.response_url() fails fast instead of reaching out to the internet.
NOWHERE_RESPONSE_URL = "http://127.0.0.1:9/response/unset"
_clock = TsClock()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Slack's signature headers for ``body`` sent at ``timestamp`` (default: now)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def slash_command_body(
    command: str = "/backupcheck",
    text: str = "fs01",
    user_id: str = "U123",
    channel_id: str = "C123",
    *,
    user_name: str = "alice",
    channel_name: str = "ops",
    response_url: str = NOWHERE_RESPONSE_URL,
    trigger_id: str | None = None,
    workspace: Workspace | None = None,
) -> bytes:
    """A slash command as the form fields Slack POSTs."""
    fields = slash_command_payload(
        workspace or Workspace(),
        command=command,
        text=text,
        user_id=user_id,
        user_name=user_name,
        channel_id=channel_id,
        channel_name=channel_name,
        response_url=response_url,
        trigger_id=trigger_id,
    )
    return urlencode(fields).encode()


def block_action_body(
    action_id: str,
    value: str = "",
    user_id: str = "U123",
    channel_id: str = "C123",
    message_ts: str | None = None,
    *,
    user_name: str = "alice",
    channel_name: str = "ops",
    blocks: list[dict[str, Any]] | None = None,
    response_url: str = NOWHERE_RESPONSE_URL,
    workspace: Workspace | None = None,
) -> bytes:
    """A button click as Slack POSTs it: one form field ``payload`` holding JSON."""
    ws = workspace or Workspace()
    if blocks is None:
        button = {
            "type": "button",
            "action_id": action_id,
            "value": value,
            "text": {"type": "plain_text", "text": "Button"},
        }
        blocks = [{"type": "actions", "block_id": "actions", "elements": [button]}]
    message = {
        "user": ws.bot_user_id,
        "type": "message",
        "ts": message_ts or _clock.next(),
        "bot_id": ws.bot_id,
        "app_id": ws.app_id,
        "text": "",
        "team": ws.team_id,
        "blocks": blocks,
    }
    payload = block_actions_payload(
        ws,
        action_id=action_id,
        value=value,
        user_id=user_id,
        user_name=user_name,
        channel_id=channel_id,
        channel_name=channel_name,
        message=message,
        response_url=response_url,
        action_ts=_clock.next(),
    )
    return urlencode({"payload": json.dumps(payload)}).encode()


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str, float]:
    """POSTs like Slack (form content type, Slackbot user agent); returns status, text, seconds."""
    all_headers = {"Content-Type": FORM_CONTENT_TYPE, "User-Agent": SLACK_USER_AGENT, **headers}
    started = time.monotonic()
    response = requests.post(url, data=body, headers=all_headers, timeout=10)
    return response.status_code, response.text, time.monotonic() - started
