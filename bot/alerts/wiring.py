"""Wires the scheduled checks and alerts from the configuration: stores, service, outbox, timing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.forecast_wiring import forecast_alerts, forecast_timing
from bot.alerts.heartbeat_url import HeartbeatUrl
from bot.alerts.history import History
from bot.alerts.lifecycle import AlertPolicy
from bot.alerts.liveness import Liveness
from bot.alerts.outbox import Outbox, replica_id
from bot.alerts.replicas import ReplicaStatus
from bot.alerts.schedule.driver import Driver
from bot.alerts.schedule.plan import SchedulePolicy, jitter_for
from bot.alerts.schedule.runner import Scheduler
from bot.alerts.schedule.store import ScheduleStore
from bot.alerts.service import AlertService
from bot.alerts.silences import ActiveSilence, SilenceStore
from bot.alerts.store import AlertStore, Destinations
from bot.alerts.summary_job import WeeklySummaryJob
from bot.alerts.verify import Verifier
from bot.alerts.verify_plan import VerifyPolicy
from bot.alerts.verify_store import OutcomeStore
from bot.config import AlertSettings, Config, ForecastSettings, VerifySettings
from bot.i18n import catalog
from bot.slack.authz import Authorizer
from bot.slack.client import ACK_PATH_TIMEOUT_S, single_try_client
from checks.fleet import Collect
from checks.report import Status
from checks.windows import Window

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock; tests pass their own."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Alerting:
    """Everything behind scheduled alerts, and who may act on them."""

    service: AlertService
    driver: Driver
    outbox: Outbox
    scheduler: Scheduler
    responders: Authorizer
    settings: AlertSettings
    clock: Clock

    def planned_windows(self) -> list[Window]:
        """The stored plan: each server's window and check time (in the server's time zone),
        without contacting anyone."""
        current = self.driver.plan(give_up=False)
        spread = schedule_policy(self.settings).jitter
        windows = []
        for server in self.service.inventory.resolved():
            at = current.windows.get(server.name)
            if at is None:
                windows.append(Window(server.name, None, None, None))
                continue
            zone = self.service.zone(server.name)
            lead = timedelta(minutes=server.lead_time_min) + jitter_for(server.name, spread)
            windows.append(
                Window(server.name, at.astimezone(zone), (at - lead).astimezone(zone), None)
            )
        return sorted(
            windows, key=lambda w: (w.next_backup_at is None, w.next_backup_at or 0, w.server)
        )

    def status(self, now: datetime) -> ReplicaStatus:
        """The replicas, what each holds, and the servers' schedules, as stored."""
        liveness = self.scheduler.liveness
        if liveness is None:  # built by hand without liveness (some tests)
            return ReplicaStatus([], {}, {}, {})
        return liveness.store.status(now)

    def silences_shown(self) -> dict[str, ActiveSilence]:
        """Active silences, with their end in each server's time zone."""
        return {
            name: replace(silence, until=silence.until.astimezone(self.service.zone(name)))
            for name, silence in self.service.silences.active(self.clock()).items()
        }

    def deliver_soon(self) -> None:
        """Deliver what an action just enqueued without waiting for the next outbox round."""
        if self.scheduler.running:
            self.scheduler.apscheduler.modify_job("outbox", next_run_time=datetime.now(UTC))
        else:
            self.outbox.deliver_due()


def on_call_mention(settings: AlertSettings) -> str:
    """Slack markup that notifies the on-call group and users."""
    mentions = [f"<!subteam^{settings.on_call_usergroup}>"] if settings.on_call_usergroup else []
    mentions += [f"<@{user}>" for user in settings.on_call_users]
    return " ".join(mentions)


def alert_policy(settings: AlertSettings) -> AlertPolicy:
    """The lifecycle's timing and threshold from the config."""
    return AlertPolicy(
        min_severity=Status(settings.min_severity),
        escalate_after=timedelta(minutes=settings.escalate_after_min),
        escalate_before_window=timedelta(minutes=settings.escalate_before_window_min),
    )


