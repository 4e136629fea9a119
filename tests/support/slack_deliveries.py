"""The Socket Mode half of :class:`~.slack_api.SlackStandIn`: building and sending envelopes.

Envelopes use the stand-in's workspace, its user and channel directory (for ``user_name`` and
``channel_name``), fresh response URLs and the messages the bot posted, so a button click on a
posted message carries that message's blocks and block ids, as on Slack.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from .slack_methods import WebApiMethods
from .slack_socket import Ack, Delivery, SocketModeServer, SocketSession, envelope
from .slack_workspace import (
    TsClock,
    Workspace,
    block_actions_payload,
    event_callback_payload,
    message_event,
    slash_command_payload,
)

__all__ = ["SocketModeSide"]


class SocketModeSide:
    """Delivery helpers; the subclass provides the workspace, directory and servers."""

    workspace: Workspace
    clock: TsClock
    methods: WebApiMethods
    socket: SocketModeServer

    @abstractmethod
    def response_url(self, name: str | None = None) -> str: ...

    def deliver_slash_command(
        self,
        command: str = "/backupcheck",
        text: str = "fs01",
        user_id: str = "U123",
        channel_id: str = "C123",
        *,
        response_url: str | None = None,
        trigger_id: str | None = None,
        session: int | None = None,
    ) -> Delivery:
        """Sends a ``slash_commands`` envelope (its response URL is a fresh stand-in one), over
        the newest open Socket Mode session or the one numbered ``session``."""
        payload = slash_command_payload(
            self.workspace,
            command=command,
            text=text,
            user_id=user_id,
            user_name=self._user_name(user_id),
            channel_id=channel_id,
            channel_name=self._channel_name(channel_id),
            response_url=response_url or self.response_url(),
            trigger_id=trigger_id,
        )
        return self.socket.deliver(
            envelope("slash_commands", payload, accepts_response_payload=True), session=session
        )

    def deliver_block_action(
        self,
        action_id: str,
        value: str = "",
        user_id: str = "U123",
        channel_id: str = "C123",
        message_ts: str | None = None,
        *,
        block_id: str | None = None,
        button_text: str | None = None,
        response_url: str | None = None,
        selected: str | None = None,
        session: int | None = None,
    ) -> Delivery:
        """Sends an ``interactive`` envelope for a button click on the message ``message_ts``
        (with ``selected``: the choice of that option value in a select menu).

        A message the bot posted is used as is; otherwise a one-button message is made up.
        ``session`` as for :meth:`deliver_slash_command`.
        """
        with self.methods.lock:
            message = self.methods.messages.get((channel_id, message_ts or ""))
            if message is None:
                button = {
                    "type": "button",
                    "action_id": action_id,
                    "value": value,
                    "text": {"type": "plain_text", "text": button_text or "Button"},
                }
                blocks = [{"type": "actions", "elements": [button]}]
                message = self.methods.bot_message(message_ts or self.clock.next(), "", blocks)
                self.methods.remember_message(channel_id, message)
        payload = block_actions_payload(
            self.workspace,
            action_id=action_id,
            value=value,
            user_id=user_id,
            user_name=self._user_name(user_id),
            channel_id=channel_id,
            channel_name=self._channel_name(channel_id),
            message=message,
            response_url=response_url or self.response_url(),
            action_ts=self.clock.next(),
            block_id=block_id,
            button_text=button_text,
            selected=selected,
        )
        message = envelope("interactive", payload, accepts_response_payload=False)
        return self.socket.deliver(message, session=session)

    def deliver_event(
        self, event: dict[str, Any], *, retry_attempt: int = 0, retry_reason: str = ""
    ) -> Delivery:
        """Sends an ``events_api`` envelope wrapping ``event`` in an ``event_callback``."""
        payload = event_callback_payload(self.workspace, event)
        message = envelope(
            "events_api",
            payload,
            accepts_response_payload=False,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
        )
        return self.socket.deliver(message)

    def message_event(
        self, text: str, user: str = "U123", channel: str = "C123", thread_ts: str | None = None
    ) -> dict[str, Any]:
        """A user's ``message`` event (a thread reply when ``thread_ts`` is given)."""
        ts = self.clock.next()
        return message_event(text=text, user=user, channel=channel, ts=ts, thread_ts=thread_ts)

    def acks(self) -> list[Ack]:
        return self.socket.acks()

    def wait_connected(self, count: int = 1, timeout: float = 5.0) -> SocketSession:
        """Waits for the ``count``-th Socket Mode session (e.g. 2 after a reconnect)."""
        return self.socket.wait_connected(count, timeout)

    def disconnect_all(self, reason: str | None = "refresh_requested") -> int:
        """Drops every Socket Mode session as Slack does (see SocketModeServer.disconnect_all)."""
        return self.socket.disconnect_all(reason)

    def _user_name(self, user_id: str) -> str:
        user = self.methods.users.get(user_id)
        return user.name if user else user_id.lower()

    def _channel_name(self, channel_id: str) -> str:
        if channel_id.startswith("D"):
            return "directmessage"
        channel = self.methods.channels.get(channel_id)
        return channel.name if channel else channel_id.lower()
