"""The one error type collectors raise: a sentence a person can act on, and whether to retry."""

from __future__ import annotations


class CollectError(Exception):
    """Collecting a host's facts failed; `reason` is one sentence for the user."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        # A permanent error (bad password, unknown host) is not worth retrying before a fix.
        self.permanent = permanent
