"""The stand-in's external file upload works with unmodified slack_sdk files_upload_v2, and
refuses what Slack refuses."""

from __future__ import annotations

import urllib.request

import pytest
from slack_sdk.errors import SlackApiError

from .slack_api import SlackStandIn
from .slack_harness import web_client
from .slack_workspace import SlackChannel

pytestmark = pytest.mark.timeout(30)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def test_files_upload_v2_shares_the_bytes_in_the_channel_in_three_steps(
    stand_in: SlackStandIn,
) -> None:
    client = web_client(stand_in)
    answer = client.files_upload_v2(
        channel="C123",
        file=PNG,
        filename="fs01-D.png",
        title="fs01 D:",
        alt_txt="free space of fs01 D:",
        initial_comment="the trend",
    )
    assert answer["ok"] is True
    (shared,) = stand_in.files.shared("C123")
    assert (shared.data, shared.filename, shared.title) == (PNG, "fs01-D.png", "fs01 D:")
    assert (shared.alt_txt, shared.initial_comment) == ("free space of fs01 D:", "the trend")
    assert answer["file"]["id"] == shared.file_id
    assert answer["file"]["channels"] == ["C123"]
    assert answer["file"]["mimetype"] == "image/png"
    steps = [c.method for c in stand_in.calls()]
    assert steps == ["files.getUploadURLExternal", "files.completeUploadExternal"]
    assert stand_in.calls("files.getUploadURLExternal")[0].params["length"] == str(len(PNG))


def test_several_files_share_one_completion_and_a_thread(stand_in: SlackStandIn) -> None:
    client = web_client(stand_in)
    client.files_upload_v2(
        channel="C123",
        thread_ts="1732500000.000100",
        file_uploads=[
            {"file": PNG, "filename": "c.png", "title": "C:"},
            {"file": PNG[:100], "filename": "d.png", "title": "D:"},
        ],
    )
    shared = stand_in.files.shared("C123")
    assert [(u.title, len(u.data or b""), u.thread_ts) for u in shared] == [
        ("C:", len(PNG), "1732500000.000100"),
        ("D:", 100, "1732500000.000100"),
    ]
    assert len(stand_in.calls("files.completeUploadExternal")) == 1


@pytest.mark.parametrize(
    ("channel", "error"),
    [("C404", "channel_not_found"), ("C999", "not_in_channel")],
)
def test_a_channel_the_bot_cannot_share_to_is_refused_and_nothing_is_shared(
    stand_in: SlackStandIn, channel: str, error: str
) -> None:
    stand_in.channels["C999"] = SlackChannel("C999", "secret", is_member=False)
    with pytest.raises(SlackApiError) as refused:
        web_client(stand_in).files_upload_v2(channel=channel, file=PNG, filename="x.png")
    assert refused.value.response["error"] == error
    assert stand_in.files.shared() == []


def test_without_files_write_both_steps_are_refused(stand_in: SlackStandIn) -> None:
    stand_in.workspace.scopes = tuple(s for s in stand_in.workspace.scopes if s != "files:write")
    with pytest.raises(SlackApiError) as refused:
        web_client(stand_in).files_upload_v2(channel="C123", file=PNG, filename="x.png")
    assert refused.value.response["error"] == "missing_scope"
    assert refused.value.response["needed"] == "files:write"


def test_completing_needs_every_byte_announced_and_an_issued_file_id(
    stand_in: SlackStandIn,
) -> None:
    client = web_client(stand_in)
    issued = client.files_getUploadURLExternal(filename="x.png", length=len(PNG))
    request = urllib.request.Request(issued["upload_url"], data=PNG[:10], method="POST")  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
        assert answer.status == 200
    with pytest.raises(SlackApiError) as short:
        client.files_completeUploadExternal(files=[{"id": issued["file_id"]}], channel_id="C123")
    assert short.value.response["error"] == "file_upload_size_mismatch"
    with pytest.raises(SlackApiError) as unknown:
        client.files_completeUploadExternal(files=[{"id": "FNOTISSUED"}], channel_id="C123")
    assert unknown.value.response["error"] == "file_not_found"
    with pytest.raises(SlackApiError) as empty:
        client.files_getUploadURLExternal(filename="x.png", length=0)
    assert empty.value.response["error"] == "invalid_arguments"