def schedule_policy(
    settings: AlertSettings, forecast: ForecastSettings | None = None
) -> SchedulePolicy:
    """The scheduler's timing from the config (with forecast: its surveys and forecasts)."""
    return SchedulePolicy(
        recheck_before=timedelta(minutes=settings.recheck_before_min),
        jitter=timedelta(seconds=settings.jitter_s),
        grace=timedelta(minutes=settings.misfire_grace_min),
        forecast=forecast_timing(forecast) if forecast is not None else None,
    )


def verify_policy(settings: VerifySettings, alerts: AlertSettings) -> VerifyPolicy:
    """The verification's timing from the config."""
    return VerifyPolicy(
        min_severity=Status(alerts.min_severity),
        enabled=settings.enabled,
        delay=timedelta(minutes=settings.delay_min),
        every=timedelta(minutes=settings.every_min),
        timeout=timedelta(minutes=settings.timeout_min),
        post_success=settings.post_success,
    )


def build_alerting(
    config: Config,
    sessions: sessionmaker[Session],
    client: WebClient,
    collect: Collect,
    clock: Clock = utc_now,
    *,
    demo: bool = False,
) -> Alerting:
    """The alert subsystem; `config.alerts.channel` must be set (`demo`: see Destinations)."""
    settings = config.alerts
    if settings.channel is None:
        raise ValueError("alerts.channel is not set")
    destinations = Destinations(
        settings.channel,
        on_call_mention(settings),
        settings.escalation_channel,
        settings.digest_threshold,
        demo,
    )
    service = AlertService(
        config,
        collect,
        AlertStore(sessions, destinations),
        ScheduleStore(sessions),
        SilenceStore(sessions),
        History(sessions),
        alert_policy(settings),
        catalog(config.language),
        clock,
        trend_horizon=timedelta(days=config.forecast.horizon_days),
    )
    timing = schedule_policy(settings, config.forecast)
    # One id per build, shared by the checks' claims, the outbox's and the heartbeat, so that
    # the status view can say what each replica holds; replicas in one test process are as
    # distinct as processes.
    replica = replica_id()
    verifier = Verifier(
        service,
        collect,
        OutcomeStore(sessions),
        verify_policy(config.verify, settings),
        catalog(config.language),
        clock,
    )
    outbox = Outbox(
        sessions,
        single_try_client(str(client.token), client.base_url),
        clock,
        timedelta(seconds=settings.edit_interval_s),
        replica=replica,
    )
    # The charts' own client: one attempt per call, each within the outbox's timeout.
    charts = single_try_client(str(client.token), client.base_url)
    forecaster = forecast_alerts(config, service, sessions, timing.jitter, clock, outbox, charts)
    lease = timedelta(seconds=settings.lease_s)
    driver = Driver(
        service, timing, clock, replica, lease, verifier=verifier, forecaster=forecaster
    )
    url = HeartbeatUrl(settings.heartbeat_url) if settings.heartbeat_url else None
    t = catalog(config.language)
    liveness = Liveness(sessions, service, settings.channel, t, replica, timing, clock, url)
    scheduler = Scheduler(
        driver,
        service,
        outbox,
        timing,
        timedelta(days=settings.retention_days),
        settings.scheduler_workers,
        clock,
        liveness,
        timedelta(seconds=settings.shutdown_grace_s),
    )
    if config.summary.weekly_at is not None:
        summary = WeeklySummaryJob(config, sessions, t, clock, replica, lease)
        scheduler.summary = summary.run_due
    responders = Authorizer(
        single_try_client(str(client.token), client.base_url, ACK_PATH_TIMEOUT_S),
        settings.responder_users,
        settings.responder_usergroups,
        refusal_key="alerts.not_responder",
    )
    return Alerting(service, driver, outbox, scheduler, responders, settings, clock)
