"""The query API's key: its usage plan, the template's resources and the deploy path's steps.

Deployed, the data routes (`api_key_required=True` in `app.py`: the fleet, a
unicorn, its summaries, the alerts) answer API Gateway's 403 "Forbidden"
unless the request carries the header `x-api-key`; the console's page, its
files and `/health` stay open. Each stage has one key, named like the stage's
functions (`wildrydes-dev`), in a usage plan of the same name bound to the
stage's REST API stage, with a throttle and a daily quota.

- `chalice package`: the merge template adds the key, the plan and the key's
  membership of the plan (`template_resources`), and outputs the key's id and
  the command that prints its value.
- `chalice deploy`: after Chalice has made the REST API, `ensure_api_key`
  finds or creates the same three with boto3; `remove_api_key` undoes them
  before `chalice delete`.
- `chalice local` (`make up`) does not check keys, and listens on loopback only.

Whoever may read the fleet's data reads the key's value with the AWS CLI
(`get_key_command`), then gives it to the console when it asks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from infra import names as infra_names
from infra.stages import Stage
from infra.triggers import REST_API_ID

Echo = Callable[[str], None]

API_KEY_ID = "ApiKey"
USAGE_PLAN_ID = "ApiUsagePlan"
USAGE_PLAN_KEY_ID = "ApiUsagePlanKey"
API_KEY_OUTPUT = "ApiKeyId"
API_KEY_COMMAND_OUTPUT = "ApiKeyValueCommand"

# One open console makes about 1.2 requests a second (fleet and alerts every
# 2 s, a selected unicorn's history every 5 s), and everyone shares the key:
# the throttle leaves room for a handful of consoles and scripts, and the
# quota (about four consoles around the clock) caps what a leaked key costs.
RATE_LIMIT = 10  # requests per second, sustained
BURST_LIMIT = 20
QUOTA_PER_DAY = 500_000
THROTTLE = {"rateLimit": RATE_LIMIT, "burstLimit": BURST_LIMIT}
QUOTA = {"limit": QUOTA_PER_DAY, "period": "DAY"}

DESCRIPTION = "Wild Rydes query API: the fleet, summaries and alerts"


def get_key_command(key_id: str) -> str:
    """The AWS CLI command that prints the value of the key `key_id`."""
    return (
        f"aws apigateway get-api-key --api-key {key_id} --include-value "
        "--query value --output text"
    )


# chalice package: the merge template.


def template_resources(stage: Stage) -> dict[str, Any]:
    """The key, its usage plan on the stage's REST API, and the key's place in the plan."""
    name = infra_names.api_key(stage.app_name, stage.name)
    return {
        API_KEY_ID: {
            "Type": "AWS::ApiGateway::ApiKey",
            "Properties": {"Name": name, "Description": DESCRIPTION, "Enabled": True},
        },
        USAGE_PLAN_ID: {
            "Type": "AWS::ApiGateway::UsagePlan",
            "Properties": {
                "UsagePlanName": name,
                "Description": DESCRIPTION,
                # SAM makes the stage (`RestAPI<stage>Stage`) from Chalice's
                # AWS::Serverless::Api; `RestAPI.Stage` is SAM's reference to
                # it, which makes the plan wait for it (a plain stage name
                # would not, and the plan would fail on a stage not yet made).
                "ApiStages": [
                    {"ApiId": {"Ref": REST_API_ID}, "Stage": {"Ref": f"{REST_API_ID}.Stage"}}
                ],
                "Throttle": {"RateLimit": RATE_LIMIT, "BurstLimit": BURST_LIMIT},
                "Quota": {"Limit": QUOTA_PER_DAY, "Period": "DAY"},
            },
        },
        USAGE_PLAN_KEY_ID: {
            "Type": "AWS::ApiGateway::UsagePlanKey",
            "Properties": {
                "KeyId": {"Ref": API_KEY_ID},
                "KeyType": "API_KEY",
                "UsagePlanId": {"Ref": USAGE_PLAN_ID},
            },
        },
    }


def template_outputs() -> dict[str, Any]:
    return {
        API_KEY_OUTPUT: {
            "Description": "Id of the API key the data routes require (header x-api-key)",
            "Value": {"Ref": API_KEY_ID},
        },
        API_KEY_COMMAND_OUTPUT: {
            "Description": "Prints the API key's value",
            "Value": {"Fn::Sub": get_key_command(f"${{{API_KEY_ID}}}")},
        },
    }


# chalice deploy: the same with boto3, after Chalice.


def ensure_api_key(
    apigateway: Any, name: str, rest_api_id: str, api_stage: str, *, echo: Echo
) -> str:
    """Find or create key and usage plan `name`, bound to the REST API's stage; the key's id."""
    key = _find(_api_keys(apigateway), name)
    if key is None:
        key = apigateway.create_api_key(name=name, description=DESCRIPTION, enabled=True)
        echo(f"  created API key {name}")
    plan = _find(_usage_plans(apigateway), name)
    if plan is None:
        plan = apigateway.create_usage_plan(
            name=name,
            description=DESCRIPTION,
            apiStages=[{"apiId": rest_api_id, "stage": api_stage}],
            throttle=THROTTLE,
            quota=QUOTA,
        )
        echo(f"  created usage plan {name} on {rest_api_id}/{api_stage}")
    else:
        _converge_plan(apigateway, plan, rest_api_id, api_stage, echo)
    members = apigateway.get_usage_plan_keys(usagePlanId=plan["id"]).get("items", [])
    if key["id"] not in {m["id"] for m in members}:
        apigateway.create_usage_plan_key(
            usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY"
        )
    return str(key["id"])


def remove_api_key(apigateway: Any, name: str, *, echo: Echo) -> bool:
    """Delete usage plan and key `name`, the plan's stages first; False if there were none."""
    removed = False
    plan = _find(_usage_plans(apigateway), name)
    if plan is not None:
        stages = [f"{s['apiId']}:{s['stage']}" for s in plan.get("apiStages", [])]
        if stages:
            apigateway.update_usage_plan(
                usagePlanId=plan["id"],
                patchOperations=[
                    {"op": "remove", "path": "/apiStages", "value": stage} for stage in stages
                ],
            )
        apigateway.delete_usage_plan(usagePlanId=plan["id"])
        echo(f"deleted usage plan {name}")
        removed = True
    key = _find(_api_keys(apigateway), name)
    if key is not None:
        apigateway.delete_api_key(apiKey=key["id"])
        echo(f"deleted API key {name}")
        removed = True
    return removed


