"""The app's functions as the local runtime runs them, with what triggers each.

Everything comes from where the AWS deployment takes it: the handlers and
what the decorators say from the Chalice app (`infra.triggers`), memory,
timeout and environment from `.chalice/config.json` through Chalice's own
`Config`, the generated names each function receives from the same
derivation as `make deploy` (`infra.deploy.recorded_outputs`), and the
mapping settings Chalice cannot express from `infra.event_sources`. Each
function acts as its own role (`local.roles`): Lambda puts the role's
credentials in the function's environment, but here every function shares
one process, whose environment every thread sees, so the stack hands them
to the function's clients directly (`LocalStack`'s `prepare`).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalice.config import Config
from chalice.constants import DEFAULT_LAMBDA_MEMORY_SIZE, DEFAULT_LAMBDA_TIMEOUT

from infra.deploy import recorded_outputs
from infra.event_sources import kinesis_mappings
from infra.names import API_URL_VARIABLE
from infra.resources import FAILURE_QUEUE_ARN_OUTPUT
from infra.stages import CONFIG_PATH, load_stage, read_config
from infra.template import function_environment
from infra.triggers import scheduled_functions
from local.endpoint import ACCOUNT, REGION, client_environment
from local.invoke import FunctionSpec
from local.mapping import MappingSettings
from local.provision import Provisioned
from local.roles import RoleSession


@dataclass(frozen=True)
class LocalFunction:
    """A Kinesis-triggered function and its mapping."""

    spec: FunctionSpec
    mapping: MappingSettings


@dataclass(frozen=True)
class ScheduledLocalFunction:
    """A scheduled function and how often its rule fires."""

    spec: FunctionSpec
    expression: str  # as declared, e.g. "rate(15 minutes)"


class _Specs:
    """Makes a function's spec as Lambda would run it: config, generated names, variables."""

    def __init__(
        self,
        stage: str,
        provisioned: Provisioned,
        api_url: str,
        config_path: Path,
        endpoint_url: str,
        roles: Mapping[str, RoleSession],
    ) -> None:
        config_file = read_config(config_path)
        self.stage = stage
        self.app_name = str(config_file.get("app_name", "app"))
        self.config = Config(chalice_stage=stage, config_from_disk=config_file)
        self.environment_by_function = function_environment(load_stage(stage, config_path))
        self.generated = recorded_outputs(
            self.environment_by_function, provisioned.outputs, provisioned.stack
        )
        self.api_url = api_url
        self.endpoint_url = endpoint_url
        self.roles = roles

    def spec(self, function: str, handler_string: str) -> FunctionSpec:
        scoped = self.config.scope(self.stage, function)
        memory = int(scoped.lambda_memory_size or DEFAULT_LAMBDA_MEMORY_SIZE)
        deployed_name = f"{self.app_name}-{self.stage}-{function}"
        role = self.roles[function]
        environment = {
            **scoped.environment_variables,
            **self.generated.get(function, {}),
            **_lambda_variables(deployed_name, memory),
            # The endpoint running now, whatever port the stage's settings name.
            **client_environment(self.endpoint_url),
        }
        if API_URL_VARIABLE in self.environment_by_function.get(function, {}):
            environment[API_URL_VARIABLE] = self.api_url
        return FunctionSpec(
            name=function,
            deployed_name=deployed_name,
            arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{deployed_name}",
            handler=_handler(handler_string),
            environment=environment,
            timeout=float(scoped.lambda_timeout or DEFAULT_LAMBDA_TIMEOUT),
            memory=memory,
            role_arn=role.role_arn,
        )


def local_functions(
    stage: str,
    provisioned: Provisioned,
    *,
    api_url: str,
    endpoint_url: str,
    roles: Mapping[str, RoleSession],
    config_path: Path = CONFIG_PATH,
    retry_base: float = 1.0,
) -> list[LocalFunction]:
    """Every Kinesis function of the app, ready for the runtime, acting as its role."""
    specs = _Specs(stage, provisioned, api_url, config_path, endpoint_url, roles)
    mappings = kinesis_mappings(
        stage,
        failure_destination=provisioned.outputs[FAILURE_QUEUE_ARN_OUTPUT],
        config_path=config_path,
    )
    return [
        LocalFunction(
            specs.spec(mapping.function, mapping.trigger.handler_string),
            MappingSettings.from_definitions(mapping, retry_base=retry_base),
        )
        for mapping in mappings
    ]


def scheduled_local_functions(
    stage: str,
    provisioned: Provisioned,
    *,
    api_url: str,
    endpoint_url: str,
    roles: Mapping[str, RoleSession],
    config_path: Path = CONFIG_PATH,
) -> list[ScheduledLocalFunction]:
    """Every `@app.schedule` function of the app, ready for the runtime, acting as its role."""
    specs = _Specs(stage, provisioned, api_url, config_path, endpoint_url, roles)
    return [
        ScheduledLocalFunction(specs.spec(s.function, s.handler_string), s.expression)
        for s in scheduled_functions()
    ]


def _handler(handler_string: str) -> Any:
    module_name, _, attribute = handler_string.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def _lambda_variables(deployed_name: str, memory: int) -> Mapping[str, str]:
    """The variables Lambda itself sets in a function's environment."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": deployed_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{deployed_name}",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
    }
