"""The forecast alert's chart: once the morning forecast has stored an alert at risk, each volume
at risk gets its chart (bot.charts) in the alert's thread, at most once a day across runs and
replicas (alerts.chart_day). A chart that cannot be drawn or uploaded costs one log line and is
not tried again that day; the alert itself is stored and posted before any of this."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.forecast_alerts import AtRiskAlert, ForecastAlerts
from bot.alerts.forecast_chart_plan import ChartState, Skip, chart_skip, charted
from bot.alerts.outbox import Outbox
from bot.alerts.service import AlertService
from bot.charts.cache import volume_png
from bot.charts.plan import chart_filename
from bot.charts.series import LOOKBACK, volume_series, volume_trend, windows_ahead
from bot.slack.blocks import escape
from bot.storage.models import Alert as AlertRow
from bot.storage.models import OutboxMessage
from checks.i18n import Catalog
from checks.inventory import Server
from checks.windows import server_zone

logger = logging.getLogger(__name__)


class ForecastCharts:
    """Puts the chart of a forecast alert's volumes at risk into the alert's thread."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        outbox: Outbox,
        client: WebClient,
        service: AlertService,
        t: Catalog,
        horizon: timedelta,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._client = client
        self._service = service
        self._t = t
        self._horizon = horizon

    def __call__(self, found: AtRiskAlert) -> None:
        """Upload today's chart into the alert's thread, unless it is not due (chart_skip)."""
        name = found.server.name
        context = {"host": name, "alert_id": found.alert_id}
        # The alert's message first, in this thread: its ts is the thread the chart goes in.
        self._outbox.deliver_due()
        discovered = self._service.schedule.discovered().get(name, (None, None))[0]
        zone = server_zone(found.server, discovered)
        today = found.now.astimezone(zone).date()
        target = self._claim(found, today)
        if isinstance(target, Skip):
            if target is Skip.NOT_POSTED:
                logger.info("no forecast chart for %s today: %s", name, target, extra=context)
            return
        channel, thread_ts = target
        try:
            uploads = self._render(found, discovered, zone, today)
        except Exception as error:  # noqa: BLE001 - whatever the drawing raised, the alert stands
            logger.warning(
                "the forecast chart of %s could not be drawn (%s)",
                name,
                type(error).__name__,
                extra=context,
            )
            return
        if not uploads:
            return  # no stored readings of the volumes at risk left (pruned meanwhile)
        try:
            self._client.files_upload_v2(
                channel=channel,
                thread_ts=thread_ts,
                file_uploads=uploads,
                initial_comment=self._t.text("forecast_alert.chart_comment", server=escape(name)),
            )
        except SlackApiError as error:
            reason = str(error.response.get("error") or error.response.status_code)
        except (SlackClientError, OSError) as error:  # the upload URL refused, or a dropped line
            reason = type(error).__name__
        else:
            logger.info("put the forecast chart in %s's alert thread", name, extra=context)
            return
        logger.warning(
            "the forecast chart of %s could not be uploaded (%s); the alert stands",
            name,
            reason,
            extra=context,
        )

    def _claim(self, found: AtRiskAlert, today: date) -> tuple[str, str] | Skip:
        """The alert's channel and thread ts, with today's chart claimed for this run; else why
        not. The claim is one conditional update, so two runs or replicas never both win it."""
        with self._sessions.begin() as session:
            row = session.get(AlertRow, found.alert_id)
            if row is None:
                return Skip.GONE
            post = session.scalar(
                select(OutboxMessage).where(OutboxMessage.idempotency_key == f"alert-{row.id}/post")
            )
            state = ChartState(
                resolved_at=row.resolved_at,
                silenced_until=row.silenced_until,
                in_digest=row.digest_key is not None,
                charted_on=row.chart_day,
                thread_ts=post.result_ts if post is not None else None,
            )
            skip = chart_skip(state, found.now, today)
            if skip is not None or post is None or state.thread_ts is None:
                return skip or Skip.NOT_POSTED
            claimed = session.execute(
                update(AlertRow)
                .where(
                    AlertRow.id == row.id,
                    or_(AlertRow.chart_day.is_(None), AlertRow.chart_day != today),
                )
                .values(chart_day=today)
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return Skip.CHARTED  # another run or replica claimed it since we looked
            return str(post.payload.get("channel") or row.channel), state.thread_ts

    def _render(
        self, found: AtRiskAlert, discovered: datetime | None, zone: tzinfo, today: date
    ) -> list[dict[str, Any]]:
        """The upload of each chart: the PNG (from the shared cache), its name and title."""
        server, now, t = found.server, found.now, self._t
        readings = self._service.history.series(server.name, now - LOOKBACK)
        windows = windows_ahead(server, discovered, now, zone, self._horizon)
        at_risk = dict(found.volumes)
        trends = [
            volume_trend(server, s, windows, now, zone, self._horizon)
            for s in volume_series(readings)
            if s.volume_id in at_risk
        ]
        uploads = []
        for trend in charted(trends, at_risk):
            label = trend.series.label
            title = t.text("trend.chart_title", server=server.name, volume=label)
            uploads.append(
                {
                    "file": volume_png(trend, t),
                    "filename": chart_filename(server.name, label, today),
                    "title": title,
                    "alt_txt": title,
                }
            )
        return uploads


class ForecastJob:
    """The forecast job's work on one server: decide its alert, then chart it when at risk."""

    def __init__(self, alerts: ForecastAlerts, charts: ForecastCharts) -> None:
        self.alerts = alerts
        self.charts = charts

    def __call__(self, server: Server) -> None:
        found = self.alerts(server)
        if found is not None:
            self.charts(found)
