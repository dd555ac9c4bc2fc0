"""The templates infra generates: the merge template and the supporting stack's.

`merge_template(stage)` is what `chalice package --merge-template` deep-merges
into Chalice's SAM template: the supporting resources, plus overrides of the
Chalice functions (event-source settings, environment, creation order). Its
dictionaries merge key by key; its lists replace Chalice's.
`supporting_template(stage)` is the supporting resources alone, the stack the
`chalice deploy` path creates before running Chalice.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from infra import names as infra_names
from infra.errors import InfraError
from infra.event_sources import event_source_settings
from infra.resources import (
    ALERT_TOPIC_ID,
    ARCHIVE_BUCKET_ID,
    FAILURE_QUEUE_ID,
    RAW_STREAM_ID,
    STATUS_TABLE_ID,
    SUMMARY_STREAM_ID,
    SUMMARY_TABLE_ID,
    supporting_resources,
)
from infra.stages import CONFIG_PATH, Stage, load_stage
from infra.triggers import REST_API_ID, function_logical_ids, kinesis_triggers

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
        "report": archive,
        "vitals": {
            infra_names.ALERT_TOPIC_VARIABLE: {"Ref": ALERT_TOPIC_ID},
            infra_names.API_URL_VARIABLE: {"Fn::Sub": api_url},
        },
    }


def function_overrides(stage: str, config_path: Path = CONFIG_PATH) -> dict[str, Any]:
    """Logical id -> what the merge template adds to each Chalice function."""
    settings = event_source_settings(stage, config_path=config_path)
    environment = function_environment(load_stage(stage, config_path))
    events = {}
    for trigger in kinesis_triggers():
        if trigger.function not in settings:
            raise InfraError(
                f"function {trigger.function!r} reads a Kinesis stream but has no "
                "event-source defaults in infra/event_sources.py"
            )
        events[trigger.function] = {
            trigger.event_logical_id: {"Properties": settings[trigger.function]}
        }
    overrides: dict[str, Any] = {}
    for function, logical_id in function_logical_ids().items():
        properties: dict[str, Any] = {}
        if function in environment:
            properties["Environment"] = {"Variables": environment[function]}
        if function in events:
            properties["Events"] = events[function]
        referenced = references(properties)
        overrides[logical_id] = {
            "DependsOn": [d for d in FUNCTION_DEPENDENCIES if d not in referenced]
        }
        if properties:
            overrides[logical_id]["Properties"] = properties
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
        "Resources": {**fragment["Resources"], **function_overrides(stage, config_path)},
        "Outputs": fragment["Outputs"],
    }


def supporting_template(stage: str, config_path: Path = CONFIG_PATH) -> dict[str, Any]:
    """A standalone template of the supporting resources (the `chalice deploy` path)."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"Wild Rydes supporting resources (stage {stage})",
        **supporting_resources(stage, config_path),
    }


def render(template: dict[str, Any]) -> str:
    """A template as the JSON text written to files: indented, stable, newline-terminated."""
    return json.dumps(template, indent=2) + "\n"
