"""No IAM statement in the packaged template allows more than it names.

Every policy document in build/dev/package/sam.json is checked: the roles'
inline policies (the functions' roles as Chalice makes them from
`.chalice/policy-*.json` and infra replaces them with exact ARNs, Firehose's
role), the key policy and the resource policies. An Allow statement may not
have a wildcard action (`*`, `service:*`, `service:Get*`), a wildcard
principal, or a resource that names no particular resource:

- `"Resource": "*"` only for actions IAM cannot scope (`UNSCOPED_ACTIONS`,
  each with its reason), and in a key policy, where AWS requires it: there
  `*` means the key the policy is attached to, and any other value is refused;
- an ARN names its partition, region and account (the stack's own), and a
  `*` in its resource part only where it stands for what lies under one
  named resource (`ALLOWED_PATTERNS`).

Deny statements are exempt: a wildcard there widens a refusal (the
resource policies deny everything that is not over TLS).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from infra.policies import UNSCOPED_ACTIONS

KEY_POLICY_PATH = "DataKey/Properties/KeyPolicy"

# A `*` in an ARN's resource part is allowed only as one of these (matched
# against the part after `arn:partition:service:region:account:`).
ALLOWED_PATTERNS = {
    # the log streams of one log group
    "log streams": re.compile(r"log-group:[^*:]+:\*"),
    # the objects under one key prefix of one bucket
    "objects under a prefix": re.compile(r"[^*/]+/[^*]+/\*"),
}


def policy_documents(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, document) of every policy document in a template: anything with a Statement."""
    if isinstance(node, dict):
        if isinstance(node.get("Statement"), list):
            yield path.strip("/"), node
        for key, value in node.items():
            yield from policy_documents(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from policy_documents(value, f"{path}/{index}")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def arn_text(resource: Any) -> str | None:
    """The ARN as written: a string, or the text of an Fn::Sub; None for Ref/GetAtt (exact)."""
    if isinstance(resource, str):
        return resource
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        sub = resource["Fn::Sub"]
        text = str(sub[0] if isinstance(sub, list) else sub)
        # A resource's own ARN is exact: `${ArchiveBucket.Arn}/raw/*` names
        # objects of that bucket. `${AWS::Region}` holds colons of its own:
        # written `<AWS.Region>` the text splits like an ARN.
        text = re.sub(r"\$\{(\w+)\.Arn\}", r"arn:<exact>:<exact>:<exact>:<exact>:\1", text)
        return re.sub(r"\$\{([^}]*)\}", lambda m: f"<{m[1].replace(':', '.')}>", text)
    return None


def resource_problem(resource: Any) -> str | None:
    text = arn_text(resource)
    if text is None:
        return None
    parts = text.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return f"{text!r} is not an ARN"
    _, partition, _service, region, account, name = parts
    if "*" in partition + region + account:
        return f"{text!r}: the stack's partition, region and account are known"
    if "*" in name and not any(p.fullmatch(name) for p in ALLOWED_PATTERNS.values()):
        return f"{text!r} names no particular resource"
    return None


def statement_problems(where: str, statement: dict[str, Any]) -> list[str]:
    """What is wrong with one statement, as readable lines; [] if nothing."""
    if statement.get("Effect") != "Allow":
        return []
    label = f"{where} {statement.get('Sid') or '(no Sid)'}"
    problems = []
    actions = as_list(statement.get("Action", []))
    if "NotAction" in statement or "NotResource" in statement:
        problems.append(f"{label}: NotAction/NotResource allow everything else")
    problems += [f"{label}: wildcard action {a!r}" for a in actions if "*" in a]
    principal = statement.get("Principal")
    if principal == "*" or (isinstance(principal, dict) and "*" in as_list(principal.get("AWS"))):
        problems.append(f"{label}: allows anyone (Principal *)")
    if "Resource" not in statement:
        # A trust policy (who may assume a role) names no resource.
        if actions != ["sts:AssumeRole"]:
            problems.append(f"{label}: no Resource")
        return problems
    for resource in as_list(statement["Resource"]):
        if resource == "*":
            if where == KEY_POLICY_PATH:
                continue
            unscoped = [a for a in actions if a not in UNSCOPED_ACTIONS]
            if unscoped:
                problems.append(f"{label}: Resource * for {unscoped}, which can be scoped")
            continue
        problem = resource_problem(resource)
        if problem:
            problems.append(f"{label}: {problem}")
    return problems


def template_problems(template: dict[str, Any]) -> list[str]:
    return [
        problem
        for where, document in policy_documents(template["Resources"])
        for statement in document["Statement"]
        for problem in statement_problems(where, statement)
    ]


@pytest.mark.slow
def test_no_allow_statement_in_the_packaged_template_has_a_wildcard(
    sam: dict[str, Any],
) -> None:
    documents = dict(policy_documents(sam["Resources"]))
    # The check sees every role and policy: seven functions' roles, Firehose's,
    # the key policy and the three resource policies.
    roles = {where.split("/")[0] for where in documents if "/Policies/" in where}
    assert roles == {
        "AggregateRole",
        "PersistRole",
        "AggregateTripsRole",
        "PersistInsightsRole",
        "VitalsRole",
        "ReportRole",
        "ApiHandlerRole",
        "ArchiveDeliveryRole",
    }
    assert {KEY_POLICY_PATH, "ArchiveBucketPolicy/Properties/PolicyDocument"} <= set(documents)

    assert template_problems(sam) == []


@pytest.mark.slow
def test_every_resource_star_in_the_template_is_an_unscoped_action_or_the_key_policy(
    sam: dict[str, Any],
) -> None:
    stars = {
        (where, action)
        for where, document in policy_documents(sam["Resources"])
        for statement in document["Statement"]
        if statement["Effect"] == "Allow" and "*" in as_list(statement.get("Resource", []))
        for action in as_list(statement["Action"])
        if where != KEY_POLICY_PATH
    }
    assert {action for _, action in stars} == set(UNSCOPED_ACTIONS)
    assert all(reason for reason in UNSCOPED_ACTIONS.values())


# The check itself: each of these must be caught, or the test above proves nothing.
ARN = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/UnicornStatus"


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ({"Action": "*", "Resource": {"Fn::Sub": ARN}}, "wildcard action '*'"),
        ({"Action": "dynamodb:*", "Resource": {"Fn::Sub": ARN}}, "wildcard action"),
        ({"Action": ["s3:Get*"], "Resource": {"Fn::Sub": ARN}}, "wildcard action"),
        ({"Action": "dynamodb:Query", "Resource": "*"}, "Resource * for ['dynamodb:Query']"),
        ({"Action": "logs:PutLogEvents", "Resource": "arn:*:logs:*:*:*"}, "partition"),
        (
            {
                "Action": "kms:Decrypt",
                "Resource": {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:1:key/*"},
            },
            "names no particular resource",
        ),
        (
            {
                "Action": "s3:GetObject",
                "Resource": {"Fn::Sub": "arn:${AWS::Partition}:s3:::wildrydes-*/raw/*"},
            },
            "names no particular resource",
        ),
        (
            {"Action": "dynamodb:Query", "Resource": {"Fn::Sub": ARN}, "Principal": "*"},
            "Principal *",
        ),
        ({"NotAction": "iam:*", "Resource": "*"}, "NotAction"),
    ],
)
def test_the_check_catches(statement: dict[str, Any], problem: str) -> None:
    where = "SomeRole/Properties/Policies/0/PolicyDocument"
    found = statement_problems(where, statement | {"Effect": "Allow"})
    assert any(problem in line for line in found), found


@pytest.mark.parametrize(
    "statement",
    [
        {"Action": "kinesis:ListStreams", "Resource": "*"},
        {"Action": "dynamodb:Query", "Resource": {"Fn::Sub": ARN}},
        {"Action": "kms:Decrypt", "Resource": {"Fn::GetAtt": ["DataKey", "Arn"]}},
        {
            "Action": "s3:GetObject",
            "Resource": {
                "Fn::Sub": "arn:${AWS::Partition}:s3:::wildrydes-archive-${AWS::AccountId}/raw/*"
            },
        },
        {
            "Action": "logs:PutLogEvents",
            "Resource": {
                "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}"
                ":log-group:/aws/lambda/wildrydes-dev:*"
            },
        },
    ],
)
def test_the_check_lets_through(statement: dict[str, Any]) -> None:
    where = "SomeRole/Properties/Policies/0/PolicyDocument"
    assert statement_problems(where, statement | {"Effect": "Allow"}) == []


def test_a_deny_may_be_as_wide_as_it_likes_and_a_key_policy_names_its_key_as_star() -> None:
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}
    assert statement_problems("ArchiveBucketPolicy/Properties/PolicyDocument", deny) == []
    use = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*", "Principal": {"AWS": "x"}}
    assert statement_problems(KEY_POLICY_PATH, use) == []
    assert statement_problems("SomeRole/Properties/Policies/0/PolicyDocument", use) != []
