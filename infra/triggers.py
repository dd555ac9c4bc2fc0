"""The functions declared in `app.py`, and the logical ids `chalice package` gives them.

The Chalice decorators are the one place the functions, their streams and the
settings Chalice can express (batch size, starting position, batching window)
are written; infra reads them from the app object instead of repeating them.
The logical ids follow Chalice's own rule (`to_cfn_resource_name`).
"""

from __future__ import annotations

from dataclasses import dataclass

from chalice.app import KinesisEventConfig, ScheduledEventConfig
from chalice.utils import to_cfn_resource_name

from app import app
from infra import names as infra_names

# Chalice's fixed name and logical ids for the function serving the REST API.
API_HANDLER = infra_names.API_HANDLER_FUNCTION
API_HANDLER_ID = "APIHandler"
REST_API_ID = "RestAPI"


@dataclass(frozen=True)
class KinesisTrigger:
    """One `@app.on_kinesis_record` function and what its decorator says."""

    function: str
    stream: str
    batch_size: int
    starting_position: str
    maximum_batching_window_in_seconds: int
    handler_string: str = ""  # what Lambda calls, e.g. "app.aggregate"

    @property
    def logical_id(self) -> str:
        """The function's logical id in the packaged template, e.g. `Aggregate`."""
        return to_cfn_resource_name(self.function)

    @property
    def event_logical_id(self) -> str:
        """Its event's key under `Properties.Events`, e.g. `AggregateKinesisEventSource`."""
        return to_cfn_resource_name(f"{self.function}-kinesis-event-source")


def kinesis_triggers() -> tuple[KinesisTrigger, ...]:
    """Every Kinesis-triggered function of the app, in declaration order."""
    return tuple(
        KinesisTrigger(
            function=source.name,
            stream=source.stream,
            batch_size=source.batch_size,
            starting_position=source.starting_position,
            maximum_batching_window_in_seconds=source.maximum_batching_window_in_seconds,
            handler_string=source.handler_string,
        )
        for source in app.event_sources
        if isinstance(source, KinesisEventConfig)
    )


@dataclass(frozen=True)
class ScheduledFunction:
    """One `@app.schedule` function: its name, handler and schedule expression."""

    function: str
    handler_string: str
    expression: str  # as CloudWatch Events takes it, e.g. "rate(15 minutes)"

    @property
    def logical_id(self) -> str:
        return to_cfn_resource_name(self.function)


def scheduled_functions() -> tuple[ScheduledFunction, ...]:
    """Every scheduled function of the app, in declaration order."""
    found = []
    for source in app.event_sources:
        if isinstance(source, ScheduledEventConfig):
            expression = source.schedule_expression
            found.append(
                ScheduledFunction(
                    function=source.name,
                    handler_string=source.handler_string,
                    expression=expression
                    if isinstance(expression, str)
                    else expression.to_string(),
                )
            )
    return tuple(found)


def role_logical_id(function: str) -> str:
    """The logical id of a function's own role (`iam_policy_file`), e.g. `AggregateRole`."""
    return to_cfn_resource_name(f"{function}_role")


def function_logical_ids() -> dict[str, str]:
    """Function name -> logical id, for every function of the app, the API's included."""
    ids = {trigger.function: trigger.logical_id for trigger in kinesis_triggers()}
    ids.update({scheduled.function: scheduled.logical_id for scheduled in scheduled_functions()})
    if app.routes:
        ids[API_HANDLER] = API_HANDLER_ID
    return ids