def _converge_plan(
    apigateway: Any, plan: dict[str, Any], rest_api_id: str, api_stage: str, echo: Echo
) -> None:
    """Bind an existing plan to the stage and give it this module's limits."""
    operations = []
    stages = plan.get("apiStages", [])
    if not any(s["apiId"] == rest_api_id and s["stage"] == api_stage for s in stages):
        operations.append(
            {"op": "add", "path": "/apiStages", "value": f"{rest_api_id}:{api_stage}"}
        )
    for group, wanted in (("throttle", THROTTLE), ("quota", QUOTA)):
        current = plan.get(group, {})
        for field, value in wanted.items():
            if current.get(field) != value:
                path = f"/{group}/{field}"
                operations.append({"op": "replace", "path": path, "value": str(value)})
    if operations:
        apigateway.update_usage_plan(usagePlanId=plan["id"], patchOperations=operations)
        echo(f"  updated usage plan {plan['name']}")


def _find(items: Iterator[dict[str, Any]], name: str) -> dict[str, Any] | None:
    return next((item for item in items if item.get("name") == name), None)


def _api_keys(apigateway: Any) -> Iterator[dict[str, Any]]:
    for page in apigateway.get_paginator("get_api_keys").paginate():
        yield from page.get("items", [])


def _usage_plans(apigateway: Any) -> Iterator[dict[str, Any]]:
    for page in apigateway.get_paginator("get_usage_plans").paginate():
        yield from page.get("items", [])
