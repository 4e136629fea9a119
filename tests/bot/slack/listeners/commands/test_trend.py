"""`/backupcheck trend SERVER [VOLUME]` over Socket Mode: the ack at once, the figures through the
response URL, and each volume's chart uploaded into the channel with files_upload_v2."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image

from bot.charts.draw import HEIGHT_PX, WIDTH_PX
from checks.evaluate import evaluate
from checks.i18n import Catalog
from checks.snapshot import Snapshot
from checks.units import MB
from tests.bot.conftest import ALERT_CHANNEL, AlertBot, Bot, alert_config, running_alert_bot
from tests.support.fleet import SimulatedFleet
from tests.support.slack_api import SlackStandIn
from tests.support.slack_blocks import check_blocks
from tests.support.slack_workspace import SlackChannel

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def history(alert_bot: AlertBot, load_snapshot: Callable[[str], Snapshot], en: Catalog) -> AlertBot:
    """20 days of fs01, read every 6 hours: D: loses 300 MB a day and has 1.5 GB left now."""
    seed = load_snapshot("seed-incident")
    now = alert_bot.clock()
    for k in range(20 * 4, -1, -1):
        volumes = [
            v.model_copy(update={"free_bytes": 1536 * MB + 300 * MB * k // 4})
            if v.letter == "D:"
            else v
            for v in seed.volumes
        ]
        snapshot = seed.model_copy(update={"host": "fs01", "volumes": volumes})
        report = evaluate(snapshot, now - timedelta(hours=6 * k), en)
        alert_bot.alerting.service.history.record(report)
    return alert_bot


def _text(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(str((b.get("text") or {}).get("text", "")) for b in blocks)


def test_the_figures_answer_and_the_chart_arrives_in_the_channel(
    history: AlertBot, stand_in: SlackStandIn
) -> None:
    ack = stand_in.deliver_slash_command(text="trend fs01 d:").wait_ack(3.0)
    assert ack.payload == {"text": "Reading fs01's history…"}
    (answer,) = stand_in.wait_for_response(1, timeout=20)
    assert answer.body is not None
    assert answer.body["response_type"] == "ephemeral"
    check_blocks(answer.body["blocks"])
    text = _text(answer.body["blocks"])
    assert "fs01: free-space trend until Dec 1, 2026, 7:00:00\u202fPM JST" in text
    assert "*D:*: 1.5 GB free of 40 GB. Trend: falls 300 MB/day." in text
    assert "First failing backup: Nov 26, 2026, 9:00:00\u202fPM JST: below 1 GB" in text
    assert "D: over the last 30 days (each day's lowest free space): `" in text
    assert "C:" not in text
    (chart,) = stand_in.files.wait_shared(1, timeout=20)
    assert chart.channel == ALERT_CHANNEL  # where the command was typed
    assert chart.filename == "fs01-D-2026-11-24.png"  # the server's day
    assert chart.title == "Free space on fs01 D:"
    assert chart.initial_comment == "fs01: free space over the last 30 days, and the forecast"
    image = Image.open(io.BytesIO(chart.data or b""))
    assert (image.format, image.size) == ("PNG", (WIDTH_PX, HEIGHT_PX))
    assert history.fleet.http_requests_for("fs01") == 0  # read from the history, not checked


def test_every_volume_in_the_backup_gets_its_figures_and_chart_worst_first(
    history: AlertBot, stand_in: SlackStandIn
) -> None:
    stand_in.deliver_slash_command(text="trend fs01 public").wait_ack(3.0)
    (answer,) = stand_in.wait_for_response(1, timeout=20)
    assert answer.body is not None
    assert answer.body["response_type"] == "in_channel"
    text = _text(answer.body["blocks"])
    assert text.index("*D:*") < text.index("*C:*")  # the failing one first
    assert "*E:*" in text
    charts = stand_in.files.wait_shared(3, timeout=30)
    assert [c.filename for c in charts] == [f"fs01-{v}-2026-11-24.png" for v in "DCE"]
    assert len(stand_in.calls("files.completeUploadExternal")) == 1


def test_a_refused_upload_costs_one_sentence_and_not_the_figures(
    history: AlertBot, stand_in: SlackStandIn
) -> None:
    stand_in.channels["C777"] = SlackChannel("C777", "elsewhere", is_member=False)
    stand_in.deliver_slash_command(text="trend fs01 D:", channel_id="C777").wait_ack(3.0)
    figures, failure = stand_in.wait_for_response(2, timeout=20)
    assert figures.body is not None
    assert "*D:*: 1.5 GB free of 40 GB." in _text(figures.body["blocks"])
    assert failure.body is not None
    assert failure.body["text"] == (
        "The chart could not be uploaded to this channel (not_in_channel); "
        "the figures above are complete."
    )
    assert stand_in.files.shared() == []


def test_slack_failing_during_the_upload_costs_one_sentence_after_its_retries(
    history: AlertBot, stand_in: SlackStandIn
) -> None:
    # The Web API client retries a 5xx twice; the third failure is the answer.
    stand_in.queue_response("files.getUploadURLExternal", status=503, times=3)
    stand_in.deliver_slash_command(text="trend fs01 D:").wait_ack(3.0)
    figures, failure = stand_in.wait_for_response(2, timeout=30)
    assert figures.body is not None
    assert "*D:*: 1.5 GB free of 40 GB." in _text(figures.body["blocks"])
    assert failure.body is not None
    assert failure.body["text"] == (
        "The chart could not be uploaded to this channel (internal_error); "
        "the figures above are complete."
    )
    assert len(stand_in.calls("files.getUploadURLExternal")) == 3
    assert stand_in.files.shared() == []


def test_a_volume_without_history_is_answered_in_one_sentence(
    history: AlertBot, stand_in: SlackStandIn
) -> None:
    stand_in.deliver_slash_command(text="trend fs01 X:").wait_ack(3.0)
    (answer,) = stand_in.wait_for_response(1, timeout=20)
    assert answer.body is not None
    assert answer.body["text"] == "fs01 has no volume 'X:' in its history; it has C:, D:, E:."
    assert stand_in.calls("files.getUploadURLExternal") == []


def test_a_server_without_history_says_so(alert_bot: AlertBot, stand_in: SlackStandIn) -> None:
    stand_in.deliver_slash_command(text="trend fs01").wait_ack(3.0)
    (answer,) = stand_in.wait_for_response(1, timeout=20)
    assert answer.body is not None
    assert answer.body["text"] == (
        "There is no stored history for fs01 in the last 30 days: the bot records each "
        "check's figures once it checks the server."
    )


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("trend fs1", "unknown server 'fs1'. Did you mean fs01?"),
        (
            "trend evil.example D:",
            "unknown server 'evil.example': it is not in the config's servers.",
        ),
    ],
)
def test_unknown_servers_are_refused_in_the_ack(
    alert_bot: AlertBot, stand_in: SlackStandIn, text: str, sentence: str
) -> None:
    ack = stand_in.deliver_slash_command(text=text).wait_ack(3.0)
    assert ack.payload == {"text": sentence}


def test_trend_without_scheduled_alerts_says_no_history_is_kept(
    stand_in: SlackStandIn, socket_bot: Bot
) -> None:
    ack = stand_in.deliver_slash_command(text="trend fs01").wait_ack(3.0)
    assert ack.payload == {
        "text": "The trend needs the bot's history: scheduled alerts (alerts.channel) are not "
        "set up, so no history is kept."
    }


def test_a_user_who_may_not_run_checks_cannot_tell_which_servers_exist(
    stand_in: SlackStandIn, evening_fleet: SimulatedFleet, database_url: str
) -> None:
    config = alert_config(evening_fleet)
    slack = config.slack.model_copy(update={"allowed_users": ["U999"]})
    config = config.model_copy(update={"slack": slack})
    with running_alert_bot(stand_in, evening_fleet, database_url, config):
        answers = [
            stand_in.deliver_slash_command(text=text, user_id="U123").wait_ack(3.0).payload
            for text in ("trend fs01 D:", "trend nosuch D:")
        ]
    assert answers[0] == answers[1]
    assert str(answers[0]).startswith("{'text': 'You are not allowed to run backupcheck here.")
    assert stand_in.calls("files.getUploadURLExternal") == []
