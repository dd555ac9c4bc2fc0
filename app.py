"""Wild Rydes: stream functions, hourly report, read API and console, declared for Chalice.

A table of contents: each handler unpacks its event, calls `chalicelib`, and
returns. Event-source settings Chalice cannot express (tumbling window,
retries, bisect, partial batch responses, on-failure destination) are in
`infra/`, applied by `make package` and `make deploy`.

Deployed, the data routes require an API key (`x-api-key`; `infra/api_keys.py`
makes it); the console's page and files and `/health` hold no data and stay open.
"""

from collections.abc import Callable
from typing import Any

from chalice.app import Chalice, CloudWatchEvent, KinesisEvent, Rate, Request, Response

from chalicelib import names, observability
from chalicelib.bootstrap import services
from chalicelib.pipeline.events import remaining_ms

app = Chalice(app_name="wildrydes")


@app.middleware("all")
def bind_invocation(event: Any, get_response: Callable[[Any], Any]) -> Any:
    # Log lines and metrics carry the request id and function name. An HTTP
    # event's `context` is API Gateway's; its Lambda context is the app's.
    context = app.lambda_context if isinstance(event, Request) else event.context
    with observability.bind(context):
        return get_response(event)


@app.on_kinesis_record(
    stream=names.RAW_STREAM,
    name="aggregate",
    batch_size=1000,
    starting_position="TRIM_HORIZON",
    maximum_batching_window_in_seconds=5,
)
def aggregate(event: KinesisEvent) -> dict[str, Any]:
    return services().aggregator.handle(event.to_dict())


@app.on_kinesis_record(
    stream=names.SUMMARY_STREAM,
    name="persist",
    batch_size=100,
    starting_position="TRIM_HORIZON",
    maximum_batching_window_in_seconds=1,
)
def persist(event: KinesisEvent) -> dict[str, Any]:
    return services().persister.handle(event.to_dict())


@app.on_kinesis_record(
    stream=names.RAW_STREAM,
    name="vitals",
    batch_size=500,
    starting_position="LATEST",
    maximum_batching_window_in_seconds=1,
)
def vitals(event: KinesisEvent) -> dict[str, Any]:
    return services().vitals.handle(event.to_dict(), remaining_ms(event.context))


@app.on_kinesis_record(
    stream=names.TRIP_STREAM,
    name="aggregate_trips",
    batch_size=1000,
    starting_position="TRIM_HORIZON",
    maximum_batching_window_in_seconds=5,
)
def aggregate_trips(event: KinesisEvent) -> dict[str, Any]:
    return services().trip_aggregator.handle(event.to_dict())


@app.on_kinesis_record(
    stream=names.INSIGHT_STREAM,
    name="persist_insights",
    batch_size=100,
    starting_position="TRIM_HORIZON",
    maximum_batching_window_in_seconds=1,
)
def persist_insights(event: KinesisEvent) -> dict[str, Any]:
    return services().insight_persister.handle(event.to_dict())


@app.schedule(Rate(15, unit=Rate.MINUTES), name="report")
def report(event: CloudWatchEvent) -> dict[str, Any]:
    return services().reporter.handle(event.to_dict())


@app.route("/unicorns", api_key_required=True)
def list_unicorns() -> dict[str, Any]:
    return services().fleet.unicorns()


@app.route("/unicorns/{name}", api_key_required=True)
def get_unicorn(name: str) -> dict[str, Any]:
    return services().fleet.unicorn(name)


@app.route("/unicorns/{name}/summaries", api_key_required=True)
def unicorn_summaries(name: str) -> dict[str, Any]:
    request = app.current_request
    return services().fleet.summaries(name, request.query_params if request else None)


@app.route("/alerts", api_key_required=True)
def open_alerts() -> dict[str, Any]:
    return services().fleet.alerts()


@app.route("/trips", methods=["POST"], api_key_required=True)
def post_trips() -> Response:
    request = app.current_request
    status, body = services().intake.post(request.raw_body if request else None)
    return Response(body, status_code=status)


@app.route("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.route("/")
def console_page() -> Response:
    from chalicelib import console  # only the API's function serves the console

    return console.page(app.current_request, services().settings)


@app.route("/static/{name}")
def console_asset(name: str) -> Response:
    from chalicelib import console

    return console.asset(name, app.current_request, services().settings)


# The taxi data set's read API.


@app.route("/taxi/peaks", api_key_required=True)
def taxi_peaks() -> dict[str, Any]:
    request = app.current_request
    return services().taxi.peaks(request.query_params if request else None)


@app.route("/taxi/fares", api_key_required=True)
def taxi_fares() -> dict[str, Any]:
    request = app.current_request
    return services().taxi.fares(request.query_params if request else None)


@app.route("/taxi/zones", api_key_required=True)
def taxi_zones() -> dict[str, Any]:
    request = app.current_request
    return services().taxi.zones(request.query_params if request else None)


@app.route("/taxi/alerts", api_key_required=True)
def taxi_alerts() -> dict[str, Any]:
    request = app.current_request
    return services().taxi.alerts(request.query_params if request else None)
