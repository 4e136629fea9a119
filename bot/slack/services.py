"""What every listener needs, wired once at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.i18n import catalog
from bot.slack.authz import Authorizer
from bot.slack.check_pool import CheckService
from bot.slack.language import LanguagePicker
from checks.i18n import Catalog

if TYPE_CHECKING:
    from bot.alerts.wiring import Alerting


@dataclass(frozen=True)
class Services:
    """The check pool, the authorizer, the language picker and (when configured) the alerts."""

    checks: CheckService
    authorizer: Authorizer
    languages: LanguagePicker
    command: str
    alerting: Alerting | None = None

    def responder_refusal(self, user_id: str, channel_id: str | None) -> str | None:
        """Why this user may not act on alerts (None: they may); no responders: check users may."""
        if self.alerting is None:
            return "slack.not_allowed"
        if self.alerting.responders.open_to_everyone:
            return self.authorizer.refusal(user_id, channel_id)
        return self.alerting.responders.refusal(user_id, channel_id)

    def catalog_for(self, user_id: str) -> Catalog:
        """The catalog in the user's language."""
        return catalog(self.languages.for_user(user_id))
