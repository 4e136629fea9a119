"""Response URLs as Slack runs them: at most 5 posts each, within 30 minutes of issue.

Further posts answer HTTP 404 ``{"ok": false, "error": "used_too_many_times"}``; posts to an
unknown or expired URL answer 404 ``{"ok": false, "error": "expired_url"}``; a body that is not a
JSON object answers 400 ``invalid_payload``. Slack documents the limits but not these exact
bodies: the error strings are the ones its response URLs are reported to return, in the
``ok``/``error`` JSON shape they answer with. Rejected posts are recorded too.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_POSTS", "TTL_SECONDS", "ResponsePost", "ResponseUrls"]

MAX_POSTS = 5
TTL_SECONDS = 30 * 60.0


@dataclass(frozen=True)
class ResponsePost:
    """One POST to a response URL; ``status`` is what the stand-in answered."""

    id: str
    body: dict[str, Any] | None
    raw: bytes
    headers: dict[str, str]
    at: float
    status: int


@dataclass
class _Issued:
    created: float
    posts: int = 0


class ResponseUrls:
    """Issues response-URL ids and records what is posted to them (thread-safe)."""

    def __init__(self) -> None:
        self.ttl = TTL_SECONDS
        self._cond = threading.Condition()
        self._issued: dict[str, _Issued] = {}
        self._posts: list[ResponsePost] = []

    def issue(self, name: str | None = None) -> str:
        """A new id (or ``name``, reused if already issued)."""
        url_id = name or uuid.uuid4().hex
        with self._cond:
            self._issued.setdefault(url_id, _Issued(time.monotonic()))
        return url_id

    def post(self, url_id: str, raw: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """Records a POST and returns the HTTP status and JSON body to answer with."""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        with self._cond:
            issued = self._issued.get(url_id)
            if issued is None or time.monotonic() - issued.created > self.ttl:
                status, answer = 404, {"ok": False, "error": "expired_url"}
            elif issued.posts >= MAX_POSTS:
                status, answer = 404, {"ok": False, "error": "used_too_many_times"}
            elif not isinstance(body, dict):
                status, answer = 400, {"ok": False, "error": "invalid_payload"}
            else:
                issued.posts += 1
                status, answer = 200, {"ok": True}
            valid_body = body if isinstance(body, dict) else None
            self._posts.append(ResponsePost(url_id, valid_body, raw, headers, time.time(), status))
            self._cond.notify_all()
        return status, answer

    def posts(self, id: str | None = None) -> list[ResponsePost]:
        """All posts, or those to one URL (given as id or as the full URL)."""
        key = id.rstrip("/").rsplit("/", 1)[-1] if id else None
        with self._cond:
            return [p for p in self._posts if key is None or p.id == key]

    def wait(
        self, count: int = 1, timeout: float = 5.0, id: str | None = None
    ) -> list[ResponsePost]:
        """Blocks until ``count`` posts arrived (optionally to one URL); returns them all."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.posts(id)) >= count, timeout):
                seen = [(p.id, p.status, p.body) for p in self._posts]
                raise AssertionError(
                    f"waited {timeout}s for {count} response-URL post(s) to {id or 'any URL'}; "
                    f"posts so far: {seen or 'none'}"
                )
            return self.posts(id)

    def clear(self) -> None:
        with self._cond:
            self._posts.clear()
