"""The `chalice deploy` path: supporting stack, recorded outputs, Chalice, then what it cannot do.

1. Create or update the stack `<app>-<stage>-resources` from the supporting
   resources, printing its events.
2. Record the outputs the functions need in `.chalice/config.json` (the
   chalice-workshop "record resources" pattern), so Chalice sets them.
3. Run `chalice deploy`.
4. Apply the event-source settings Chalice cannot express to each mapping, and
   give `vitals` the API's URL (known only after step 3), recording it too.
5. Find or create the API key the data routes require, in its usage plan on
   the REST API's stage (`infra.api_keys`), and say how to read its value.

Each step is a small function handed its boto3 client, the clock's `sleep`
and an `echo` for progress, so tests drive them against moto without waiting.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from infra import names as infra_names
from infra.api_keys import ensure_api_key, get_key_command, remove_api_key
from infra.chalice_cli import ChaliceRunner
from infra.errors import InfraError
from infra.event_sources import event_source_settings, kinesis_mappings, mapping_update_kwargs
from infra.jsonedit import set_values
from infra.monitoring import DASHBOARD_OUTPUT, OPERATIONS_EMAIL, OPERATIONS_TOPIC_OUTPUT
from infra.resources import (
    ALERT_TOPIC_OUTPUT,
    ARCHIVE_BUCKET_ID,
    ARCHIVE_BUCKET_OUTPUT,
    DATA_KEY_OUTPUT,
    FAILURE_QUEUE_ARN_OUTPUT,
    FARE_TOPIC_OUTPUT,
)
from infra.stages import CONFIG_PATH, check_deployable, load_platform, load_stage
from infra.system import ALERT_EMAIL, ALERT_TOPIC_ID, FARE_EMAIL, FARE_TOPIC_ID
from infra.template import function_environment, stack_body, supporting_template
from infra.template_store import TemplateStore, template_source
from infra.triggers import KinesisTrigger

Echo = Callable[[str], None]
Sleep = Callable[[float], None]

# The stack output carrying each resource that functions receive by Ref.
OUTPUT_OF_RESOURCE = {
    ARCHIVE_BUCKET_ID: ARCHIVE_BUCKET_OUTPUT,
    ALERT_TOPIC_ID: ALERT_TOPIC_OUTPUT,
    FARE_TOPIC_ID: FARE_TOPIC_OUTPUT,
}

POLL_SECONDS = 5.0
STACK_TIMEOUT_SECONDS = 3600.0
SETTLE_ATTEMPTS = 60  # polls of a mapping or function still being updated

_NO_UPDATES = "No updates are to be performed"


# Step 1: the supporting stack.


def ensure_stack(
    cloudformation: Any,
    name: str,
    template: Mapping[str, Any],
    parameters: Mapping[str, str],
    *,
    echo: Echo,
    sleep: Sleep = time.sleep,
    templates: TemplateStore | None = None,
) -> dict[str, str]:
    """Create or update stack `name`, wait for it, and return its outputs.

    Parameters not given keep their previous value on an update (their
    default on a create). "No updates" is success. A template too big to
    send inline goes through `templates` (see `infra.template_store`).
    """
    existing = describe_stack(cloudformation, name)
    if existing is not None and existing["StackStatus"].endswith("_IN_PROGRESS"):
        echo(f"{name} is {existing['StackStatus']}; waiting for it first")
        if _wait(cloudformation, existing["StackId"], echo, sleep, set()) == "DELETE_COMPLETE":
            existing = None
        else:
            existing = _describe_by_id(cloudformation, existing["StackId"])
    if existing is not None and existing["StackStatus"] == "ROLLBACK_COMPLETE":
        raise InfraError(
            f"stack {name} failed to create earlier and cannot be updated; "
            "delete it (python -m infra destroy) and deploy again"
        )
    source = template_source(name, stack_body(dict(template)), templates)
    if "TemplateURL" in source:
        echo(f"template of {name} uploaded to {source['TemplateURL']}")
    declared = template.get("Parameters", {})
    capabilities = ["CAPABILITY_IAM"]
    if existing is None:
        echo(f"creating stack {name}")
        stack_id = cloudformation.create_stack(
            StackName=name,
            **source,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=capabilities,
        )["StackId"]
        seen: set[str] = set()
        success = "CREATE_COMPLETE"
    else:
        stack_id = existing["StackId"]
        seen = _event_ids(cloudformation, stack_id)
        echo(f"updating stack {name}")
        try:
            cloudformation.update_stack(
                StackName=stack_id,
                **source,
                Parameters=_update_parameters(declared, parameters, existing),
                Capabilities=capabilities,
            )
        except ClientError as err:
            if _NO_UPDATES not in str(err):
                raise
            echo(f"{name}: no changes")
            return _outputs(existing)
        success = "UPDATE_COMPLETE"
    status = _wait(cloudformation, stack_id, echo, sleep, seen)
    if status != success:
        raise InfraError(
            f"stack {name} ended in {status}{_first_failure(cloudformation, stack_id)}"
        )
    return _outputs(_describe_by_id(cloudformation, stack_id))


def delete_stack(cloudformation: Any, name: str, *, echo: Echo, sleep: Sleep = time.sleep) -> bool:
    """Delete stack `name` and wait; False if there was none."""
    existing = describe_stack(cloudformation, name)
    if existing is None:
        return False
    stack_id = existing["StackId"]
    seen = _event_ids(cloudformation, stack_id)
    echo(f"deleting stack {name}")
    cloudformation.delete_stack(StackName=stack_id)
    status = _wait(cloudformation, stack_id, echo, sleep, seen)
    if status != "DELETE_COMPLETE":
        raise InfraError(
            f"stack {name} ended in {status}{_first_failure(cloudformation, stack_id)}"
        )
    return True


def describe_stack(cloudformation: Any, name: str) -> dict[str, Any] | None:
    """The live stack called `name`, or None."""
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as err:
        if "does not exist" in str(err):
            return None
        raise
    live = [s for s in stacks if s["StackStatus"] != "DELETE_COMPLETE"]
    return live[0] if live else None


def stack_outputs(cloudformation: Any, name: str) -> dict[str, str]:
    """Output key -> value of stack `name`; empty if there is no such stack."""
    stack = describe_stack(cloudformation, name)
    return _outputs(stack) if stack else {}


def _outputs(stack: Mapping[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _describe_by_id(cloudformation: Any, stack_id: str) -> dict[str, Any]:
    stack: dict[str, Any] = cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]
    return stack


def _wait(cloudformation: Any, stack_id: str, echo: Echo, sleep: Sleep, seen: set[str]) -> str:
    """Print new events until the stack settles; returns its final status."""
    waited = 0.0
    while True:
        for event in _new_events(cloudformation, stack_id, seen):
            reason = event.get("ResourceStatusReason")
            echo(
                f"  {event['LogicalResourceId']:<28} {event['ResourceStatus']}"
                + (f": {reason}" if reason else "")
            )
        try:
            status = str(_describe_by_id(cloudformation, stack_id)["StackStatus"])
        except ClientError as err:
            # Some endpoints forget a deleted stack at once instead of
            # reporting DELETE_COMPLETE.
            if "does not exist" in str(err):
                return "DELETE_COMPLETE"
            raise
        if not status.endswith("_IN_PROGRESS"):
            return status
        if waited >= STACK_TIMEOUT_SECONDS:
            raise InfraError(f"stack {stack_id} still {status} after {waited:.0f} s")
        sleep(POLL_SECONDS)
        waited += POLL_SECONDS


def _update_parameters(
    declared: Iterable[str], given: Mapping[str, str], existing: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """An update's parameters: the given ones, and the stack's current values for the rest.

    The current values are sent as values rather than UsePreviousValue: a
    parameter the deployed stack does not have yet (added by a newer
    template) must be left out to take its default, as CloudFormation refuses
    UsePreviousValue for it. None of the parameters is NoEcho, so the values
    read back are the real ones.
    """
    current = {p["ParameterKey"]: p["ParameterValue"] for p in existing.get("Parameters", [])}
    found: list[dict[str, Any]] = []
    for key in declared:
        if key in given:
            found.append({"ParameterKey": key, "ParameterValue": given[key]})
        elif key in current:
            found.append({"ParameterKey": key, "ParameterValue": current[key]})
    return found


def _events(cloudformation: Any, stack_id: str) -> list[dict[str, Any]]:
    try:
        events: list[dict[str, Any]] = cloudformation.describe_stack_events(StackName=stack_id)[
            "StackEvents"
        ]
    except ClientError as err:
        if "does not exist" in str(err):
            return []
        raise
    return events


def _event_ids(cloudformation: Any, stack_id: str) -> set[str]:
    return {e["EventId"] for e in _events(cloudformation, stack_id)}


def _new_events(cloudformation: Any, stack_id: str, seen: set[str]) -> list[dict[str, Any]]:
    # The API lists newest first; progress reads oldest first.
    fresh = [e for e in reversed(_events(cloudformation, stack_id)) if e["EventId"] not in seen]
    seen.update(e["EventId"] for e in fresh)
    return fresh


def _first_failure(cloudformation: Any, stack_id: str) -> str:
    for event in reversed(_events(cloudformation, stack_id)):
        if event["ResourceStatus"].endswith("_FAILED") and event.get("ResourceStatusReason"):
            return (
                f"; first failure: {event['LogicalResourceId']}: {event['ResourceStatusReason']}"
            )
    return ""


# Step 2: recording values in the Chalice config.


def record_environment(
    config_path: Path, stage: str, variables: Mapping[str, str], function: str | None = None
) -> bool:
    """Set environment variables of `stage` (of one of its functions if given) in the config.

    Edits the file in place, keeping its layout; returns whether it changed.
    """
    path = ["stages", stage]
    if function is not None:
        path += ["lambda_functions", function]
    text = config_path.read_text()
    updated = set_values(text, [*path, "environment_variables"], variables)
    if updated == text:
        return False
    config_path.write_text(updated)
    return True


def recorded_outputs(
    environment: Mapping[str, Mapping[str, Any]], outputs: Mapping[str, str], stack: str
) -> dict[str, dict[str, str]]:
    """Function -> the variables the packaged template sets by Ref, valued from the outputs.

    Derived from the same `function_environment` as the template, so each
    function gets exactly the variables it gets on the package path.
    """
    recorded: dict[str, dict[str, str]] = {}
    for function, variables in environment.items():
        for variable, value in variables.items():
            resource = value.get("Ref") if isinstance(value, Mapping) else None
            if resource not in OUTPUT_OF_RESOURCE:
                continue
            output = OUTPUT_OF_RESOURCE[resource]
            if output not in outputs:
                raise InfraError(f"stack {stack} has no output {output}")
            recorded.setdefault(function, {})[variable] = outputs[output]
    return recorded


# Step 4: what Chalice cannot do.


def deployed_resources(config_path: Path, stage: str) -> dict[str, dict[str, Any]]:
    """Chalice's record of what it deployed for `stage`, by resource name."""
    path = config_path.parent / "deployed" / f"{stage}.json"
    try:
        deployed = json.loads(path.read_text())
    except FileNotFoundError:
        raise InfraError(f"{path} not found: has `chalice deploy --stage {stage}` run?") from None
    return {resource["name"]: resource for resource in deployed.get("resources", [])}


