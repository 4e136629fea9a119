"""What every listener needs, wired once at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from bot.authz import Authorizer
from bot.check_service import CheckService
from bot.i18n import catalog
from bot.user_language import LanguagePicker
from checks.i18n import Catalog


@dataclass(frozen=True)
class Services:
    """The check pool, the authorizer and the language picker."""

    checks: CheckService
    authorizer: Authorizer
    languages: LanguagePicker
    command: str

    def catalog_for(self, user_id: str) -> Catalog:
        """The catalog in the user's language."""
        return catalog(self.languages.for_user(user_id))
