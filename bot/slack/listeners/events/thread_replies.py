"""`ack`, `unack` and `escalate` typed as a reply in an alert's thread act like its buttons."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.alerts.service import Action
from bot.slack.services import Services

logger = logging.getLogger(__name__)
# What people type, in either language; anything else in the thread is conversation.
REPLY_WORDS = {
    "ack": Action.ACKNOWLEDGE,
    "acknowledge": Action.ACKNOWLEDGE,
    "対応": Action.ACKNOWLEDGE,
    "unack": Action.UNACKNOWLEDGE,
    "unacknowledge": Action.UNACKNOWLEDGE,
    "対応取消": Action.UNACKNOWLEDGE,
    "escalate": Action.ESCALATE,
    "エスカレーション": Action.ESCALATE,
}


def reply_action(text: str) -> Action | None:
    """The action a thread reply asks for: one word, any case, with or without a mention first."""
    words = text.replace("\u3000", " ").split()
    if words and words[0].startswith("<@"):
        words = words[1:]
    if len(words) != 1:
        return None
    return REPLY_WORDS.get(words[0].strip(".!。！").casefold())


def handle_thread_reply(services: Services, event: dict[str, Any], client: WebClient) -> None:
    """Act on an alert when a person replies with one of REPLY_WORDS in its thread."""
    alerting = services.alerting
    thread_ts, user = event.get("thread_ts"), event.get("user")
    # Edits, joins and bots' own messages (ours included) carry a subtype or a bot_id.
    if alerting is None or event.get("subtype") or event.get("bot_id") or not user:
        return
    if not thread_ts or thread_ts == event.get("ts"):
        return
    action = reply_action(str(event.get("text", "")))
    if action is None:
        return
    channel = str(event.get("channel", ""))
    refusal = services.responder_refusal(user, channel)
    stored = alerting.service.alerts.find_by_message(str(thread_ts))
    # "ack" in any other thread is conversation, so only an alert's thread gets an answer; the
    # user sees that thread in the channel already, so the answer reveals nothing new.
    if stored is None:
        return
    if refusal is not None:
        t = services.catalog_for(user)
        try:
            client.chat_postEphemeral(
                channel=channel, user=user, thread_ts=str(thread_ts), text=t.text(refusal)
            )
        except SlackApiError as error:
            logger.warning("could not tell %s why not: %s", user, error.response.get("error"))
        return
    alerting.service.act(stored.alert.server, stored.alert.window_at, action, user)
    alerting.deliver_soon()
