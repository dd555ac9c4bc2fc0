"""Identity policies judged as IAM judges them: wildcards, Deny, NotAction, conditions."""

from __future__ import annotations

from typing import Any

import pytest

from local.iam_policy import Call, evaluate

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/UnicornStatus"
OTHER_TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/UnicornSensorData"
BUCKET = "arn:aws:s3:::wildrydes-archive-123456789012-us-east-1"


def allow(action: Any, resource: Any, **more: Any) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource, **more}],
    }


def deny(action: Any, resource: Any, **more: Any) -> dict[str, Any]:
    return {"Statement": {"Effect": "Deny", "Action": action, "Resource": resource, **more}}


@pytest.mark.parametrize(
    ("policy", "call", "allowed"),
    [
        # The action, exactly or by wildcard; IAM's action names ignore case.
        (allow("dynamodb:PutItem", TABLE), Call("dynamodb:PutItem", (TABLE,)), True),
        (allow("dynamodb:PutItem", TABLE), Call("dynamodb:GetItem", (TABLE,)), False),
        (allow("dynamodb:*", TABLE), Call("dynamodb:GetItem", (TABLE,)), True),
        (allow("dynamodb:Get*", TABLE), Call("dynamodb:GetItem", (TABLE,)), True),
        (allow("dynamodb:?etItem", TABLE), Call("dynamodb:PutItem", (TABLE,)), False),
        (allow("DynamoDB:putitem", TABLE), Call("dynamodb:PutItem", (TABLE,)), True),
        (
            allow(["sns:Publish", "dynamodb:PutItem"], TABLE),
            Call("dynamodb:PutItem", (TABLE,)),
            True,
        ),
        # The resource: exact, wildcards, and case matters.
        (allow("dynamodb:PutItem", OTHER_TABLE), Call("dynamodb:PutItem", (TABLE,)), False),
        (
            allow("dynamodb:PutItem", "arn:*:dynamodb:*:*:table/Unicorn*"),
            Call("dynamodb:PutItem", (TABLE,)),
            True,
        ),
        (allow("dynamodb:PutItem", TABLE.lower()), Call("dynamodb:PutItem", (TABLE,)), False),
        (allow("dynamodb:PutItem", "*"), Call("dynamodb:PutItem", (TABLE,)), True),
        # `*` in a pattern is no regular expression: the dot of a name is a dot.
        (
            allow("s3:GetObject", f"{BUCKET}/raw.*"),
            Call("s3:GetObject", (f"{BUCKET}/rawX2026",)),
            False,
        ),
        # Actions with no resource-level permission are authorized on "*" only.
        (allow("kinesis:ListStreams", "*"), Call("kinesis:ListStreams", ("*",)), True),
        (
            allow("kinesis:ListStreams", "arn:aws:kinesis:*:*:stream/x"),
            Call("kinesis:ListStreams", ("*",)),
            False,
        ),
        # A batch call needs every one of its resources.
        (
            allow("dynamodb:BatchWriteItem", TABLE),
            Call("dynamodb:BatchWriteItem", (TABLE, OTHER_TABLE)),
            False,
        ),
        (
            allow("dynamodb:BatchWriteItem", [TABLE, OTHER_TABLE]),
            Call("dynamodb:BatchWriteItem", (TABLE, OTHER_TABLE)),
            True,
        ),
        # NotAction and NotResource.
        (
            allow("*", "*")
            | {"Statement": [{"Effect": "Allow", "NotAction": "sns:*", "Resource": "*"}]},
            Call("sns:Publish", ("*",)),
            False,
        ),
        (
            {
                "Statement": [
                    {"Effect": "Allow", "Action": "dynamodb:*", "NotResource": OTHER_TABLE}
                ]
            },
            Call("dynamodb:PutItem", (TABLE,)),
            True,
        ),
        (
            {
                "Statement": [
                    {"Effect": "Allow", "Action": "dynamodb:*", "NotResource": OTHER_TABLE}
                ]
            },
            Call("dynamodb:PutItem", (OTHER_TABLE,)),
            False,
        ),
        # No statement at all: denied.
        ({"Statement": []}, Call("dynamodb:PutItem", (TABLE,)), False),
    ],
)
def test_actions_and_resources(policy: dict[str, Any], call: Call, allowed: bool) -> None:
    assert evaluate([policy], call).allowed is allowed