def mapping_uuids(
    lambda_client: Any,
    deployed: Mapping[str, Mapping[str, Any]],
    triggers: Iterable[KinesisTrigger],
) -> dict[str, str]:
    """Function name -> UUID of its Kinesis mapping, from Chalice's record or Lambda."""
    uuids = {}
    for trigger in triggers:
        # Chalice names a function's mapping `<function>-kinesis-event-source`.
        recorded = deployed.get(f"{trigger.function}-kinesis-event-source", {})
        uuid = recorded.get("event_uuid") or _find_mapping(lambda_client, deployed, trigger)
        uuids[trigger.function] = uuid
    return uuids


def _find_mapping(
    lambda_client: Any, deployed: Mapping[str, Mapping[str, Any]], trigger: KinesisTrigger
) -> str:
    function_arn = deployed.get(trigger.function, {}).get("lambda_arn")
    if function_arn:
        pages = lambda_client.get_paginator("list_event_source_mappings").paginate(
            FunctionName=function_arn
        )
        for page in pages:
            for mapping in page["EventSourceMappings"]:
                if mapping["EventSourceArn"].endswith(f":stream/{trigger.stream}"):
                    return str(mapping["UUID"])
    raise InfraError(
        f"no Kinesis mapping of function {trigger.function!r} on stream {trigger.stream!r}: "
        "did `chalice deploy` finish?"
    )


