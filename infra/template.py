"""The templates infra generates: the merge template and the supporting stack's.

`merge_template(stage)` is what `chalice package --merge-template` deep-merges
into Chalice's SAM template: the supporting resources, the query API's key
and usage plan, plus overrides of the Chalice functions (event-source
settings, environment, names, creation order) and of their roles (the same
statements as `.chalice/policy-*.json`, with exact ARNs). Its dictionaries
merge key by key; its lists replace Chalice's.
`supporting_template(stage)` is the supporting resources alone, the stack the
`chalice deploy` path creates before running Chalice.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from infra import accepted_findings, api_keys
from infra import names as infra_names
from infra.errors import InfraError
from infra.event_sources import kinesis_mappings
from infra.policies import policies, template_arns
from infra.resources import (
    ARCHIVE_BUCKET_ID,
    log_group_logical_id,
    supporting_resources,
)
from infra.stages import CONFIG_PATH, Stage, load_stage
from infra.system import (
    ALERT_TOPIC_ID,
    FAILURE_QUEUE_ID,
    FARE_ALERT_TABLE_ID,
    FARE_TOPIC_ID,
    INSIGHT_STREAM_ID,
    INSIGHT_TABLE_ID,
    RAW_STREAM_ID,
    SHARD_TURN_TABLE_ID,
    STATUS_TABLE_ID,
    SUMMARY_STREAM_ID,
    SUMMARY_TABLE_ID,
    TRIP_ID_TABLE_ID,
    TRIP_STREAM_ID,
)
from infra.triggers import (
    API_HANDLER,
    REST_API_ID,
    function_logical_ids,
    kinesis_triggers,
    role_logical_id,
    scheduled_functions,
)

# Chalice's event sources name their stream in an `Fn::Sub` ARN string, which
# makes no dependency; without these, CloudFormation may create a mapping
# before its stream, and on delete remove a table before the function using
# it. A function's DependsOn leaves out what its overrides already reference
# (a Ref, GetAtt or Sub makes the dependency; cfn-lint W3005 flags repeating it).
FUNCTION_DEPENDENCIES = (
    RAW_STREAM_ID,
    SUMMARY_STREAM_ID,
    SUMMARY_TABLE_ID,
    STATUS_TABLE_ID,
    TRIP_STREAM_ID,
    INSIGHT_STREAM_ID,
    INSIGHT_TABLE_ID,
    TRIP_ID_TABLE_ID,
    FARE_ALERT_TABLE_ID,
    SHARD_TURN_TABLE_ID,
    FAILURE_QUEUE_ID,
)


def function_environment(stage: Stage) -> dict[str, dict[str, Any]]:
    """Function name -> environment variables carrying generated names, as CloudFormation."""
    api_url = (
        f"https://${{{REST_API_ID}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}"
        f"/{stage.api_gateway_stage}/"
    )
    archive = {infra_names.ARCHIVE_BUCKET_VARIABLE: {"Ref": ARCHIVE_BUCKET_ID}}
    return {
        "aggregate": archive,
        "persist": archive,
        "aggregate_trips": archive,
        "report": archive,
        "vitals": {
            infra_names.ALERT_TOPIC_VARIABLE: {"Ref": ALERT_TOPIC_ID},
            infra_names.API_URL_VARIABLE: {"Fn::Sub": api_url},
        },
        "persist_insights": {
            **archive,
            infra_names.FARE_TOPIC_VARIABLE: {"Ref": FARE_TOPIC_ID},
            infra_names.API_URL_VARIABLE: {"Fn::Sub": api_url},
        },
    }


def function_overrides(stage: str, config_path: Path = CONFIG_PATH) -> dict[str, Any]:
    """Logical id -> what the merge template adds to each Chalice function."""
    chosen = load_stage(stage, config_path)
    environment = function_environment(chosen)
    events = {
        mapping.function: {mapping.trigger.event_logical_id: {"Properties": mapping.properties}}
        for mapping in kinesis_mappings(stage, config_path=config_path)
    }
    overrides: dict[str, Any] = {}
    for function, logical_id in function_logical_ids().items():
        # Chalice's `chalice deploy` names: the log group made for the function
        # is the one Lambda writes to, and both paths make the same functions.
        properties: dict[str, Any] = {
            "FunctionName": infra_names.function_name(chosen.app_name, stage, function)
        }
        if function in environment:
            properties["Environment"] = {"Variables": environment[function]}
        if function in events:
            properties["Events"] = events[function]
        referenced = references(properties)
        # Its log group first, or Lambda would make one (unencrypted, kept forever).
        depends_on = [*FUNCTION_DEPENDENCIES, log_group_logical_id(function)]
        overrides[logical_id] = {
            "DependsOn": [d for d in depends_on if d not in referenced],
            "Metadata": accepted_findings.checkov_metadata(_accepted_findings(function)),
            "Properties": properties,
        }
    return overrides


def _accepted_findings(function: str) -> dict[str, str]:
    """The scan findings accepted for a function, which depend on how Lambda invokes it."""
    if function in {t.function for t in kinesis_triggers()}:
        return accepted_findings.STREAM_FUNCTION
    if function in {s.function for s in scheduled_functions()}:
        return accepted_findings.SCHEDULED_FUNCTION
    if function == API_HANDLER:
        return accepted_findings.API_FUNCTION
    raise InfraError(
        f"function {function!r} is neither a stream, a scheduled nor the API function: "
        "say in infra/accepted_findings.py which scan findings apply to it"
    )


def role_overrides(stage: str, config_path: Path = CONFIG_PATH) -> dict[str, Any]:
    """Role logical id -> its policy with exact ARNs, replacing the one from the policy file."""
    arns = template_arns(load_stage(stage, config_path).app_name, stage)
    overrides = {}
    for function, document in policies(arns).items():
        role = role_logical_id(function)
        # Chalice's policy name, so that the policy is replaced, not added.
        policy = {"PolicyName": f"{role}Policy", "PolicyDocument": document}
        overrides[role] = {"Properties": {"Policies": [policy]}}
    return overrides


def references(node: Any) -> set[str]:
    """Logical ids that a piece of template names in Ref, Fn::GetAtt or Fn::Sub."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt" and isinstance(value, list):
                found.add(str(value[0]))
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                found.update(m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text))
            found |= references(value)
    elif isinstance(node, list):
        for item in node:
            found |= references(item)
    return found


