"""The one error type collectors raise: a catalog message to act on, and whether to retry."""

from __future__ import annotations

from functools import cache

from checks.i18n import Catalog


@cache
def _english() -> Catalog:
    return Catalog("en")


class CollectError(Exception):
    """Collecting a host's facts failed; the message is `collect.<key>` of the message catalog."""

    def __init__(self, key: str, *, permanent: bool = False, **params: object) -> None:
        self.key = key
        self.params = params
        # A permanent error (bad password, unknown host) is not worth retrying before a fix.
        self.permanent = permanent
        super().__init__(self.reason)

    def text(self, catalog: Catalog) -> str:
        """The sentence in the catalog's language."""
        return catalog.text(f"collect.{self.key}", **self.params)

    @property
    def reason(self) -> str:
        """The sentence in English, for logs."""
        return self.text(_english())

    def scrubbed(self, secret: str) -> CollectError:
        """The same error with a secret masked wherever a parameter carries it."""
        if not secret:
            return self
        params = {
            k: str(v).replace(secret, "***") if isinstance(v, str) else v
            for k, v in self.params.items()
        }
        return CollectError(self.key, permanent=self.permanent, **params)