def apply_event_source_settings(
    lambda_client: Any,
    uuids: Mapping[str, str],
    settings: Mapping[str, Mapping[str, Any]],
    *,
    echo: Echo,
    sleep: Sleep = time.sleep,
) -> None:
    """Update each function's mapping to its settings."""
    for function, uuid in uuids.items():
        _settle(
            partial(_mapping_settled, lambda_client, uuid), f"mapping {uuid} of {function}", sleep
        )
        lambda_client.update_event_source_mapping(
            **mapping_update_kwargs(uuid, settings[function])
        )
        shown = ", ".join(
            f"{k}={v}" for k, v in settings[function].items() if k != "DestinationConfig"
        )
        echo(f"  {function}: {shown}")


def _mapping_settled(lambda_client: Any, uuid: str) -> bool:
    state = lambda_client.get_event_source_mapping(UUID=uuid)["State"]
    return state not in ("Creating", "Enabling", "Updating", "Disabling")


def set_function_environment(
    lambda_client: Any,
    function_name: str,
    variables: Mapping[str, str],
    *,
    sleep: Sleep = time.sleep,
) -> bool:
    """Add `variables` to a function's environment, keeping the others; False if already set."""

    def configuration() -> dict[str, Any]:
        result: dict[str, Any] = lambda_client.get_function_configuration(
            FunctionName=function_name
        )
        return result

    current = configuration().get("Environment", {}).get("Variables", {})
    if all(current.get(k) == v for k, v in variables.items()):
        return False
    # Lambda refuses a configuration change while the previous one is applied.
    _settle(
        lambda: configuration().get("LastUpdateStatus") != "InProgress",
        f"function {function_name}",
        sleep,
    )
    lambda_client.update_function_configuration(
        FunctionName=function_name, Environment={"Variables": {**current, **variables}}
    )
    return True