def merge_template(stage: str, config_path: Path = CONFIG_PATH) -> dict[str, Any]:
    """The template `chalice package --merge-template` merges into Chalice's."""
    fragment = supporting_resources(stage, config_path)
    return {
        "Description": f"Wild Rydes real-time data processing (stage {stage})",
        "Parameters": fragment["Parameters"],
        "Conditions": fragment["Conditions"],
        "Resources": {
            **fragment["Resources"],
            **api_keys.template_resources(load_stage(stage, config_path)),
            **function_overrides(stage, config_path),
            **role_overrides(stage, config_path),
            REST_API_ID: {
                "Metadata": accepted_findings.checkov_metadata(accepted_findings.REST_API)
            },
        },
        "Outputs": {**fragment["Outputs"], **api_keys.template_outputs()},
    }


def supporting_template(stage: str, config_path: Path = CONFIG_PATH) -> dict[str, Any]:
    """A standalone template of the supporting resources (the `chalice deploy` path)."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"Wild Rydes supporting resources (stage {stage})",
        **supporting_resources(stage, config_path),
    }


def stack_body(template: dict[str, Any]) -> str:
    """A template as sent to CloudFormation: compact JSON (CreateStack takes 51,200 bytes)."""
    return json.dumps(template, separators=(",", ":"))


def render(template: dict[str, Any]) -> str:
    """A template as the JSON text written to files: indented, stable, newline-terminated."""
    return json.dumps(template, indent=2) + "\n"
