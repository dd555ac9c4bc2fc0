"""Each Kinesis event source mapping, complete: what Chalice expresses and what it cannot.

`@app.on_kinesis_record` sets batch size, starting position and batching
window; everything else about a Kinesis event source mapping (tumbling window,
retries, bisecting, record age, partial batch responses, parallelization, the
on-failure destination) is defined here once, with the defaults below, and may
be overridden per stage in `.chalice/config.json` at
`stages.<stage>.lambda_functions.<function>.event_source`.

Settings use the property names shared by CloudFormation's
`AWS::Lambda::EventSourceMapping`, SAM's Kinesis event and Lambda's
`UpdateEventSourceMapping`, so the same dictionary feeds the packaged template,
the `chalice deploy` path and the local runtime. `kinesis_mappings` puts the
three together, once: the packaged template, `infra deploy` and the local
runtime all read a mapping from it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.errors import InfraError
from infra.stages import CONFIG_PATH, load_stage
from infra.system import FAILURE_QUEUE_ID

if TYPE_CHECKING:
    from infra.triggers import KinesisTrigger  # imports the app: only when asked for mappings

REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"

# Why each function has the values it has:
# - aggregate holds per-unicorn state in a tumbling window, and a window's
#   final invoke must succeed before its shard moves on, so it retries long
#   (50 attempts, 6 h) rather than lose a minute of statistics. It sets bad
#   records aside itself (dead-letter/), so a failed batch means the summary
#   stream or S3 failed, which halving the batch would not cure: no bisecting.
# - persist reports the rows it could not write (partial batch response), so a
#   retry resumes at the first failure; a day of retries outlasts a DynamoDB
#   or throttling incident.
# - vitals is about now: alerts older than ten minutes are noise, so it gives
#   up quickly and lets the next readings speak.
# - aggregate_trips and persist_insights are the taxi data set's aggregate
#   and persist, for the same reasons.
_WINDOWED = {
    "TumblingWindowInSeconds": 60,
    "BisectBatchOnFunctionError": False,
    "MaximumRetryAttempts": 50,
    "MaximumRecordAgeInSeconds": 21600,
    "ParallelizationFactor": 1,
}
_MERGING = {
    "BisectBatchOnFunctionError": True,
    "MaximumRetryAttempts": 10,
    "MaximumRecordAgeInSeconds": 86400,
    "FunctionResponseTypes": [REPORT_BATCH_ITEM_FAILURES],
    "ParallelizationFactor": 1,
}
DEFAULTS: dict[str, dict[str, Any]] = {
    "aggregate": _WINDOWED,
    "persist": _MERGING,
    "aggregate_trips": _WINDOWED,
    "persist_insights": _MERGING,
    "vitals": {
        "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": 5,
        "MaximumRecordAgeInSeconds": 600,
        "FunctionResponseTypes": [REPORT_BATCH_ITEM_FAILURES],
        "ParallelizationFactor": 1,
    },
}

WINDOWED_FUNCTIONS = tuple(f for f, d in DEFAULTS.items() if "TumblingWindowInSeconds" in d)


def window_stage(seconds: int) -> dict[str, Any]:
    """A stage's config whose windowed functions (every data set's aggregate) last `seconds`."""
    window = {"event_source": {"TumblingWindowInSeconds": seconds}}
    return {"lambda_functions": dict.fromkeys(WINDOWED_FUNCTIONS, window)}


# In CloudFormation the destination is the stack's failure queue; through the
# API it is the queue's ARN, passed in by whoever knows it.
FAILURE_QUEUE_ARN = {"Fn::GetAtt": [FAILURE_QUEUE_ID, "Arn"]}

# What `UpdateEventSourceMapping` is given for a property the settings leave
# out, so that removing a setting from the config switches it off on AWS as it
# does in CloudFormation.
_OFF = {"TumblingWindowInSeconds": 0, "FunctionResponseTypes": []}


@dataclass(frozen=True)
class _Rule:
    """What a stage may set a property to."""

    accepts: Callable[[Any], bool]
    allowed: str


def _whole(low: int, high: int, *, or_forever: bool = False) -> _Rule:
    def accepts(value: Any) -> bool:
        # bool is an int in Python; `true` is not a number of seconds.
        if not isinstance(value, int) or isinstance(value, bool):
            return False
        return low <= value <= high or (or_forever and value == -1)

    forever = "-1 (forever) or " if or_forever else ""
    return _Rule(accepts, f"{forever}a whole number from {low} to {high}")


# Ranges from the Lambda documentation (docs/lambda-kinesis.md has the sources).
RULES: dict[str, _Rule] = {
    "TumblingWindowInSeconds": _whole(1, 900),
    "BisectBatchOnFunctionError": _Rule(lambda v: isinstance(v, bool), "true or false"),
    "MaximumRetryAttempts": _whole(0, 10000, or_forever=True),
    # Lambda rejects ages under 60 s other than -1.
    "MaximumRecordAgeInSeconds": _whole(60, 604800, or_forever=True),
    "ParallelizationFactor": _whole(1, 10),
    "FunctionResponseTypes": _Rule(
        lambda v: isinstance(v, list) and all(t == REPORT_BATCH_ITEM_FAILURES for t in v),
        f'[] or ["{REPORT_BATCH_ITEM_FAILURES}"]',
    ),
}

# Properties a stage may not set here, and where they belong instead.
_ELSEWHERE = {
    "BatchSize": "set it in app.py's @app.on_kinesis_record",
    "StartingPosition": "set it in app.py's @app.on_kinesis_record",
    "MaximumBatchingWindowInSeconds": "set it in app.py's @app.on_kinesis_record",
    "DestinationConfig": "it is always the failure queue that infra creates",
}


def event_source_settings(
    stage: str,
    *,
    failure_destination: str | Mapping[str, Any] | None = None,
    config_path: Path = CONFIG_PATH,
) -> dict[str, dict[str, Any]]:
    """Function name -> its mapping's settings for `stage`: defaults, then the stage's.

    `failure_destination` is the failure queue's ARN when the settings go to the
    Lambda API; by default it is the template's `Fn::GetAtt` of the queue.
    InfraError naming the stage, function and property for a bad override.
    """
    overrides = load_stage(stage, config_path).event_source
    for function in overrides:
        if function not in DEFAULTS:
            raise InfraError(
                f"stage {stage!r}: function {function!r} has no Kinesis event source; "
                f"event_source settings apply to {', '.join(DEFAULTS)}"
            )
    destination = FAILURE_QUEUE_ARN if failure_destination is None else failure_destination
    settings = {}
    for function, defaults in DEFAULTS.items():
        chosen = dict(overrides.get(function, {}))
        for name, value in chosen.items():
            check(stage, function, name, value)
        settings[function] = copy.deepcopy(
            {
                **defaults,
                **chosen,
                "DestinationConfig": {"OnFailure": {"Destination": destination}},
            }
        )
    return settings


@dataclass(frozen=True)
class KinesisMapping:
    """One function's mapping: its decorator's settings, then the defaults, then the stage's."""

    trigger: KinesisTrigger  # what `@app.on_kinesis_record` says: stream, batch size, ...
    properties: dict[str, Any]  # the rest, by CloudFormation's property names

    @property
    def function(self) -> str:
        return self.trigger.function