def _settle(ready: Callable[[], bool], what: str, sleep: Sleep) -> None:
    for _ in range(SETTLE_ATTEMPTS):
        if ready():
            return
        sleep(POLL_SECONDS)
    raise InfraError(f"{what} is still being updated after {SETTLE_ATTEMPTS * POLL_SECONDS:.0f} s")


# The whole path.


def deploy(
    stage: str,
    *,
    cloudformation: Any,
    lambda_client: Any,
    apigateway: Any,
    chalice: ChaliceRunner,
    alert_email: str | None = None,
    operations_email: str | None = None,
    fare_email: str | None = None,
    config_path: Path = CONFIG_PATH,
    echo: Echo,
    sleep: Sleep = time.sleep,
    templates: TemplateStore | None = None,
) -> None:
    """Deploy `stage` the `chalice deploy` way, ending in the same system as the package path."""
    # A bad stage setting should fail here, before anything changes on AWS.
    event_source_settings(stage, config_path=config_path)
    settings_of_stage = load_stage(stage, config_path)
    check_deployable(settings_of_stage)
    stack = settings_of_stage.resources_stack
    # Given ones only: a later deploy without them keeps the stack's values.
    given = {ALERT_EMAIL: alert_email, OPERATIONS_EMAIL: operations_email, FARE_EMAIL: fare_email}
    parameters = {name: value for name, value in given.items() if value is not None}

    echo(f"[1/5] supporting resources: stack {stack}")
    outputs = ensure_stack(
        cloudformation,
        stack,
        supporting_template(stage, config_path),
        parameters,
        echo=echo,
        sleep=sleep,
        templates=templates,
    )

    environment = function_environment(load_stage(stage, config_path))
    recorded = recorded_outputs(environment, outputs, stack)
    shown = sorted({variable for variables in recorded.values() for variable in variables})
    echo(f"[2/5] recording {', '.join(shown)} in {config_path}")
    for function, variables in recorded.items():
        record_environment(config_path, stage, variables, function)

    platform = load_platform(stage, config_path)
    echo(f"[3/5] chalice deploy --stage {stage}: every function on {platform.describe}")
    chalice(["deploy", "--stage", stage])

    echo("[4/5] event-source settings and the API's URL")
    deployed = deployed_resources(config_path, stage)
    mappings = kinesis_mappings(
        stage, failure_destination=outputs[FAILURE_QUEUE_ARN_OUTPUT], config_path=config_path
    )
    uuids = mapping_uuids(lambda_client, deployed, [m.trigger for m in mappings])
    settings = {m.function: m.properties for m in mappings}
    apply_event_source_settings(lambda_client, uuids, settings, echo=echo, sleep=sleep)
    api_url = deployed.get("rest_api", {}).get("rest_api_url")
    if api_url:
        for function in _functions_needing_api_url(stage, config_path):
            variables = {infra_names.API_URL_VARIABLE: api_url}
            set_function_environment(
                lambda_client, deployed[function]["lambda_arn"], variables, sleep=sleep
            )
            # Recorded so the next `chalice deploy` sets it rather than removes it.
            record_environment(config_path, stage, variables, function)
            echo(f"  {function}: {infra_names.API_URL_VARIABLE}={api_url}")
    rest_api_id = deployed.get("rest_api", {}).get("rest_api_id")
    if rest_api_id:
        name = infra_names.api_key(settings_of_stage.app_name, stage)
        echo(f"[5/5] the API key of the data routes: {name}")
        key_id = ensure_api_key(
            apigateway, name, rest_api_id, settings_of_stage.api_gateway_stage, echo=echo
        )
        echo(f"  API key id {key_id}; its value: {get_key_command(key_id)}")
    if OPERATIONS_TOPIC_OUTPUT in outputs:
        echo(f"  alarms notify {outputs[OPERATIONS_TOPIC_OUTPUT]}")
    if DASHBOARD_OUTPUT in outputs:
        echo(f"  dashboard {outputs[DASHBOARD_OUTPUT]}")
    echo(f"deployed stage {stage}")


