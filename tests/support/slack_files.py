"""Slack's external file upload, as files_upload_v2 uses it: files.getUploadURLExternal issues
an upload URL and a file id, the client POSTs the bytes there, and files.completeUploadExternal
shares the uploaded files in a channel (or keeps them private without one).

Arguments, answers and errors follow https://docs.slack.dev/reference/methods/files.getUploadURLExternal
and https://docs.slack.dev/reference/methods/files.completeUploadExternal: `length` must be the
size of what is uploaded, `files` is a JSON array of {"id", "title"}, the bot must be in the
channel it shares to, and both methods need the files:write scope.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .slack_workspace import SlackChannel, TsClock, Workspace

__all__ = ["FileUploads", "Upload"]

Answer = dict[str, Any]
MAX_FILE_BYTES = 1024 * 1024 * 1024  # Slack's limit per file: 1 GB


@dataclass
class Upload:
    """One file: what getUploadURLExternal was told, what arrived, and where it was shared."""

    file_id: str
    filename: str
    length: int
    alt_txt: str | None
    data: bytes | None = None
    title: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    completed: bool = False
    shared_ts: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class FileUploads:
    """The three steps of an external upload over the workspace's channels."""

    def __init__(
        self,
        ws: Workspace,
        clock: TsClock,
        channels: dict[str, SlackChannel],
        base_url: Callable[[], str],
    ) -> None:
        self.ws = ws
        self.clock = clock
        self.channels = channels
        self.base_url = base_url
        self._lock = threading.Condition()
        self._uploads: dict[str, Upload] = {}

    def handlers(self) -> dict[str, Callable[[dict[str, Any]], Answer]]:
        return {
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete,
        }

    def shared(self, channel: str | None = None) -> list[Upload]:
        """Files shared by files.completeUploadExternal, oldest first (all, or one channel's)."""
        with self._lock:
            done = [u for u in self._uploads.values() if u.completed]
        return [u for u in done if channel is None or u.channel == channel]

    def wait_shared(self, count: int = 1, timeout: float = 5.0) -> list[Upload]:
        """Blocks until `count` files were shared; returns them all."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.shared()) >= count, timeout):
                raise AssertionError(f"waited {timeout}s for {count} shared file(s)")
            return self.shared()

    def receive(self, file_id: str, data: bytes) -> tuple[int, str]:
        """The POST of a file's bytes to its upload URL: (HTTP status, body)."""
        with self._lock:
            upload = self._uploads.get(file_id)
            if upload is None or upload.completed:
                return 404, "Not Found"
            upload.data = data
        return 200, f"OK - {len(data)}"

    def _missing_scope(self) -> Answer | None:
        if "files:write" in self.ws.scopes:
            return None
        provided = ",".join(self.ws.scopes)
        return {
            "ok": False,
            "error": "missing_scope",
            "needed": "files:write",
            "provided": provided,
        }

    def _get_upload_url(self, params: dict[str, Any]) -> Answer:
        refused = self._missing_scope()
        if refused:
            return refused
        filename = str(params.get("filename") or "")
        try:
            length = int(params.get("length", ""))
        except ValueError:
            length = -1
        if not filename or length <= 0 or length > MAX_FILE_BYTES:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = "F" + secrets.token_hex(5).upper()
        alt = params.get("alt_txt")
        with self._lock:
            self._uploads[file_id] = Upload(file_id, filename, length, str(alt) if alt else None)
        return {
            "ok": True,
            "upload_url": f"{self.base_url()}upload/v1/{file_id}",
            "file_id": file_id,
        }

    def _complete(self, params: dict[str, Any]) -> Answer:
        refused = self._missing_scope()
        if refused:
            return refused
        try:
            files = (
                json.loads(params["files"])
                if isinstance(params.get("files"), str)
                else params.get("files")
            )
        except json.JSONDecodeError:
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(files, list) or not files or not all(isinstance(f, dict) for f in files):
            return {"ok": False, "error": "invalid_arguments"}
        channel = str(params.get("channel_id") or "") or None
        if channel is not None:
            known = self.channels.get(channel)
            if known is None:
                return {"ok": False, "error": "channel_not_found"}
            if not known.is_member:
                return {"ok": False, "error": "not_in_channel"}
        with self._lock:
            uploads = [self._uploads.get(str(f.get("id"))) for f in files]
            if any(u is None or u.completed for u in uploads):
                return {"ok": False, "error": "file_not_found"}
            ready = [u for u in uploads if u is not None]
            # Slack checks the bytes that arrived against the length it was told.
            if any(u.data is None or len(u.data) != u.length for u in ready):
                return {"ok": False, "error": "file_upload_size_mismatch"}
            ts = self.clock.next() if channel else None
            for upload, asked in zip(ready, files, strict=True):
                upload.title = str(asked.get("title") or upload.filename)
                upload.channel = channel
                upload.thread_ts = str(params.get("thread_ts") or "") or None
                upload.initial_comment = str(params.get("initial_comment") or "") or None
                upload.shared_ts = ts
                upload.completed = True
            self._lock.notify_all()
            return {"ok": True, "files": [self._file(u) for u in ready]}

    def _file(self, upload: Upload) -> Answer:
        shares: dict[str, Any] = {}
        if upload.channel and upload.shared_ts:
            share = {"ts": upload.shared_ts, "channel_name": self.channels[upload.channel].name}
            if upload.thread_ts:
                share["thread_ts"] = upload.thread_ts
            shares = {"public": {upload.channel: [share]}}
        png = upload.filename.lower().endswith(".png")
        return {
            "id": upload.file_id,
            "created": int(float(upload.shared_ts or self.clock.next())),
            "name": upload.filename,
            "title": upload.title,
            "mimetype": "image/png" if png else "application/octet-stream",
            "filetype": "png" if png else "binary",
            "user": self.ws.bot_user_id,
            "size": upload.length,
            "alt_txt": upload.alt_txt,
            "channels": [upload.channel] if upload.channel else [],
            "shares": shares,
            "is_public": bool(upload.channel),
            "permalink": f"{self.ws.url}files/{self.ws.bot_user_id}/{upload.file_id}",
        }
