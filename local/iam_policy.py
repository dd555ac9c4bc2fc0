"""Identity policies evaluated as IAM evaluates them, for the embedded endpoint's role sessions.

A call is an action (`dynamodb:PutItem`), the resources it touches (ARNs; a
batch call may touch several, each authorized on its own) and the request's
context keys (`s3:prefix`). Evaluation is IAM's for identity policies: an
explicit Deny anywhere wins; otherwise a matching Allow is needed for every
resource; otherwise the call is denied implicitly.

Matching as IAM does it: actions are case-insensitive, resources and string
conditions case-sensitive; `*` matches any run of characters and `?` any one
character in both; `NotAction` and `NotResource` match what they do not name.
Conditions support the operators the project's policies and common ones use
(String*, Arn*, Bool, Null, with `ForAnyValue:`/`ForAllValues:` and
`...IfExists`). An operator not listed here is taken to hold on a Deny and
not on an Allow, and is named in the decision: a policy this cannot judge
refuses the call, loudly, rather than letting it through.

moto has its own evaluator (`moto.iam.access_control`), but it treats an
unmet condition on an Allow as a Deny, matches actions case-sensitively and
checks DynamoDB, Kinesis and SNS calls against `*` only: it could not hold a
least-privilege policy to its resources.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

Document = Mapping[str, Any]


@dataclass(frozen=True)
class Call:
    """What a request asks for, as IAM sees it."""

    action: str  # e.g. "dynamodb:PutItem"
    resources: tuple[str, ...]  # ARNs, or ("*",) for actions without resources
    context: Mapping[str, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """Whether a call is allowed; when not, on which resource and why."""

    allowed: bool
    resource: str | None = None  # the first resource refused
    explicit: bool = False  # refused by a Deny statement, not for want of an Allow
    unjudged: tuple[str, ...] = ()  # condition operators this module does not evaluate

    def reason(self, action: str) -> str:
        """The end of AWS's AccessDenied message."""
        if self.explicit:
            return "with an explicit deny in an identity-based policy"
        text = f"because no identity-based policy allows the {action} action"
        if self.unjudged:
            text += f" (conditions not evaluated locally: {', '.join(self.unjudged)})"
        return text


def evaluate(documents: Iterable[Document], call: Call) -> Decision:
    """IAM's decision on `call` for a principal whose identity policies are `documents`."""
    statements = [s for document in documents for s in _statements(document)]
    unjudged: list[str] = []
    for resource in call.resources:
        allowed = False
        for statement in statements:
            applies = _applies(statement, call, resource, unjudged)
            if applies and statement.get("Effect") == "Deny":
                return Decision(False, resource, explicit=True)
            allowed = allowed or (applies and statement.get("Effect") == "Allow")
        if not allowed:
            return Decision(False, resource, unjudged=tuple(dict.fromkeys(unjudged)))
    return Decision(True)


def _statements(document: Document) -> list[Mapping[str, Any]]:
    statement = document.get("Statement", [])
    return [statement] if isinstance(statement, Mapping) else list(statement)


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _applies(statement: Mapping[str, Any], call: Call, resource: str, unjudged: list[str]) -> bool:
    if "NotAction" in statement:
        if any(_matches(p, call.action, fold=True) for p in _listed(statement["NotAction"])):
            return False
    elif not any(_matches(p, call.action, fold=True) for p in _listed(statement.get("Action"))):
        return False
    if "NotResource" in statement:
        if any(_matches(p, resource) for p in _listed(statement["NotResource"])):
            return False
    elif not any(_matches(p, resource) for p in _listed(statement.get("Resource"))):
        return False
    deny = statement.get("Effect") == "Deny"
    return _conditions_hold(statement.get("Condition") or {}, call.context, unjudged, deny)


def _matches(pattern: str, value: str, *, fold: bool = False) -> bool:
    return _compiled(pattern, fold).fullmatch(value) is not None


@lru_cache(maxsize=4096)
def _compiled(pattern: str, fold: bool) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL if fold else re.DOTALL)


# Operator -> (how one request value matches one policy value, negated).
_OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (lambda v, p: v == p, False),
    "StringNotEquals": (lambda v, p: v == p, True),
    "StringEqualsIgnoreCase": (lambda v, p: v.lower() == p.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda v, p: v.lower() == p.lower(), True),
    "StringLike": (lambda v, p: _matches(p, v), False),
    "StringNotLike": (lambda v, p: _matches(p, v), True),
    "ArnEquals": (lambda v, p: v == p, False),
    "ArnNotEquals": (lambda v, p: v == p, True),
    "ArnLike": (lambda v, p: _matches(p, v), False),
    "ArnNotLike": (lambda v, p: _matches(p, v), True),
    "Bool": (lambda v, p: v.lower() == p.lower(), False),
}


def _conditions_hold(
    conditions: Mapping[str, Any],
    context: Mapping[str, Sequence[str]],
    unjudged: list[str],
    deny: bool,
) -> bool:
    """Whether every condition holds. One this module cannot judge is taken to hold on a
    Deny and not on an Allow: either way the call is refused, never let through."""
    lowered = {key.lower(): list(values) for key, values in context.items()}
    for operator, tests in conditions.items():
        judged = _base(operator) in _OPERATORS or _base(operator) == "Null"
        if not judged:
            unjudged.append(operator)
            if deny:
                continue
            return False
        for key, expected in tests.items():
            if not _condition_holds(operator, lowered.get(key.lower()), _listed(expected)):
                return False
    return True


def _base(operator: str) -> str:
    name = operator.split(":", 1)[1] if ":" in operator else operator
    return name.removesuffix("IfExists")


def _condition_holds(operator: str, values: list[str] | None, expected: list[str]) -> bool:
    qualifier = operator.split(":", 1)[0] if ":" in operator else ""
    base = _base(operator)
    if base == "Null":
        return (values is None) == (expected[0].lower() == "true")
    match, negated = _OPERATORS[base]
    if values is None:
        # A missing key matches nothing: true for a negated operator, ...IfExists and
        # ForAllValues (every one of no values), false otherwise.
        return negated or operator.endswith("IfExists") or qualifier == "ForAllValues"

    def one(value: str) -> bool:
        hit = any(match(value, p) for p in expected)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(one(v) for v in values)
    return any(one(v) for v in values)
