"""Setting values in a JSON document's text without reformatting the rest of it.

`.chalice/config.json` is written by hand in a compact style (short objects on
one line). `infra deploy` records values in it, and the diff of that change
should show the values only, not a reformatted file. So values are spliced into
the text: an existing value is replaced where it stands, a new key is appended
to its object in that object's own layout (one line, or one member per line).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\r\n"


@dataclass(frozen=True)
class _Span:
    """Where a value sits in the text; for an object, where each member's value sits."""

    start: int
    end: int
    members: dict[str, _Span] = field(default_factory=dict)
    is_object: bool = False


def set_values(text: str, path: Sequence[str], values: Mapping[str, Any]) -> str:
    """`text` with each of `values` set in the object at `path`, creating missing objects.

    Raises ValueError if `text` is not JSON or something on `path` is not an object.
    """
    expected = json.loads(text)
    node = expected
    for key in path:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ValueError(f"{'.'.join(path)}: {key!r} is not an object")
    node.update(values)
    for key, value in values.items():
        text = _set_one(text, [*path, key], value)
    # The splice is checked against a plain update of the parsed document, so a
    # layout this module does not foresee costs formatting, never content.
    if json.loads(text) != expected:
        return json.dumps(expected, indent=2) + "\n"
    return text


def _set_one(text: str, path: Sequence[str], value: Any) -> str:
    node = _parse(text, 0)
    depth = 0
    while depth < len(path) and path[depth] in node.members:
        node = node.members[path[depth]]
        depth += 1
    if depth == len(path):
        return text[: node.start] + json.dumps(value) + text[node.end :]
    for key in reversed(path[depth + 1 :]):
        value = {key: value}
    return _append_member(text, node, path[depth], value)


def _append_member(text: str, obj: _Span, key: str, value: Any) -> str:
    member = f"{json.dumps(key)}: {json.dumps(value)}"
    if not obj.members:
        return text[: obj.start] + "{" + member + "}" + text[obj.end :]
    last_end = max(span.end for span in obj.members.values())
    # Reuse the whitespace before the object's first key: a newline and the
    # members' indent for a multi-line object, nothing for a one-line one.
    lead = text[obj.start + 1 : _skip(text, obj.start + 1)]
    separator = "," + (lead if "\n" in lead else " ")
    return text[:last_end] + separator + member + text[last_end:]


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WHITESPACE:
        pos += 1
    return pos


def _parse(text: str, pos: int) -> _Span:
    """The span of the JSON value at `pos` (text already known to be valid JSON)."""
    pos = _skip(text, pos)
    if text.startswith("{", pos):
        start, members = pos, dict[str, _Span]()
        pos = _skip(text, pos + 1)
        if text.startswith("}", pos):
            return _Span(start, pos + 1, members, is_object=True)
        while True:
            key, pos = _DECODER.raw_decode(text, pos)
            pos = _skip(text, pos) + 1  # past the colon
            members[key] = child = _parse(text, pos)
            pos = _skip(text, child.end)
            if text[pos] == "}":
                return _Span(start, pos + 1, members, is_object=True)
            pos = _skip(text, pos + 1)  # past the comma
    if text.startswith("[", pos):
        start = pos
        pos = _skip(text, pos + 1)
        while not text.startswith("]", pos):
            pos = _skip(text, _parse(text, pos).end)
            if text.startswith(",", pos):
                pos += 1
            pos = _skip(text, pos)
        return _Span(start, pos + 1)
    _, end = _DECODER.raw_decode(text, pos)
    return _Span(pos, end)
