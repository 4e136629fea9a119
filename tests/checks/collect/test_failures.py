"""PowerShell errors arrive as CLIXML on stderr; the user sees the message only."""

from __future__ import annotations

from checks.collect.failures import powershell_error

CLIXML = (
    '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
    '<S S="Error">Get-CimInstance : Access denied _x000D__x000A_</S>'
    '<S S="Error">At line:1 char:1_x000D__x000A_</S>'
    '<S S="Error">+ Get-CimInstance Win32_Volume_x000D__x000A_</S></Objs>'
)


def test_clixml_is_decoded_to_its_message() -> None:
    assert powershell_error(CLIXML.encode("utf-8"), 1) == "Get-CimInstance : Access denied"


def test_japanese_messages_survive() -> None:
    japanese = CLIXML.replace("Access denied", "アクセスが拒否されました。")
    assert (
        powershell_error(japanese.encode("utf-8"), 1)
        == "Get-CimInstance : アクセスが拒否されました。"
    )


def test_plain_stderr_is_kept() -> None:
    assert powershell_error(b"The system cannot find the file specified.\r\n", 1) == (
        "The system cannot find the file specified."
    )


def test_no_stderr_says_so() -> None:
    assert powershell_error(b"", 5) == "powershell.exe exited with code 5 and printed no error"


def test_malformed_clixml_is_shown_as_it_is() -> None:
    assert powershell_error(b"#< CLIXML\r\n<Objs><S", 1) == "<Objs><S"
