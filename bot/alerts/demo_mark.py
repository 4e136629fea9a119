"""Marks a Slack message as coming from `backupcheck demo`. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.models.blocks import ContextBlock

from bot.slack.blocks import MAX_BLOCKS, MAX_TEXT, clip, mrkdwn
from checks.i18n import Catalog


def demo_marked(payload: Mapping[str, Any], t: Catalog) -> dict[str, Any]:
    """The payload with its text prefixed and, when it has blocks, a context line on top: the
    demo posts into a real channel, where nobody should take it for a real server."""
    marked = dict(payload)
    marked["text"] = clip(f"{t.text('demo.prefix')} {payload.get('text', '')}", MAX_TEXT)
    if "blocks" in payload:
        line = ContextBlock(elements=[mrkdwn(t.text("demo.context"))]).to_dict()
        # A message already at Slack's block limit loses its last block rather than being refused.
        marked["blocks"] = [line, *payload["blocks"]][:MAX_BLOCKS]
    return marked
