"""The packaged template translates with SAM and passes cfn-lint.

cfn-lint alone does not validate SAM event properties; translating with
aws-sam-translator first (as CloudFormation's transform would) makes SAM
check them and lets cfn-lint check the resulting mappings, roles and API.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from cfnlint import ManualArgs
from cfnlint.api import lint
from samtranslator.translator.transform import transform

# These read the output of a real `python -m infra package` run.
pytestmark = pytest.mark.slow


class NoManagedPolicies:
    """SAM's managed-policy loader, offline: Chalice gives every function its own role."""

    def load(self) -> dict[str, str]:
        return {}


def as_after_cloudformation_package(sam: dict[str, Any]) -> dict[str, Any]:
    """`aws cloudformation package` replaces each local CodeUri with an S3 URI."""
    packaged = copy.deepcopy(sam)
    for resource in packaged["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://bucket/key.zip"
    return packaged


@pytest.fixture(scope="module")
def translated(sam: dict[str, Any]) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")  # SAM resolves pseudo parameters
        result: dict[str, Any] = transform(
            as_after_cloudformation_package(sam), {}, NoManagedPolicies()
        )
    return result


def findings(template: dict[str, Any]) -> list[str]:
    matches = lint(json.dumps(template), config=ManualArgs(regions=["us-east-1"]))
    return [f"{m.rule.id} {'/'.join(map(str, m.path))}: {m.message}" for m in matches]


def test_sam_makes_one_mapping_per_kinesis_function_with_infra_settings(
    translated: dict[str, Any],
) -> None:
    mappings = {
        r["Properties"]["FunctionName"]["Ref"]: r["Properties"]
        for r in translated["Resources"].values()
        if r["Type"] == "AWS::Lambda::EventSourceMapping"
    }
    assert set(mappings) == {"Aggregate", "Persist", "Vitals", "AggregateTrips", "PersistInsights"}
    assert mappings["Aggregate"]["TumblingWindowInSeconds"] == 60
    assert mappings["AggregateTrips"]["TumblingWindowInSeconds"] == 60
    assert mappings["Persist"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mappings["PersistInsights"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    for mapping in mappings.values():
        assert mapping["DestinationConfig"] == {
            "OnFailure": {"Destination": {"Fn::GetAtt": ["FailureQueue", "Arn"]}}
        }


def test_translated_template_has_no_cfn_lint_findings(translated: dict[str, Any]) -> None:
    assert findings(translated) == []


def test_packaged_template_has_no_cfn_lint_findings(sam: dict[str, Any]) -> None:
    # cfn-lint runs its own SAM transform on the file as packaged.
    assert findings(as_after_cloudformation_package(sam)) == []


def test_the_usage_plan_waits_for_the_stage_sam_makes(translated: dict[str, Any]) -> None:
    resources = translated["Resources"]
    (stage,) = [
        logical_id
        for logical_id, r in resources.items()
        if r["Type"] == "AWS::ApiGateway::Stage" and r["Properties"]["StageName"] == "api"
    ]
    # A Ref to the stage: CloudFormation makes the plan after it.
    assert resources["ApiUsagePlan"]["Properties"]["ApiStages"] == [
        {"ApiId": {"Ref": "RestAPI"}, "Stage": {"Ref": stage}}
    ]
