"""Checks that a Block Kit message is one Slack would accept.

Every block is parsed back with slack_sdk's models (unknown types and fields fail) and run
through their validators, including those of nested elements. On top of that this module
asserts the documented limits that slack_sdk leaves unchecked or checks only for some shapes,
and names the offending block index in every failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

__all__ = ["LIMITS", "check_blocks"]

LIMITS = {
    "blocks": 50,
    "text": 3000,
    "section_fields": 10,
    "field_text": 2000,
    "header_text": 150,
    "button_text": 75,
    "action_id": 255,
    "block_id": 255,
    "button_value": 2000,
    "actions_elements": 25,
    "context_elements": 10,
}


def check_blocks(blocks: Sequence[dict[str, Any]]) -> list[Block]:
    """Parses and validates ``blocks``; raises AssertionError naming the block and the limit."""
    if not isinstance(blocks, Sequence) or isinstance(blocks, str):
        raise AssertionError(f"blocks must be a list, got {type(blocks).__name__}")
    if len(blocks) > LIMITS["blocks"]:
        raise AssertionError(
            f"{len(blocks)} blocks: a message allows at most {LIMITS['blocks']} blocks"
        )
    return [_check_block(index, raw) for index, raw in enumerate(blocks)]


def _check_block(index: int, raw: object) -> Block:
    if not isinstance(raw, dict):
        raise AssertionError(f"block {index}: expected an object, got {type(raw).__name__}")
    where = f"block {index} ({raw.get('type', '?')})"
    _check_limits(where, raw)
    try:
        model = Block.parse(raw)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise AssertionError(f"{where}: slack_sdk cannot parse it: {exc}") from exc
    if model is None:
        raise AssertionError(f"{where}: unknown block type {raw.get('type')!r}")
    unknown = set(raw) - set(model.attributes)
    if unknown:
        raise AssertionError(f"{where}: unknown field(s) {sorted(unknown)}")
    _check_parsed_children(where, raw, model)
    try:
        model.validate_json()
        # to_dict() validates nested elements too; validate_json() alone stops at the block.
        model.to_dict()
    except SlackObjectFormationError as exc:
        raise AssertionError(f"{where}: {exc}") from exc
    return model


def _check_parsed_children(where: str, raw: dict[str, Any], model: Block) -> None:
    # slack_sdk drops elements of unknown type with only a log warning; Slack rejects them.
    if "accessory" in raw and getattr(model, "accessory", None) is None:
        raise AssertionError(f"{where}: unknown accessory {raw['accessory']!r}")
    for position, element in enumerate(getattr(model, "elements", None) or []):
        if element is None:
            raise AssertionError(f"{where}: unknown element {raw['elements'][position]!r}")


def _text(obj: object) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text") or "")
    return str(obj or "")


def _over(where: str, what: str, size: int, limit_name: str) -> None:
    limit = LIMITS[limit_name]
    if size > limit:
        raise AssertionError(f"{where}: {what} is {size} long, over the limit of {limit}")


def _check_limits(where: str, raw: dict[str, Any]) -> None:
    kind = raw.get("type")
    if kind in ("section", "header") and "text" in raw and not isinstance(raw["text"], dict):
        # slack_sdk turns a bare string into a text object; Slack's API rejects it.
        raise AssertionError(f"{where}: text must be a text object, not {raw['text']!r:.40}")
    if raw.get("block_id") is not None:
        _over(where, "block_id", len(str(raw["block_id"])), "block_id")
    elements: list[Any] = list(raw.get("elements") or [])
    if kind == "section":
        _over(where, "text", len(_text(raw.get("text"))), "text")
        fields = list(raw.get("fields") or [])
        _over(where, "fields", len(fields), "section_fields")
        for n, item in enumerate(fields):
            _over(where, f"fields[{n}].text", len(_text(item)), "field_text")
        if isinstance(raw.get("accessory"), dict):
            _check_element(f"{where} accessory", raw["accessory"])
    elif kind == "header":
        _over(where, "header text", len(_text(raw.get("text"))), "header_text")
    elif kind == "actions":
        _over(where, "elements", len(elements), "actions_elements")
    elif kind == "context":
        _over(where, "elements", len(elements), "context_elements")
    for n, element in enumerate(elements):
        if isinstance(element, dict):
            _check_element(f"{where} elements[{n}]", element)


def _check_element(where: str, element: dict[str, Any]) -> None:
    if element.get("type") in ("mrkdwn", "plain_text"):
        _over(where, "text", len(_text(element)), "text")
    if element.get("action_id") is not None:
        _over(where, "action_id", len(str(element["action_id"])), "action_id")
    if element.get("type") == "button":
        _over(where, "button text", len(_text(element.get("text"))), "button_text")
        if element.get("value") is not None:
            _over(where, "button value", len(str(element["value"])), "button_value")
