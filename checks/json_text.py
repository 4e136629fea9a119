"""JSON documents as Windows writes them: byte-order marks, UTF-16, and errors in plain words.

Windows PowerShell 5.1's `Out-File` and `>` write UTF-16 with a BOM, and `Set-Content -Encoding
UTF8` a UTF-8 BOM; a snapshot saved on a server arrives in any of these.
"""

from __future__ import annotations

import codecs
import json

# A snapshot of 10,000 volumes (the model's cap) is about 5 MB.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# json's messages, said as a person would, with what usually causes each.
_PROBLEMS = {
    "Expecting value": "a value was expected here (a number, text in double quotes, true, "
    "false, null, an object or a list)",
    "Expecting property name enclosed in double quotes": "a name in double quotes was expected "
    "(JSON allows no comma before a closing brace and no single quotes)",
    "Expecting ',' delimiter": "a comma was expected between two items",
    "Expecting ':' delimiter": "a colon was expected after a name",
    "Unterminated string starting at": "text in double quotes is not closed",
    "Extra data": "something follows the end of the document",
    "Invalid control character at": "text in double quotes holds a raw control character "
    "(write a line break as \\n)",
    "Invalid \\escape": "a backslash starts an unknown escape (write each \\ of a Windows path "
    "as \\\\)",
    "Invalid \\uXXXX escape": "a \\u escape needs four hexadecimal digits",
}


class DocumentError(ValueError):
    """The document cannot be read as JSON text; the message is one sentence without a subject."""


def decode(document: str | bytes) -> str:
    """The document's text: UTF-8 with or without a BOM, or UTF-16 with a BOM."""
    if isinstance(document, str):
        return document.removeprefix("\ufeff")
    if len(document) > MAX_DOCUMENT_BYTES:
        raise DocumentError(f"is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB")
    encoding = "utf-8"
    for bom, name in _BOMS:
        if document.startswith(bom):
            document, encoding = document[len(bom) :], name
            break
    try:
        return document.decode(encoding)
    except UnicodeDecodeError as error:
        line = document[: error.start].count(b"\n") + 1
        hint = "; save it as UTF-8" if encoding == "utf-8" else ""
        raise DocumentError(f"is not valid {encoding.upper()} text (line {line}){hint}") from None


def json_problem(text: str) -> str | None:
    """Why the text is not JSON, with its line and column and a hint; None when it is JSON."""
    if not text.strip():
        return "is empty"
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        problem = next(
            (plain for message, plain in _PROBLEMS.items() if error.msg.startswith(message)),
            error.msg,
        )
        return f"is not valid JSON: at line {error.lineno}, column {error.colno}, {problem}"
    except RecursionError:
        return "nests too deeply to be a snapshot"
    return None
