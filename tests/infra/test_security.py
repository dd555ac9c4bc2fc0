"""The packaged template's security: one rotated key, TLS only, logs kept and encrypted, API keys.

Reads build/dev/package/sam.json as a user would deploy it. The IAM side
(no wildcards) is in test_least_privilege.py; encryption of each store is
checked beside its other settings in test_packaged_template.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra import api_keys
from infra.resources import KEY_ADMINISTRATION, KEY_DATA_ACTIONS
from tests.routes import DATA_ROUTES, OPEN_ROUTES

pytestmark = pytest.mark.slow

DATA_KEY_ARN = {"Fn::GetAtt": ["DataKey", "Arn"]}
ROOT = {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
FUNCTIONS = {
    "Aggregate": "wildrydes-dev-aggregate",
    "Persist": "wildrydes-dev-persist",
    "Vitals": "wildrydes-dev-vitals",
    "AggregateTrips": "wildrydes-dev-aggregate_trips",
    "PersistInsights": "wildrydes-dev-persist_insights",
    "Report": "wildrydes-dev-report",
    "APIHandler": "wildrydes-dev",  # Chalice's name for the API's function
}
ROLES = {
    "Aggregate": "AggregateRole",
    "Persist": "PersistRole",
    "Vitals": "VitalsRole",
    "AggregateTrips": "AggregateTripsRole",
    "PersistInsights": "PersistInsightsRole",
    "Report": "ReportRole",
    "APIHandler": "ApiHandlerRole",
}


def of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in resources.items() if v["Type"] == kind}


def test_one_customer_managed_key_rotated_yearly_with_an_alias_and_kept(
    resources: dict[str, Any],
) -> None:
    (key_id,) = of_type(resources, "AWS::KMS::Key")
    key = resources[key_id]
    assert key["Properties"]["EnableKeyRotation"] is True
    # Data under a deleted key is lost, the retained archive's included.
    assert key["DeletionPolicy"] == key["UpdateReplacePolicy"] == "Retain"
    (alias,) = of_type(resources, "AWS::KMS::Alias").values()
    assert alias["Properties"] == {"AliasName": "alias/wildrydes", "TargetKeyId": {"Ref": key_id}}


def test_the_key_policy_leaves_use_to_iam_and_lets_logs_encrypt_only_this_stages_groups(
    resources: dict[str, Any],
) -> None:
    statements = {
        s["Sid"]: s for s in resources["DataKey"]["Properties"]["KeyPolicy"]["Statement"]
    }
    assert set(statements) == {
        "AdministerKeyThroughIam",
        "UseKeyThroughIam",
        "EncryptFunctionLogs",
        "AlarmsPublishToEncryptedTopic",
    }
    administer, use = statements["AdministerKeyThroughIam"], statements["UseKeyThroughIam"]
    assert administer["Principal"] == use["Principal"] == ROOT
    assert set(administer["Action"]) == set(KEY_ADMINISTRATION)
    # Without PutKeyPolicy the key could never be managed again.
    assert "kms:PutKeyPolicy" in administer["Action"]
    assert set(KEY_DATA_ACTIONS) <= set(use["Action"])
    logs = statements["EncryptFunctionLogs"]
    assert logs["Principal"] == {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}}
    (arns,) = logs["Condition"]["ArnEquals"].values()
    assert sorted(a["Fn::Sub"].rpartition(":log-group:")[2] for a in arns) == sorted(
        f"/aws/lambda/{name}" for name in FUNCTIONS.values()
    )
    # Alarms reach the encrypted operations topic only as CloudWatch, which
    # needs exactly what a publisher needs of the key.
    alarms = statements["AlarmsPublishToEncryptedTopic"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(alarms["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]


def test_functions_have_chalices_names_and_their_own_encrypted_log_group_made_first(
    resources: dict[str, Any],
) -> None:
    groups = {
        r["Properties"]["LogGroupName"]: (logical_id, r["Properties"])
        for logical_id, r in of_type(resources, "AWS::Logs::LogGroup").items()
    }
    assert set(groups) == {f"/aws/lambda/{name}" for name in FUNCTIONS.values()}
    for logical_id, name in FUNCTIONS.items():
        function = resources[logical_id]
        assert function["Properties"]["FunctionName"] == name
        group_id, group = groups[f"/aws/lambda/{name}"]
        assert group_id in function["DependsOn"]
        assert group["KmsKeyId"] == DATA_KEY_ARN
        assert group["RetentionInDays"] == 30


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_each_role_writes_only_its_own_log_group_and_uses_only_the_key(
    resources: dict[str, Any], logical_id: str
) -> None:
    (policy,) = resources[ROLES[logical_id]]["Properties"]["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    logs = statements["Logs"]
    assert logs["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert logs["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}"
        f":log-group:/aws/lambda/{FUNCTIONS[logical_id]}:*"
    }
    key = statements["UseDataKey"]
    assert key["Resource"] == DATA_KEY_ARN
    assert "Condition" not in key  # the exact ARN needs no alias condition
    # Every function reads and writes encrypted data; the API writes since
    # POST /trips (onto taxi-trips and into the trip ledger).
    assert key["Action"] == list(KEY_DATA_ACTIONS)
    kms = [s for s in statements.values() if "kms:" in str(s["Action"])]
    assert kms == [key]


@pytest.mark.parametrize(
    ("policy_id", "target", "actions", "resource"),
    [
        (
            "ArchiveBucketPolicy",
            ("Bucket", {"Ref": "ArchiveBucket"}),
            "s3:*",
            [{"Fn::GetAtt": ["ArchiveBucket", "Arn"]}, {"Fn::Sub": "${ArchiveBucket.Arn}/*"}],
        ),
        (
            "FailureQueuePolicy",
            ("Queues", [{"Ref": "FailureQueue"}]),
            "sqs:*",
            {"Fn::GetAtt": ["FailureQueue", "Arn"]},
        ),
        (
            "AlertTopicPolicy",
            ("Topics", [{"Ref": "AlertTopic"}]),
            "sns:Publish",
            {"Ref": "AlertTopic"},
        ),
        (
            "FareTopicPolicy",
            ("Topics", [{"Ref": "FareTopic"}]),
            "sns:Publish",
            {"Ref": "FareTopic"},
        ),
    ],
)
def test_bucket_queue_and_topic_refuse_requests_without_tls(
    resources: dict[str, Any],
    policy_id: str,
    target: tuple[str, Any],
    actions: str,
    resource: Any,
) -> None:
    properties = resources[policy_id]["Properties"]
    assert properties[target[0]] == target[1]
    assert properties["PolicyDocument"]["Statement"] == [
        {
            "Sid": "DenyWithoutTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": actions,
            "Resource": resource,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]


def test_the_archive_keeps_its_public_access_block(resources: dict[str, Any]) -> None:
    block = resources["ArchiveBucket"]["Properties"]["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }


def test_exactly_the_data_routes_require_an_api_key(resources: dict[str, Any]) -> None:
    swagger = resources["RestAPI"]["Properties"]["DefinitionBody"]
    keyed = {
        path
        for path, methods in swagger["paths"].items()
        for method in methods.values()
        if {"api_key": []} in method.get("security", [])
    }
    assert set(swagger["paths"]) == DATA_ROUTES | OPEN_ROUTES
    assert keyed == DATA_ROUTES
    assert swagger["securityDefinitions"]["api_key"] == {
        "type": "apiKey",
        "name": "x-api-key",
        "in": "header",
    }


def test_a_key_in_a_usage_plan_on_the_apis_stage_with_throttle_and_quota(
    resources: dict[str, Any],
) -> None:
    key = resources[api_keys.API_KEY_ID]
    assert key["Type"] == "AWS::ApiGateway::ApiKey"
    assert key["Properties"]["Name"] == "wildrydes-dev"
    assert key["Properties"]["Enabled"] is True
    assert "Value" not in key["Properties"]  # generated by AWS, never written down
    plan = resources[api_keys.USAGE_PLAN_ID]["Properties"]
    # SAM's reference to the stage it makes, so the plan waits for the stage.
    assert plan["ApiStages"] == [{"ApiId": {"Ref": "RestAPI"}, "Stage": {"Ref": "RestAPI.Stage"}}]
    assert resources["RestAPI"]["Properties"]["StageName"] == "api"
    assert plan["Throttle"] == {"RateLimit": 10, "BurstLimit": 20}
    assert plan["Quota"] == {"Limit": 500_000, "Period": "DAY"}
    membership = resources[api_keys.USAGE_PLAN_KEY_ID]["Properties"]
    assert membership == {
        "KeyId": {"Ref": api_keys.API_KEY_ID},
        "KeyType": "API_KEY",
        "UsagePlanId": {"Ref": api_keys.USAGE_PLAN_ID},
    }


def test_outputs_name_the_key_and_how_to_read_its_value(sam: dict[str, Any]) -> None:
    outputs = sam["Outputs"]
    assert outputs["ApiKeyId"]["Value"] == {"Ref": "ApiKey"}
    assert outputs["ApiKeyValueCommand"]["Value"] == {
        "Fn::Sub": "aws apigateway get-api-key --api-key ${ApiKey} --include-value "
        "--query value --output text"
    }
    assert outputs["DataKeyArn"]["Value"] == DATA_KEY_ARN


def test_every_scan_finding_accepted_carries_its_reason_with_its_resource(
    resources: dict[str, Any],
) -> None:
    skips = {
        logical_id: {s["id"]: s["comment"] for s in r["Metadata"]["checkov"]["skip"]}
        for logical_id, r in resources.items()
        if "checkov" in r.get("Metadata", {})
    }
    assert set(skips) == {*FUNCTIONS, "RestAPI", "ArchiveBucket"}
    function_checks = {"CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_173"}
    assert all(set(skips[f]) == function_checks for f in FUNCTIONS)
    assert set(skips["RestAPI"]) == {"CKV_AWS_73", "CKV_AWS_76", "CKV_AWS_120"}
    assert set(skips["ArchiveBucket"]) == {"CKV_AWS_18", "CKV_AWS_21"}
    # Nothing about encryption, TLS or IAM is waved through.
    reasons = [reason for skipped in skips.values() for reason in skipped.values()]
    assert all(len(reason) > 40 for reason in reasons)
    # How Lambda invokes a function decides why: no reason is copied blindly.
    assert skips["Aggregate"]["CKV_AWS_116"] != skips["APIHandler"]["CKV_AWS_116"]
    assert skips["Report"]["CKV_AWS_116"] != skips["Vitals"]["CKV_AWS_116"]