def kinesis_mappings(
    stage: str,
    *,
    failure_destination: str | Mapping[str, Any] | None = None,
    config_path: Path = CONFIG_PATH,
) -> tuple[KinesisMapping, ...]:
    """Every Kinesis function's mapping in `stage`, in `app.py`'s order (see
    `event_source_settings` for `failure_destination`)."""
    from infra.triggers import kinesis_triggers

    settings = event_source_settings(
        stage, failure_destination=failure_destination, config_path=config_path
    )
    mappings = []
    for trigger in kinesis_triggers():
        if trigger.function not in settings:
            raise InfraError(
                f"function {trigger.function!r} reads a Kinesis stream but has no "
                "event-source defaults in infra/event_sources.py"
            )
        mappings.append(KinesisMapping(trigger, settings[trigger.function]))
    return tuple(mappings)


def check(stage: str, function: str, name: str, value: Any) -> None:
    """InfraError unless `value` is an allowed setting of property `name`."""
    where = f"stage {stage!r}, function {function!r}, event_source property {name!r}"
    if name in _ELSEWHERE:
        raise InfraError(f"{where}: cannot be set here: {_ELSEWHERE[name]}")
    rule = RULES.get(name)
    if rule is None:
        raise InfraError(f"{where}: unknown property; known: {', '.join(RULES)}")
    if not rule.accepts(value):
        raise InfraError(f"{where}: must be {rule.allowed}, got {value!r}")


def mapping_update_kwargs(uuid: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments of `lambda.update_event_source_mapping` applying `settings`.

    Properties the settings leave out are switched off, so the mapping ends up
    as described whatever was set on it before.
    """
    destination = settings.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    if destination is not None and not isinstance(destination, str):
        raise InfraError(
            "the on-failure destination is a CloudFormation reference; "
            "pass failure_destination=<queue ARN> to event_source_settings"
        )
    return {"UUID": uuid, **copy.deepcopy(_OFF), **copy.deepcopy(dict(settings))}