def _functions_needing_api_url(stage: str, config_path: Path) -> list[str]:
    environment = function_environment(load_stage(stage, config_path))
    return [f for f, variables in environment.items() if infra_names.API_URL_VARIABLE in variables]


def destroy(
    stage: str,
    *,
    cloudformation: Any,
    apigateway: Any,
    chalice: ChaliceRunner,
    config_path: Path = CONFIG_PATH,
    echo: Echo,
    sleep: Sleep = time.sleep,
) -> None:
    """Delete the API key, the Chalice app, then the supporting stack; archive and key stay."""
    settings_of_stage = load_stage(stage, config_path)
    stack = settings_of_stage.resources_stack
    # Before the REST API goes: a usage plan holding its stage blocks deletions.
    remove_api_key(apigateway, infra_names.api_key(settings_of_stage.app_name, stage), echo=echo)
    if (config_path.parent / "deployed" / f"{stage}.json").exists():
        echo(f"chalice delete --stage {stage}")
        chalice(["delete", "--stage", stage])
    else:
        echo(f"no Chalice deployment recorded for stage {stage}")
    outputs = stack_outputs(cloudformation, stack)
    bucket = outputs.get(ARCHIVE_BUCKET_OUTPUT)
    key_arn = outputs.get(DATA_KEY_OUTPUT)
    if not delete_stack(cloudformation, stack, echo=echo, sleep=sleep):
        echo(f"no stack {stack}")
    if bucket:
        echo(
            f"kept the archive bucket {bucket} (DeletionPolicy Retain); deploying this "
            "stage again needs it gone (same name). To remove it and everything in it: "
            f"aws s3 rb s3://{bucket} --force"
        )
    if key_arn:
        echo(
            f"kept the key {key_arn} (DeletionPolicy Retain): the archive is encrypted with "
            "it. Once the archive is gone: "
            f"aws kms schedule-key-deletion --key-id {key_arn} --pending-window-in-days 7"
        )
