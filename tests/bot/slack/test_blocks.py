"""Block Kit rendering: every report fits Slack's limits, even a server with 60 volumes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block

from bot.slack.blocks import (
    RECHECK_ACTION,
    help_blocks,
    report_blocks,
    summary_blocks,
    tip_text,
    usage_bar,
    windows_blocks,
)
from checks.evaluate import evaluate, unknown_report
from checks.i18n import Catalog
from checks.report import Command, Tip
from checks.snapshot import Snapshot, parse_snapshot
from checks.units import GB, MB
from checks.windows import Window
from tests.conftest import SNAPSHOT_FILES
from tests.support.slack_blocks import check_blocks

Load = Callable[[str], Snapshot]


def _dicts(blocks: list[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]


def _text(blocks: list[dict[str, Any]]) -> str:
    return str(blocks)


def test_the_seed_report_names_d_critical_and_85_mb_and_has_a_recheck_button(
    load_snapshot: Load, now: datetime, en: Catalog
) -> None:
    blocks = _dicts(report_blocks(evaluate(load_snapshot("seed-incident"), now, en), en))
    check_blocks(blocks)
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"] == ":red_circle: SERVER01: CRITICAL"
    text = _text(blocks)
    assert "*D:* Data" in text
    assert "Free at least 85 MB on D:" in text
    assert "```vssadmin delete shadows /for=D: /all /quiet" in text
    actions = next(b for b in blocks if b["type"] == "actions")
    assert actions["elements"][0]["action_id"] == RECHECK_ACTION
    assert actions["elements"][0]["value"] == "SERVER01"
    assert blocks[-1]["type"] == "context"


@pytest.mark.parametrize("path", SNAPSHOT_FILES, ids=lambda p: p.stem)
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_example_renders_within_limits(
    path: Path, lang: str, now: datetime, en: Catalog, ja: Catalog
) -> None:
    t = en if lang == "en" else ja
    check_blocks(_dicts(report_blocks(evaluate(parse_snapshot(path.read_bytes()), now, t), t)))


def test_sixty_volumes_still_render_with_problems_first(
    load_snapshot: Load, now: datetime, en: Catalog
) -> None:
    seed = load_snapshot("seed-incident")
    volumes = [
        seed.volumes[0].model_copy(
            update={
                "id": f"\\\\?\\Volume{{{n}}}\\",
                "name": f"C:\\Mount\\V{n:02}\\",
                "letter": None,
                "label": f"data{n:02}",
                "capacity_bytes": 100 * GB,
                "free_bytes": 100 * MB if n % 10 == 0 else 50 * GB,
            }
        )
        for n in range(60)
    ]
    snapshot = seed.model_copy(update={"volumes": volumes, "backup": None})
    report = evaluate(snapshot, now, en)
    blocks = _dicts(report_blocks(report, en))
    check_blocks(blocks)
    assert len(blocks) <= 50
    text = _text(blocks)
    for n in range(0, 60, 10):  # every critical volume is shown
        assert f"data{n:02}" in text
    assert "more volumes" in text


def test_an_unknown_host_says_why(now: datetime, en: Catalog) -> None:
    report = unknown_report("fs09", "connection refused by 10.0.0.9:5985", now, en)
    blocks = _dicts(report_blocks(report, en))
    check_blocks(blocks)
    assert "connection refused by 10.0.0.9:5985" in _text(blocks)


def test_mrkdwn_in_labels_is_escaped(load_snapshot: Load, now: datetime, en: Catalog) -> None:
    seed = load_snapshot("seed-incident")
    volumes = [
        seed.volumes[0],
        seed.volumes[1].model_copy(update={"label": "<!channel> & co"}),
        seed.volumes[2],
    ]
    report = evaluate(seed.model_copy(update={"volumes": volumes}), now, en)
    text = _text(_dicts(report_blocks(report, en)))
    assert "<!channel>" not in text
    assert "&lt;!channel&gt; &amp; co" in text


def test_a_fleet_summary_is_worst_first_and_fits(
    load_snapshot: Load, now: datetime, en: Catalog
) -> None:
    reports = [
        evaluate(load_snapshot(name).model_copy(update={"host": f"{name}-{n}"}), now, en)
        for n in range(40)
        for name in ("network-space-unknown", "seed-incident", "japanese-labels")
    ]
    blocks = _dicts(summary_blocks(reports, en, total=130))
    check_blocks(blocks)
    assert blocks[0]["text"]["text"] == "120 of 130 servers checked, worst first"
    first_section = blocks[1]["text"]["text"]
    assert first_section.startswith(":red_circle: *seed-incident-")


def test_help_says_when_it_did_not_understand(en: Catalog, ja: Catalog) -> None:
    assert "That is not a server name" in _text(_dicts(help_blocks(en, "/backupcheck", False)))
    assert "`/backupcheck all`" in _text(_dicts(help_blocks(ja, "/backupcheck")))


def test_usage_bar(load_snapshot: Load, now: datetime, en: Catalog) -> None:
    report = evaluate(load_snapshot("seed-incident"), now, en)
    assert usage_bar(report.volumes[1]) == "██████████  99%"


def test_host_text_cannot_mention_link_or_send_control_characters(
    load_snapshot: Load, now: datetime, en: Catalog
) -> None:
    seed = load_snapshot("seed-incident")
    labels = ["<!channel> <!here>", "<@U0123|boss> <#C0123>", "<https://evil.example|x> &gt;"]
    volumes = [
        v.model_copy(update={"label": label}) for v, label in zip(seed.volumes, labels, strict=True)
    ]
    snapshot = seed.model_copy(
        update={
            "host": "fs01\x1b]0;pwned\x07",
            "volumes": volumes,
            "warnings": ["https://evil.example/login\nOK"],
        }
    )
    blocks = _dicts(report_blocks(evaluate(snapshot, now, en), en))
    check_blocks(blocks)
    assert blocks[0]["text"]["text"] == ":red_circle: fs01\\x1b]0;pwned\\x07: CRITICAL"
    shown = [o for o in _objects(blocks) if o.get("type") in ("mrkdwn", "plain_text")]
    text = "\n".join(o["text"] for o in shown)
    assert "<" not in text  # so no mention, channel or link of the host's
    assert "&lt;!channel&gt; &lt;!here&gt;" in text
    assert "&lt;@U0123|boss&gt; &lt;#C0123&gt;" in text
    assert "&lt;https://evil.example|x&gt; &amp;gt;" in text
    assert "https://evil.example/login\\x0aOK" in text
    # Verbatim: Slack links nothing by itself, not even a bare URL.
    mrkdwn = [o for o in shown if o["type"] == "mrkdwn"]
    assert mrkdwn
    assert all(o["verbatim"] is True for o in mrkdwn)


def _objects(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, list):
        return [found for item in value for found in _objects(item)]
    if not isinstance(value, dict):
        return []
    return [value, *(found for item in value.values() for found in _objects(item))]


def test_a_command_that_could_close_its_code_block_is_left_to_the_terminal(en: Catalog) -> None:
    # mrkdwn has no escape for a backtick: ``` in a command would end the block, and the rest
    # of an elevated command would be reformatted (a *…* pair loses its asterisks).
    tip = Tip(
        code="VSS_MIN_FREE",
        text="Move the shadow copies.",
        commands=[Command(shell="cmd", text="vssadmin ```x *y* z", elevated=True)],
    )
    text = tip_text(tip, en)
    assert "```" not in text
    assert "*y*" not in text
    assert text == (
        "→ Move the shadow copies.\n"
        "More findings and tips: run `backupcheck check` for this server in a terminal."
    )


def test_a_very_long_host_name_still_fits_the_button(now: datetime, en: Catalog) -> None:
    blocks = _dicts(report_blocks(unknown_report("h" * 3000, "refused", now, en), en))
    check_blocks(blocks)


def test_report_times_are_in_the_servers_zone_with_its_label(
    load_snapshot: Load, now: datetime, en: Catalog
) -> None:
    report = evaluate(load_snapshot("seed-incident"), now, en)
    summary = _dicts(report_blocks(report, en))[1]["text"]["text"]
    assert summary.endswith(
        "Next backup: Nov 24, 2026, 9:00:00\u202fPM (UTC+09:00)."
    )  # as reported
    tokyo = _dicts(report_blocks(report, en, ZoneInfo("Asia/Tokyo")))
    assert tokyo[1]["text"]["text"].endswith("Next backup: Nov 24, 2026, 9:00:00\u202fPM JST.")
    assert tokyo[-1]["elements"][0]["text"].endswith("JST.")  # when it was checked, alike


def test_an_alerts_window_is_the_next_backup_its_details_name(
    load_snapshot: Load, now: datetime, en: Catalog
) -> None:
    report = evaluate(load_snapshot("seed-incident"), now, en)
    window = datetime(2026, 11, 30, 21, 45, tzinfo=ZoneInfo("Asia/Tokyo"))
    blocks = _dicts(report_blocks(report, en, window.tzinfo, window))
    assert blocks[1]["text"]["text"].endswith("Next backup: Nov 30, 2026, 9:45:00\u202fPM JST.")


def test_windows_lines_label_both_times(en: Catalog) -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    backup = datetime(2026, 11, 24, 21, 0, tzinfo=tokyo)
    windows = [Window("fs01", backup, backup - timedelta(hours=1), None, "config")]
    (_, section) = _dicts(windows_blocks(windows, en))
    assert section["text"]["text"] == (
        "*fs01*  next backup Nov 24, 2026, 9:00:00\u202fPM JST"
        " · check at Nov 24, 2026, 8:00:00\u202fPM JST"
    )
