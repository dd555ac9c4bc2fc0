"""Setting values in JSON text keeps the rest of the text as it was."""

from __future__ import annotations

import json

import pytest

from infra.jsonedit import set_values

COMPACT = '{"a": {"b": 1}, "list": [1, {"x": [2]}], "s": "}{,:"}\n'
SPREAD = '{\n  "a": {\n    "b": 1\n  }\n}\n'


@pytest.mark.parametrize(
    ("text", "path", "values", "expected"),
    [
        # A new key joins a one-line object on its line.
        (
            COMPACT,
            ["a"],
            {"c": 2},
            '{"a": {"b": 1, "c": 2}, "list": [1, {"x": [2]}], "s": "}{,:"}\n',
        ),
        # An existing value is replaced where it stands.
        (
            COMPACT,
            ["a"],
            {"b": "two"},
            '{"a": {"b": "two"}, "list": [1, {"x": [2]}], "s": "}{,:"}\n',
        ),
        # A new key of a multi-line object gets its own line, indented alike.
        (SPREAD, ["a"], {"c": 2}, '{\n  "a": {\n    "b": 1,\n    "c": 2\n  }\n}\n'),
        # Missing objects on the path are created, on one line.
        (
            SPREAD,
            ["n", "m"],
            {"k": "v"},
            '{\n  "a": {\n    "b": 1\n  },\n  "n": {"m": {"k": "v"}}\n}\n',
        ),
        ("{}", ["a"], {"b": True}, '{"a": {"b": true}}'),
    ],
)
def test_set_values(text: str, path: list[str], values: dict[str, object], expected: str) -> None:
    assert set_values(text, path, values) == expected


def test_a_value_in_the_way_is_refused() -> None:
    with pytest.raises(ValueError, match="not an object"):
        set_values('{"a": 1}', ["a"], {"b": 2})


def test_not_json_is_refused() -> None:
    with pytest.raises(json.JSONDecodeError):
        set_values('{"a": ', ["a"], {"b": 2})
