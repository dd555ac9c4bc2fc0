"""A stage's settings, read from `.chalice/config.json`.

Stage differences live in Chalice's own config file. Besides Chalice's keys,
infra reads `lambda_functions.<function>.event_source` (event-source settings
Chalice cannot express; Chalice ignores the key) and `lambda_runtime` (the
functions' Lambda runtime, which Chalice would take from the interpreter), at
the top level and per stage, the stage's taking precedence as Chalice's own
settings do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from chalice.config import Config

from infra import names
from infra.errors import InfraError
from infra.runtimes import Platform, stage_platform

PROJECT_DIR = Path(__file__).resolve().parent.parent
CONFIG_PATH = PROJECT_DIR / ".chalice" / "config.json"

# Chalice's default when a config sets no `api_gateway_stage`.
DEFAULT_API_GATEWAY_STAGE = "api"


@dataclass(frozen=True)
class Stage:
    """What infra needs to know about one stage of the Chalice config."""

    name: str
    app_name: str
    api_gateway_stage: str
    # Function name -> event-source properties as written (not yet validated).
    event_source: Mapping[str, Mapping[str, Any]]
    # The functions' environment variables, the stage's over the top level's.
    environment_variables: Mapping[str, str] = field(default_factory=dict)

    @property
    def resources_stack(self) -> str:
        return names.resources_stack(self.app_name, self.name)


def read_config(config_path: Path = CONFIG_PATH) -> dict[str, Any]:
    """The Chalice config as a dictionary; InfraError if missing or not a JSON object."""
    try:
        config = json.loads(config_path.read_text())
    except FileNotFoundError:
        raise InfraError(f"{config_path} not found") from None
    except json.JSONDecodeError as err:
        raise InfraError(f"{config_path} is not valid JSON: {err}") from None
    if not isinstance(config, dict):
        raise InfraError(f"{config_path} must hold a JSON object")
    return config


def load_stage(stage: str, config_path: Path = CONFIG_PATH) -> Stage:
    """Stage `stage` of the config; InfraError naming the known stages if there is none."""
    config = read_config(config_path)
    stages = config.get("stages") or {}
    if stage not in stages:
        known = ", ".join(sorted(stages)) or "none"
        raise InfraError(f"unknown stage {stage!r}: {config_path} defines {known}")
    settings = stages[stage]
    if not isinstance(settings, dict):
        raise InfraError(f"stage {stage!r}: stages.{stage} in {config_path} must be an object")
    return Stage(
        name=stage,
        app_name=str(config.get("app_name", "")),
        api_gateway_stage=str(
            settings.get("api_gateway_stage")
            or config.get("api_gateway_stage")
            or DEFAULT_API_GATEWAY_STAGE
        ),
        event_source=_event_source(stage, config, settings),
        environment_variables=_stage_wide(stage, config, settings),
    )


def function_variables(
    stage: str, function: str, config_path: Path = CONFIG_PATH
) -> dict[str, str]:
    """The environment variables the config gives `function` in `stage`, as Chalice
    merges them: the top level's, the stage's, then the function's own at each.
    InfraError as `load_stage`'s for a config it refuses."""
    load_stage(stage, config_path)
    config = Config(chalice_stage=stage, config_from_disk=read_config(config_path))
    return dict(config.scope(stage, function).environment_variables)


# Environment variables Lambda sets itself and refuses in a function's
# configuration, and the one that would send the functions' calls elsewhere.
LAMBDA_RESERVED = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_REGION",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "LAMBDA_RUNTIME_DIR",
        "LAMBDA_TASK_ROOT",
    }
)
NOT_ON_AWS = frozenset({"AWS_ENDPOINT_URL"})


def check_deployable(stage: Stage) -> None:
    """InfraError if `stage` sets variables no function on AWS may have: the local stage
    does, to reach the embedded endpoint from `chalice local`."""
    refused = sorted(
        name
        for name in stage.environment_variables
        if name in LAMBDA_RESERVED | NOT_ON_AWS or name.startswith("AWS_LAMBDA_")
    )
    if refused:
        raise InfraError(
            f"stage {stage.name!r} cannot be deployed: it sets {', '.join(refused)}, which "
            "Lambda reserves or which would send the functions' calls elsewhere (it is for "
            "the embedded endpoint, `make up` and `chalice local`); deploy dev, prod or a "
            "stage of your own"
        )


def load_platform(
    stage: str, config_path: Path = CONFIG_PATH, *, today: date | None = None
) -> Platform:
    """The Lambda runtime and architecture of `stage` (`infra.runtimes`), checked for `today`
    (UTC by default): InfraError if Lambda does not run it, or no longer does."""
    config = read_config(config_path)
    load_stage(stage, config_path)  # an unknown stage is named as such
    settings = config["stages"][stage]
    when = today if today is not None else datetime.now(UTC).date()
    return stage_platform(stage, config, settings, today=when)


# Variables that must be the same for every function, because more than one reads them:
# STATUS_INTERVAL is how often vitals writes a status, and the console (the API
# function) says so; set for one function alone, the other would be wrong.
STAGE_WIDE = ("STATUS_INTERVAL",)


def _stage_wide(
    stage: str, config: Mapping[str, Any], settings: Mapping[str, Any]
) -> dict[str, str]:
    """The stage's variables, the stage's over the top level's; InfraError if a function
    sets one of STAGE_WIDE for itself."""
    for where, scope in (("lambda_functions", config), (f"stages.{stage}", settings)):
        for function, function_settings in (scope.get("lambda_functions") or {}).items():
            own = (function_settings or {}).get("environment_variables") or {}
            for name in STAGE_WIDE:
                if name in own:
                    prefix = "" if where == "lambda_functions" else f"{where}."
                    raise InfraError(
                        f"stage {stage!r}: {prefix}lambda_functions.{function} sets {name} for "
                        f"{function} alone; set it in environment_variables for every function "
                        "(vitals writes by it and the console says it)"
                    )
    return {
        **(config.get("environment_variables") or {}),
        **(settings.get("environment_variables") or {}),
    }


def _event_source(
    stage: str, config: Mapping[str, Any], settings: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for where, scope in (("lambda_functions", config), (f"stages.{stage}", settings)):
        functions = scope.get("lambda_functions") or {}
        for function, function_settings in functions.items():
            overrides = (function_settings or {}).get("event_source")
            if overrides is None:
                continue
            if not isinstance(overrides, dict):
                raise InfraError(
                    f"stage {stage!r}, function {function!r}: "
                    f"{where}.lambda_functions.{function}.event_source must be an object"
                )
            merged.setdefault(function, {}).update(overrides)
    return merged