def test_an_explicit_deny_wins_over_any_allow() -> None:
    policies = [allow("dynamodb:*", "*"), deny("dynamodb:DeleteTable", TABLE)]
    decision = evaluate(policies, Call("dynamodb:DeleteTable", (TABLE,)))
    assert not decision.allowed and decision.explicit and decision.resource == TABLE
    assert decision.reason("dynamodb:DeleteTable") == (
        "with an explicit deny in an identity-based policy"
    )
    assert evaluate(policies, Call("dynamodb:PutItem", (TABLE,))).allowed


def test_an_implicit_deny_names_the_resource_and_says_no_policy_allows_it() -> None:
    decision = evaluate(
        [allow("dynamodb:PutItem", TABLE)], Call("dynamodb:PutItem", (TABLE, OTHER_TABLE))
    )
    assert not decision.allowed and not decision.explicit
    assert decision.resource == OTHER_TABLE
    assert decision.reason("dynamodb:PutItem") == (
        "because no identity-based policy allows the dynamodb:PutItem action"
    )


LIST_ARCHIVE = allow("s3:ListBucket", BUCKET, Condition={"StringLike": {"s3:prefix": ["raw/*"]}})


@pytest.mark.parametrize(
    ("policy", "context", "allowed"),
    [
        (LIST_ARCHIVE, {"s3:prefix": ["raw/2026/11/22/"]}, True),
        (LIST_ARCHIVE, {"s3:prefix": ["reports/"]}, False),
        (LIST_ARCHIVE, {}, False),  # a listing of the whole bucket
        (LIST_ARCHIVE, {"S3:Prefix": ["raw/"]}, True),  # condition keys ignore case
        # An unmet condition makes an Allow not apply; it does not turn it into a Deny.
        ([LIST_ARCHIVE, allow("s3:ListBucket", BUCKET)], {"s3:prefix": ["reports/"]}, True),
        (
            allow("s3:ListBucket", BUCKET, Condition={"StringNotLike": {"s3:prefix": "secret/*"}}),
            {},
            True,
        ),
        (
            allow(
                "s3:ListBucket", BUCKET, Condition={"StringEqualsIfExists": {"s3:prefix": "raw/"}}
            ),
            {},
            True,
        ),
        (allow("s3:ListBucket", BUCKET, Condition={"Null": {"s3:prefix": "true"}}), {}, True),
        (
            allow("s3:ListBucket", BUCKET, Condition={"Null": {"s3:prefix": "true"}}),
            {"s3:prefix": ["a"]},
            False,
        ),
        (
            allow(
                "s3:ListBucket",
                BUCKET,
                Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["a", "b"]}},
            ),
            {"aws:TagKeys": ["c", "b"]},
            True,
        ),
        (
            allow(
                "s3:ListBucket",
                BUCKET,
                Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}},
            ),
            {"aws:TagKeys": ["c", "b"]},
            False,
        ),
        (
            allow("s3:ListBucket", BUCKET, Condition={"Bool": {"aws:SecureTransport": "false"}}),
            {"aws:SecureTransport": ["false"]},
            True,
        ),
        # A Deny whose condition is not met does not apply either.
        (
            [
                allow("s3:ListBucket", BUCKET),
                deny("s3:*", "*", Condition={"Bool": {"aws:SecureTransport": "false"}}),
            ],
            {"aws:SecureTransport": ["true"]},
            True,
        ),
    ],
)
def test_conditions(policy: Any, context: dict[str, list[str]], allowed: bool) -> None:
    policies = policy if isinstance(policy, list) else [policy]
    assert evaluate(policies, Call("s3:ListBucket", (BUCKET,), context)).allowed is allowed


def test_an_operator_it_cannot_judge_is_named_not_passed() -> None:
    policy = allow(
        "s3:ListBucket", BUCKET, Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}
    )
    decision = evaluate([policy], Call("s3:ListBucket", (BUCKET,), {"aws:SourceIp": ["10.1.2.3"]}))
    assert not decision.allowed
    assert decision.unjudged == ("IpAddress",)
    assert "conditions not evaluated locally: IpAddress" in decision.reason("s3:ListBucket")


def test_a_deny_it_cannot_judge_refuses_rather_than_lets_through() -> None:
    policies = [
        allow("s3:ListBucket", BUCKET),
        deny("s3:*", "*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
    ]
    decision = evaluate(policies, Call("s3:ListBucket", (BUCKET,), {"aws:SourceIp": ["1.2.3.4"]}))
    assert not decision.allowed and decision.explicit
