"""The alert message: one line with the problem and the window, who has it, and its buttons."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from bot.alerts.lifecycle import AlertPolicy, Effect, acknowledge, escalate, on_check, silence
from bot.alerts.message import (
    ACK_ACTION,
    ALERT_RECHECK_ACTION,
    ESCALATE_ACTION,
    SILENCE_ACTION,
    UNACK_ACTION,
    UNSILENCE_ACTION,
    alert_blocks,
    parse_reference,
    reply_text,
)
from checks.evaluate import evaluate
from checks.i18n import Catalog
from checks.report import Report
from checks.snapshot import Snapshot
from tests.support.slack_blocks import check_blocks

JST = timezone(timedelta(hours=9))
WINDOW = datetime(2026, 11, 24, 21, 0, tzinfo=JST)


def _report(load_snapshot: Callable[[str], Snapshot], t: Catalog) -> Report:
    seed = load_snapshot("seed-incident").model_copy(update={"host": "fs01"})
    return evaluate(seed, WINDOW - timedelta(hours=1), t)


def _dicts(blocks: list[Any]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]


def test_a_new_alert_names_the_problem_and_the_window_and_offers_every_button(
    load_snapshot: Callable[[str], Snapshot], en: Catalog
) -> None:
    report = _report(load_snapshot, en)
    alert = on_check(None, report, WINDOW, WINDOW - timedelta(hours=1), AlertPolicy()).alert
    assert alert is not None
    blocks = _dicts(alert_blocks(alert, report, en, WINDOW))
    check_blocks(blocks)
    assert blocks[0]["text"]["text"] == (
        ":red_circle: *fs01*: D: has 235 MB free, less than the 320 MB a volume shadow copy "
        "needs there. The backup will fail; free at least 85 MB. "
        "The backup runs at Nov 24, 2026, 9:00:00\u202fPM (UTC+09:00)."
    )
    assert blocks[1]["elements"][0]["text"] == "Nobody has acknowledged this alert yet."
    assert [b["action_id"] for b in blocks[2]["elements"]] == [
        ACK_ACTION,
        ESCALATE_ACTION,
        ALERT_RECHECK_ACTION,
        SILENCE_ACTION,
    ]
    silence_menu = blocks[2]["elements"][3]
    assert [o["text"]["text"] for o in silence_menu["options"]] == [
        "For this backup window",
        "For 24 hours",
        "For 7 days",
    ]
    assert parse_reference(silence_menu["options"][1]["value"].rsplit("|", 1)[0]) == (
        "fs01",
        WINDOW,
    )


def test_acknowledged_and_escalated_alerts_say_who_and_change_their_buttons(
    load_snapshot: Callable[[str], Snapshot], en: Catalog, ja: Catalog
) -> None:
    report = _report(load_snapshot, en)
    alert = on_check(None, report, WINDOW, WINDOW - timedelta(hours=1), AlertPolicy()).alert
    assert alert is not None
    escalated = escalate(alert, "auto", WINDOW - timedelta(minutes=30)).alert
    assert escalated is not None
    taken = acknowledge(escalated, "U123", WINDOW - timedelta(minutes=25)).alert
    assert taken is not None
    blocks = _dicts(alert_blocks(taken, report, en, WINDOW))
    assert blocks[1]["elements"][0]["text"] == (
        "Acknowledged by <@U123> at Nov 24, 2026, 8:35:00\u202fPM (UTC+09:00). "
        "Escalated automatically at Nov 24, 2026, 8:30:00\u202fPM (UTC+09:00)."
    )
    assert [b["action_id"] for b in blocks[2]["elements"]] == [
        UNACK_ACTION,
        ALERT_RECHECK_ACTION,
        SILENCE_ACTION,
    ]
    japanese = _dicts(alert_blocks(taken, _report(load_snapshot, ja), ja, WINDOW))
    assert japanese[1]["elements"][0]["text"].startswith(
        "<@U123> が 2026/11/24 20:35:00 (UTC+09:00) に対応を開始しました。"
    )
    assert reply_text(Effect.REPLY_ESCALATED, taken, en, WINDOW, "<!subteam^S123>") == (
        "Escalated to <!subteam^S123>: nobody has taken this alert yet."
    )


def test_a_silenced_alert_says_who_and_until_when_and_offers_unsilence(
    load_snapshot: Callable[[str], Snapshot], en: Catalog
) -> None:
    report = _report(load_snapshot, en)
    alert = on_check(None, report, WINDOW, WINDOW - timedelta(hours=1), AlertPolicy()).alert
    assert alert is not None
    until = WINDOW + timedelta(days=1)
    held = silence(alert, "U777", until, WINDOW - timedelta(minutes=50)).alert
    assert held is not None
    blocks = _dicts(alert_blocks(held, report, en, WINDOW - timedelta(minutes=50)))
    check_blocks(blocks)
    assert blocks[1]["elements"][0]["text"].endswith(
        "Silenced by <@U777> until Nov 25, 2026, 9:00:00\u202fPM (UTC+09:00)."
    )
    assert blocks[2]["elements"][-1]["action_id"] == UNSILENCE_ACTION
    # Once the silence is over, the menu is back.
    later = _dicts(alert_blocks(held, report, en, until + timedelta(minutes=1)))
    assert later[2]["elements"][-1]["action_id"] == SILENCE_ACTION


def test_the_resolution_reply_says_what_was_fixed(
    load_snapshot: Callable[[str], Snapshot], en: Catalog, ja: Catalog
) -> None:
    before = _report(load_snapshot, en)
    seed = load_snapshot("seed-incident").model_copy(update={"host": "fs01"})
    volumes = [
        v.model_copy(update={"free_bytes": 5 * 1024**3}) if v.letter == "D:" else v
        for v in seed.volumes
    ]
    after = evaluate(seed.model_copy(update={"volumes": volumes}), WINDOW, en)
    alert = on_check(None, before, WINDOW, WINDOW - timedelta(hours=1), AlertPolicy()).alert
    assert alert is not None
    resolved = on_check(alert, after, WINDOW, WINDOW - timedelta(minutes=15), AlertPolicy()).alert
    assert resolved is not None
    text = reply_text(Effect.REPLY_RESOLVED, resolved, en, WINDOW, previous=before, report=after)
    assert text == "Resolved at Nov 24, 2026, 8:45:00\u202fPM (UTC+09:00): D: now has 5 GB free."
    assert "5 GB" in reply_text(
        Effect.REPLY_RESOLVED, resolved, ja, WINDOW, previous=before, report=after
    )


def test_the_alert_shows_hostile_host_text_inert(
    load_snapshot: Callable[[str], Snapshot], en: Catalog
) -> None:
    report = _report(load_snapshot, en)
    hostile = "<!channel> https://evil.example\x1b]0;x\x07\u202e"
    # As if a label had reached the finding: the message is built from host data.
    findings = [f.model_copy(update={"message": f"{hostile} {f.message}"}) for f in report.findings]
    report = report.model_copy(update={"findings": findings})
    alert = on_check(None, report, WINDOW, WINDOW - timedelta(hours=1), AlertPolicy()).alert
    assert alert is not None
    blocks = _dicts(alert_blocks(alert, report, en, WINDOW))
    check_blocks(blocks)
    summary = blocks[0]["text"]
    assert summary["verbatim"] is True  # a bare URL stays text
    assert summary["text"].startswith(
        ":red_circle: *fs01*: &lt;!channel&gt; https://evil.example\\x1b]0;x\\x07\\u202e D: has"
    )
    assert blocks[1]["elements"][0]["verbatim"] is True
