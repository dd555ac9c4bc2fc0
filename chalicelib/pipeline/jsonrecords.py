"""What every data set's records share: one JSON object per Kinesis record, checked field by field.

A data set's parser (`unicorns.records` for readings, `taxi.records` for trips)
decodes with `decode_object` and words its refusals with `bad`, so that a
rejected record of any data set reads the same way in the dead-letter
objects: `not UTF-8 (...)`, `not JSON (...)`, `not a JSON object (got ...)`,
`missing field X`, `X must be ..., got <kind> <value>`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping
from typing import Any, NoReturn


class InvalidRecord(ValueError):
    """A raw record that is not a valid record of its data set; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


# NaN and Infinity are not JSON; Python's decoder would take them.
DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_decode = DECODER.decode


def decode_object(data: bytes) -> dict[str, Any]:
    """The JSON object in `data`, or InvalidRecord saying why there is none."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidRecord(f"not UTF-8 ({err.reason} at byte {err.start})") from None
    obj = decode_text(text)
    if type(obj) is not dict:
        raise InvalidRecord(f"not a JSON object (got {kind(obj)})")
    return obj


def decode_text(text: str) -> Any:
    """Any JSON document in `text`, or InvalidRecord."""
    try:
        return _decode(text)
    except ValueError as err:
        raise InvalidRecord(f"not JSON ({err})") from None
    except RecursionError:  # e.g. 100 000 "[": well under Kinesis's 1 MB limit
        raise InvalidRecord("not JSON (nested too deeply)") from None


def field(obj: Mapping[str, Any], name: str) -> Any:
    try:
        return obj[name]
    except KeyError:
        raise InvalidRecord(f"missing field {name}") from None


def number(name: str, value: object, low: float, high: float) -> float:
    """`value` as a float if it is a number from `low` to `high`; InvalidRecord if not."""
    if type(value) is not float and type(value) is not int:
        bad(name, value, "a number")
    if not low <= value <= high:
        bad(name, value, f"a number from {low:g} to {high:g}")
    return float(value)


def integer(name: str, value: object, low: int, high: int) -> int:
    if type(value) is not int:
        bad(name, value, "an integer")
    if not low <= value <= high:
        bad(name, value, f"an integer from {low} to {high}")
    return value


def choice(name: str, value: object, allowed: Collection[str]) -> str:
    if type(value) is not str or value not in allowed:
        bad(name, value, "one of " + ", ".join(sorted(allowed)))
    return value


def money(name: str, value: object, high: float) -> float:
    """A non-negative amount in whole cents, as a float."""
    amount = number(name, value, 0.0, high)
    if not math.isclose(amount * 100, round(amount * 100), abs_tol=1e-6):
        bad(name, value, "an amount in whole cents")
    return round(amount, 2)


def bad(name: str, value: object, expected: str) -> NoReturn:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    raise InvalidRecord(f"{name} must be {expected}, got {kind(value)} {shown}")


def kind(value: object) -> str:
    """The JSON word for a decoded value's type."""
    return {
        dict: "object",
        list: "array",
        str: "string",
        int: "integer",
        float: "number",
        bool: "boolean",
        type(None): "null",
    }.get(type(value), type(value).__name__)
