"""Host text made inert for display: control characters and bidi overrides become visible escapes.

A compromised Windows host chooses its volume labels, names and warnings. Shown as they are,
ESC starts terminal sequences (titles, OSC 8 links), CR/LF forge extra lines in Nagios output,
and the bidi overrides reorder what an admin reads (https://trojansource.codes/). Every
renderer passes host text through `visible`. A backslash is left alone because Windows paths
are full of them, so `\\x1b` in the output may be an escape or a host's literal text: either
way it is inert.
"""

from __future__ import annotations

import re

# DEL and C1; the bidi embeddings, overrides and isolates; LINE and PARAGRAPH SEPARATOR
# (str.splitlines and some viewers break lines there); lone surrogates, which UTF-8 cannot encode.
_BEYOND_C0 = "\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
# Plus all of C0, LF and TAB included: every host field is shown as one line.
_UNSAFE = re.compile(f"[\x00-\x1f{_BEYOND_C0}]")
_UNSAFE_IN_JSON = re.compile(f"[{_BEYOND_C0}]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """The text with each control, bidi or separator character shown as `\\x..` or `\\u....`."""
    return _UNSAFE.sub(_escape, text)


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def inert_json(document: str) -> str:
    """The same JSON value, with DEL, C1 and the bidi characters written as `\\u....` escapes."""
    # JSON encoders escape only C0 inside strings, and outside strings a document is printable
    # ASCII plus whitespace, so every match is inside a string and the substitution is exact.
    return _UNSAFE_IN_JSON.sub(_json_escape, document)
