"""schemathesis against the API's OpenAPI description: no 5xx, documented answers only.

The description is the one `chalice generate-models` prints, made from the
app here (nothing generated is kept in the repository), then completed with
what Chalice cannot say about a route:

- the query parameters (the summaries' `from`, `to`, `limit`, `next`; the
  taxi routes' `date`, `top`, `zone`, `average`, `from`, `to`) and the limits
  of the path's `name`;
- each route's response bodies, and the error statuses it may answer with
  (400, 404, 503: always `{"Code", "Message"}`);
- the console's routes (`/`, `/static/{name}`) are left out: they serve a page
  and its files, not JSON;
- the API-key requirement is left out: API Gateway checks keys before the app
  runs, and `chalice local` does not check them at all.

schemathesis then generates valid and invalid requests for every operation
and checks the answers: never a 5xx, status codes, content types and bodies as
documented, and an error of a bad request naming the parameter at fault.
It talks HTTP to chalice local's own server: in a thread on moto's in-process
mock (fast), and, marked slow, as `chalice local --stage local` run the way
`make up` runs it, against a moto server.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import pytest
import schemathesis
from chalice.cli.factory import CLIFactory
from chalice.deploy.swagger import TemplatedSwaggerGenerator
from chalice.local import LocalDevServer
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from moto.server import ThreadedMotoServer
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app import app
from chalicelib import bootstrap, names
from chalicelib.adapters.clients import Clients
from chalicelib.bootstrap import Services
from chalicelib.pipeline.timestamps import format_status_time
from chalicelib.settings import load_settings
from chalicelib.taxi.fares import FareIncident, ZoneFares
from chalicelib.taxi.intake import MAX_TRIPS
from chalicelib.taxi.params import WINDOWS_A_DAY
from chalicelib.taxi.records import MAX_ZONE, MIN_ZONE
from chalicelib.taxi.summaries import partials
from chalicelib.unicorns.params import MAX_LIMIT
from chalicelib.unicorns.records import MAX_NAME_LENGTH, Reading, encode_reading
from chalicelib.unicorns.summaries import Summary
from infra.stages import PROJECT_DIR
from infra.system import TABLE_KEYS, table_keys
from local.child import stop_process
from local.endpoint import HOST, client_environment, free_port
from local.up import start_api
from tests.functional.conftest import Aws
from tests.lambda_events import kinesis_event, kinesis_record
from tests.taxi_events import day_trips

KNOWN = "Shadowfax"
TAXI_DAY = "2026-11-23"
UNWELL = "Rocinante"
AWKWARD = "100% Ünïcörn 🦄/#?"
FIRST_MINUTE = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
ARRIVAL = datetime(2026, 11, 22, 14, 10, tzinfo=UTC).timestamp()
CONSOLE_ROUTES = ("/", "/static/{name}")

# --- the description ---

STATUS_TIME = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$"}
ERROR = {
    "type": "object",
    "required": ["Code", "Message"],
    "properties": {"Code": {"type": "string"}, "Message": {"type": "string", "minLength": 1}},
    "additionalProperties": False,
}
INCIDENT = {
    "type": "object",
    "required": ["Id", "StartedAt", "Vitals"],
    "properties": {
        "Id": {"type": "string"},
        "StartedAt": STATUS_TIME,
        "Vitals": {"type": "array", "items": {"enum": ["HealthPoints", "MagicPoints"]}},
    },
    "additionalProperties": False,
}
STATUS = {
    "type": "object",
    "required": [
        "Name",
        "StatusTime",
        "Latitude",
        "Longitude",
        "Distance",
        "HealthPoints",
        "MagicPoints",
        "LowVitals",
        "AlertState",
        "Incident",
        "SeenAt",
        "AgeSeconds",
    ],
    "properties": {
        "Name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH},
        "StatusTime": STATUS_TIME,
        "Latitude": {"type": "number", "minimum": -90, "maximum": 90},
        "Longitude": {"type": "number", "minimum": -180, "maximum": 180},
        "Distance": {"type": "number", "minimum": 0},
        "HealthPoints": {"type": "integer", "minimum": 0},
        "MagicPoints": {"type": "integer", "minimum": 0},
        "LowVitals": {"type": "array", "items": {"enum": ["HealthPoints", "MagicPoints"]}},
        "AlertState": {"enum": ["ok", "alert"]},
        "Incident": {"$ref": "#/definitions/Incident", "x-nullable": True},
        "SeenAt": {"type": "number"},
        "AgeSeconds": {"type": "number", "minimum": 0},
    },
    "additionalProperties": False,
}
SUMMARY = {
    "type": "object",
    "required": [
        "Name",
        "StatusTime",
        "Distance",
        "MinMagicPoints",
        "MaxMagicPoints",
        "MinHealthPoints",
        "MaxHealthPoints",
        "SampleCount",
        "WindowEnd",
        "FirstStatusTime",
        "LastStatusTime",
        "Latitude",
        "Longitude",
    ],
    "properties": {
        "Name": {"type": "string"},
        "StatusTime": STATUS_TIME,
        "Distance": {"type": "number", "minimum": 0},
        "MinMagicPoints": {"type": "integer"},
        "MaxMagicPoints": {"type": "integer"},
        "MinHealthPoints": {"type": "integer"},
        "MaxHealthPoints": {"type": "integer"},
        "SampleCount": {"type": "integer", "minimum": 1},
        "WindowEnd": STATUS_TIME,
        "FirstStatusTime": STATUS_TIME,
        "LastStatusTime": STATUS_TIME,
        "Latitude": {"type": "number"},
        "Longitude": {"type": "number"},
    },
    "additionalProperties": False,
}


DAY = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\d$"}
COUNT = {"type": "integer", "minimum": 0}
TRIPS = {"type": "integer", "minimum": 1}
DOLLARS = {"type": "number", "minimum": 0}
MAYBE_DOLLARS = {"type": "number", "minimum": 0, "x-nullable": True}
ZONE_NUMBER = {"type": "integer", "minimum": MIN_ZONE, "maximum": MAX_ZONE}
TAXI_WINDOW = {
    "windowStart": STATUS_TIME,
    "windowEnd": STATUS_TIME,
    "trips": TRIPS,
    "revenue": DOLLARS,
}


def strict(properties: dict[str, Any]) -> dict[str, Any]:
    """An object with exactly these properties."""
    return {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }


def array(definition: str) -> dict[str, Any]:
    return {"type": "array", "items": {"$ref": f"#/definitions/{definition}"}}


def listing(key: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [key, "count"],
        "properties": {
            key: {"type": "array", "items": {"$ref": "#/definitions/Status"}},
            "count": {"type": "integer", "minimum": 0},
        },
        "additionalProperties": False,
    }


DEFINITIONS = {
    "Error": ERROR,
    "Incident": INCIDENT,
    "Status": STATUS,
    "Summary": SUMMARY,
    "Fleet": listing("unicorns"),
    "Alerts": listing("alerts"),
    "SummaryPage": {
        "type": "object",
        "required": ["unicorn", "summaries", "count", "next"],
        "properties": {
            "unicorn": {"type": "string"},
            "summaries": {"type": "array", "items": {"$ref": "#/definitions/Summary"}},
            "count": {"type": "integer", "minimum": 0},
            "next": {"type": "string", "minLength": 1, "x-nullable": True},
        },
        "additionalProperties": False,
    },
    "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"enum": ["ok"]}},
        "additionalProperties": False,
    },
    "TaxiWindow": strict(TAXI_WINDOW),
    "BusiestWindow": strict(
        {
            **TAXI_WINDOW,
            "busiestZone": strict(
                {"zone": ZONE_NUMBER, "name": {"type": "string", "minLength": 1}, "trips": TRIPS}
            ),
        }
    ),
    "TaxiZoneDay": strict(
        {
            "zone": ZONE_NUMBER,
            "name": {"type": "string", "minLength": 1},
            "trips": TRIPS,
            "revenue": DOLLARS,
            "averageFare": DOLLARS,
            "farePerMile": MAYBE_DOLLARS,
            "tipPercent": {"type": "number", "minimum": 0, "x-nullable": True},
            "peakWindow": STATUS_TIME,
        }
    ),
    "FarePoint": strict(
        {
            "windowStart": STATUS_TIME,
            "windowEnd": STATUS_TIME,
            "trips": TRIPS,
            "averageFare": DOLLARS,
            "farePerMile": MAYBE_DOLLARS,
            "tipPercent": {"type": "number", "minimum": 0, "x-nullable": True},
            "movingAverageFare": DOLLARS,
            "movingAverageFarePerMile": MAYBE_DOLLARS,
        }
    ),
    "TaxiPeaks": strict(
        {
            "date": DAY,
            "trips": COUNT,
            "revenue": DOLLARS,
            "demand": array("TaxiWindow"),
            "busiestWindows": array("BusiestWindow"),
            "busiestZones": array("TaxiZoneDay"),
        }
    ),
    "TaxiFares": strict(
        {
            "zone": ZONE_NUMBER,
            "name": {"type": "string", "minLength": 1},
            "from": STATUS_TIME,
            "to": STATUS_TIME,
            "averageOver": {"type": "integer", "minimum": 1, "maximum": WINDOWS_A_DAY},
            "points": array("FarePoint"),
        }
    ),
    "TaxiZones": strict({"date": DAY, "zones": array("TaxiZoneDay"), "count": COUNT}),
    "FareAlert": strict(
        {
            "zone": ZONE_NUMBER,
            "name": {"type": "string", "minLength": 1},
            "windowStart": STATUS_TIME,
            "trips": TRIPS,
            "farePerMile": MAYBE_DOLLARS,
            "deviation": {"type": "number", "x-nullable": True},
            "incident": strict(
                {"id": {"type": "string"}, "startedAt": STATUS_TIME, "baseline": DOLLARS}
            ),
        }
    ),
    "TaxiAlerts": strict({"alerts": array("FareAlert"), "count": COUNT}),
    # POST /trips takes any JSON values as trips and answers each one: a
    # malformed trip is a result, not a malformed request.
    "TripBatch": {
        "type": "object",
        "required": ["trips"],
        "properties": {"trips": {"type": "array", "minItems": 1, "maxItems": MAX_TRIPS}},
        "additionalProperties": False,
    },
    "TripResult": {
        "type": "object",
        "required": ["index", "tripId", "status"],
        "properties": {
            "index": COUNT,
            "tripId": {"type": "string", "x-nullable": True},
            "status": {"enum": ["accepted", "duplicate", "rejected", "failed"]},
            "reason": {"type": "string", "minLength": 1},
        },
        "additionalProperties": False,
    },
    "TripResults": strict(
        {
            "accepted": COUNT,
            "duplicate": COUNT,
            "rejected": COUNT,
            "failed": COUNT,
            "results": array("TripResult"),
        }
    ),
}
NAME = {
    "name": "name",
    "in": "path",
    "required": True,
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_NAME_LENGTH,
}
TIME_FORMATS = "StatusTime ('2026-11-22 14:05:00.000') or ISO 8601 ('2026-11-22T14:05:00Z')"
FROM = {
    "name": "from",
    "in": "query",
    "type": "string",
    "description": f"inclusive; {TIME_FORMATS}",
}
TO = {"name": "to", "in": "query", "type": "string", "description": f"exclusive; {TIME_FORMATS}"}
DATE = {"name": "date", "in": "query", "type": "string", "description": "YYYY-MM-DD"}


def whole_number(name: str, high: int, low: int = 1, required: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "type": "integer",
        "minimum": low,
        "maximum": high,
        **({"required": True} if required else {}),
    }


QUERY_PARAMETERS: dict[str, list[dict[str, Any]]] = {
    "/unicorns/{name}/summaries": [
        FROM,
        TO,
        whole_number("limit", MAX_LIMIT),
        {
            "name": "next",
            "in": "query",
            "type": "string",
            "description": "the previous page's next",
        },
    ],
    "/taxi/peaks": [DATE, whole_number("top", WINDOWS_A_DAY)],
    "/taxi/fares": [
        whole_number("zone", MAX_ZONE, MIN_ZONE, required=True),
        FROM,
        TO,
        whole_number("average", WINDOWS_A_DAY),
    ],
    "/taxi/zones": [DATE],
}
BODY_PARAMETERS: dict[str, dict[str, Any]] = {
    "/trips": {
        "name": "body",
        "in": "body",
        "required": True,
        "schema": {"$ref": "#/definitions/TripBatch"},
    },
}
METHODS = {"/trips": "post"}  # the others are GET
ROUTES: dict[str, tuple[str, list[int]]] = {  # path: (200 body, error statuses)
    "/health": ("Health", []),
    "/unicorns": ("Fleet", [503]),
    "/alerts": ("Alerts", [503]),
    "/unicorns/{name}": ("Status", [400, 404, 503]),
    "/unicorns/{name}/summaries": ("SummaryPage", [400, 404, 503]),
    "/taxi/peaks": ("TaxiPeaks", [400, 503]),
    "/taxi/fares": ("TaxiFares", [400, 503]),
    "/taxi/zones": ("TaxiZones", [400, 503]),
    "/taxi/alerts": ("TaxiAlerts", [400, 503]),
    "/trips": ("TripResults", [400, 503]),
}


def parameters(path: str) -> list[dict[str, Any]]:
    """The path's parameters, path and query, as the description lists them."""
    body = [BODY_PARAMETERS[path]] if path in BODY_PARAMETERS else []
    return ([NAME] if "{name}" in path else []) + QUERY_PARAMETERS.get(path, []) + body


def openapi_document() -> dict[str, Any]:
    """`chalice generate-models`' description of the app, completed (see the module's doc)."""
    generated = TemplatedSwaggerGenerator().generate_swagger(app)
    # Its API Gateway integration holds templates for deployment; not needed here.
    document: dict[str, Any] = json.loads(json.dumps(generated, default=str))
    assert set(document["paths"]) == {*ROUTES, *CONSOLE_ROUTES}, "a route is not described here"
    for key in [k for k in document if k.startswith("x-amazon-")] + ["securityDefinitions"]:
        document.pop(key, None)
    document["definitions"] = copy.deepcopy(DEFINITIONS)
    document["paths"] = {path: document["paths"][path] for path in ROUTES}
    for path, (body, errors) in ROUTES.items():
        operation = document["paths"][path][METHODS.get(path, "get")]
        for key in [k for k in operation if k.startswith("x-amazon-")]:
            del operation[key]
        operation.pop("security", None)
        operation.pop("consumes", None)
        if path in BODY_PARAMETERS:
            operation["consumes"] = ["application/json"]
        operation["produces"] = ["application/json"]
        if parameters(path):
            operation["parameters"] = copy.deepcopy(parameters(path))
        operation["responses"] = {
            "200": {"description": "OK", "schema": {"$ref": f"#/definitions/{body}"}},
            **{
                str(status): {"description": "error", "schema": {"$ref": "#/definitions/Error"}}
                for status in errors
            },
        }
    return document


def test_the_description_is_chalices_with_what_it_cannot_say() -> None:
    document = openapi_document()
    assert document["swagger"] == "2.0"
    summaries = document["paths"]["/unicorns/{name}/summaries"]["get"]
    assert [p["name"] for p in summaries["parameters"]] == ["name", "from", "to", "limit", "next"]
    assert set(summaries["responses"]) == {"200", "400", "404", "503"}
    assert "security" not in summaries and "securityDefinitions" not in document
    fares = document["paths"]["/taxi/fares"]["get"]
    assert [(p["name"], p.get("required", False)) for p in fares["parameters"]] == [
        ("zone", True),
        ("from", False),
        ("to", False),
        ("average", False),
    ]


# --- checks beyond schemathesis' own ---


def error_names_the_parameter(response: schemathesis.Response, case: schemathesis.Case) -> None:
    """A 400 is `{"Code": "InvalidParameter", "Message": "<parameter>: ..."}`.

    The parameter is one sent, or a required one left out.
    """
    if response.status_code != 400:
        return
    body = json.loads(response.content)
    required = [p["name"] for p in parameters(case.operation.path) if p.get("required")]
    sent = [*required, *(case.query or {})]
    assert body["Code"] == "InvalidParameter", body
    assert any(body["Message"].startswith(f"{p}: ") for p in sent), (body, case.query)


# A schema cannot say which strings are times, days or page tokens: a request
# with `from`, `to`, `next` or `date` may be valid by the description and
# still a 400, so schemathesis' "valid data is accepted" check is skipped for
# those (`limit`, `top`, `zone`, `average` and `name` are fully described and
# keep it).
INTERPRETED = {"from", "to", "next", "date"}


def answers_as_documented(case: schemathesis.Case, response: schemathesis.Response) -> None:
    assert response.status_code < 500, (case.path_parameters, case.query, response.text)
    documented(case, response)


def documented(
    case: schemathesis.Case, response: schemathesis.Response, excluded: list[Any] | None = None
) -> None:
    """JSON as the description says, and a 400 names its parameter."""
    assert response.headers["content-type"] == ["application/json"]
    assert b"Traceback" not in response.content
    error_names_the_parameter(response, case)
    excluded = list(excluded or [])
    if INTERPRETED & set(case.query or {}):
        excluded.append(positive_data_acceptance)
    case.validate_response(response, excluded_checks=excluded)


# --- the data behind the API ---


def seed(client: Client) -> None:
    """Three unicorns (one unwell), an hour and a half of one's summaries, a morning's taxis."""
    readings = [
        Reading(KNOWN, "2026-11-22 14:05:00.000", 40.75, -73.98, 30.0, 150, 150),
        Reading(UNWELL, "2026-11-22 14:05:00.000", 40.75, -73.98, 30.0, 150, 90),
        Reading(AWKWARD, "2026-11-22 14:05:00.000", 40.75, -73.98, 30.0, 150, 150),
    ]
    event = kinesis_event(
        [
            kinesis_record(encode_reading(r), str(n), r.name, ARRIVAL)
            for n, r in enumerate(readings, 1)
        ]
    )
    assert client.lambda_.invoke("vitals", event).payload == {"batchItemFailures": []}
    rows = []
    for minute in range(90):
        start = FIRST_MINUTE + timedelta(minutes=minute)
        rows.append(
            Summary(
                KNOWN,
                format_status_time(start),
                1800.0,
                140,
                150,
                130,
                150,
                60,
                format_status_time(start + timedelta(minutes=1)),
                format_status_time(start),
                format_status_time(start + timedelta(seconds=59)),
                40.75,
                -73.98,
                frozenset({f"s:{minute}"}),
            )
        )
    assert bootstrap.services().summary_store.put_many(rows) == []
    # And the taxi model's 2026-11-23 morning rush.
    windows = partials(day_trips(7 * 3600, 9 * 3600, per_day=4000), "part-1")
    assert bootstrap.services().insight_store.put_many(list(windows.values())) == []
    # And a zone whose fares are out of line.
    start = f"{TAXI_DAY} 08:00:00.000"
    spiked = ZoneFares(161, start, 40, 9.1, 4.2, FareIncident(f"zone-161@{start}", start, 4.2))
    assert bootstrap.services().fare_alert_store.save(spiked, {}, None)


# --- running schemathesis ---

PER_MODE = {"fast": 50, "slow": 25}  # examples per operation and generation mode


def run_schemathesis(base_url: str, examples: int, subtests: pytest.Subtests) -> int:
    """Every operation, valid and invalid requests; returns how many were sent."""
    schema = schemathesis.openapi.from_dict(openapi_document())
    sent = 0
    for path in ROUTES:
        operation = schema[path][METHODS.get(path, "get").upper()]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if mode is GenerationMode.NEGATIVE and not parameters(path):
                continue  # nothing to get wrong: no parameters

            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def each(case: schemathesis.Case) -> None:
                nonlocal sent
                response = case.call(base_url=base_url)
                sent += 1
                answers_as_documented(case, response)

            with subtests.test(msg=f"{mode.value} {path}"):
                each()
        for query in known_queries(path):
            with subtests.test(msg=f"{path} {query}"):
                path_parameters = {"name": KNOWN} if "{name}" in path else None
                body = {"body": query.pop("body")} if "body" in query else {}
                case = operation.Case(path_parameters=path_parameters, query=query, **body)
                response = case.call(base_url=base_url)
                sent += 1
                answers_as_documented(case, response)
                assert response.status_code == 200
    return sent


def known_queries(path: str) -> list[dict[str, Any]]:
    """Requests that reach real data, which random names almost never do."""
    if path == "/unicorns/{name}":
        return [{}]
    if path == "/unicorns/{name}/summaries":
        return [
            {},
            {"limit": 5},
            {"from": "2026-11-22T12:30:00Z", "to": "2026-11-22 13:00:00.000"},
        ]
    if path in ("/taxi/peaks", "/taxi/zones"):
        return [{"date": TAXI_DAY}]
    if path == "/taxi/fares":
        return [{"zone": 161, "from": "2026-11-23T07:00:00Z", "to": f"{TAXI_DAY} 09:00:00.000"}]
    if path == "/trips":
        trips = [t.to_json() for t in day_trips(8 * 3600, 8 * 3600 + 60)[:3]]
        return [{"body": {"trips": trips}}]
    return []


# --- fast: chalice local's HTTP server in a thread, moto in process ---


@pytest.fixture
def local_api(client: Client, aws: Aws) -> Iterator[str]:
    seed(client)
    port = free_port()
    # What `chalice local` serves, minus its process: the same request handler.
    config = CLIFactory(str(PROJECT_DIR)).create_config_obj(chalice_stage_name="dev")
    server = LocalDevServer(app, config, HOST, port)
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{port}"
    finally:
        server.shutdown()
        server.server.server_close()
        thread.join(timeout=10)


def test_the_api_answers_every_generated_request_as_documented(
    local_api: str, subtests: pytest.Subtests
) -> None:
    sent = run_schemathesis(local_api, PER_MODE["fast"], subtests)
    assert sent >= 4 * PER_MODE["fast"]  # two modes of the two routes with parameters


def test_an_unreachable_store_is_a_documented_503(local_api: str, aws: Aws) -> None:
    aws.client("dynamodb").delete_table(TableName=names.STATUS_TABLE)
    aws.client("dynamodb").delete_table(TableName=names.INSIGHT_TABLE)
    aws.client("dynamodb").delete_table(TableName=names.FARE_ALERT_TABLE)
    schema = schemathesis.openapi.from_dict(openapi_document())
    for path, path_parameters in (
        ("/unicorns", {}),
        ("/unicorns/{name}", {"name": KNOWN}),
        ("/taxi/peaks", {}),
        ("/taxi/alerts", {}),
    ):
        case = schema[path]["GET"].Case(path_parameters=path_parameters)
        response = case.call(base_url=local_api)
        assert response.status_code == 503
        documented(case, response, excluded=[not_a_server_error])


# --- slow: `chalice local --stage local` as make up runs it, on a moto server ---


@pytest.fixture
def chalice_local(aws_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    endpoint_port = free_port()
    endpoint = ThreadedMotoServer(ip_address=HOST, port=endpoint_port, verbose=False)
    endpoint.start()
    process: subprocess.Popen[bytes] | None = None
    try:
        env = client_environment(f"http://{HOST}:{endpoint_port}")
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("ALERT_TOPIC_ARN", create_resources(boto3.session.Session()))
        # The stage names port 4566: the clients are given this endpoint outright.
        clients = Clients(endpoint_url=env["AWS_ENDPOINT_URL"])
        bootstrap.install(Services(load_settings(), clients, sleep=lambda seconds: None))
        with Client(app, stage_name="local") as client:
            seed(client)
        port = free_port()
        log = tmp_path / "api.log"
        process = start_api("local", port, log, {**os.environ, **env}, timeout=60)
        api = f"http://{HOST}:{port}"
        yield api
    finally:
        stop_process(process)
        bootstrap.reset()
        endpoint.stop()


def create_resources(session: boto3.session.Session) -> str:
    """The tables the API reads and the topic `vitals` needs to seed them; the topic ARN."""
    session.client("kinesis").create_stream(StreamName=names.TRIP_STREAM, ShardCount=1)
    dynamodb = session.client("dynamodb")
    for table in TABLE_KEYS:
        dynamodb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST", **table_keys(table))
    topic: str = session.client("sns").create_topic(Name=names.ALERT_TOPIC)["TopicArn"]
    return topic


@pytest.mark.slow
def test_chalice_local_answers_every_generated_request_as_documented(
    chalice_local: str, subtests: pytest.Subtests
) -> None:
    sent = run_schemathesis(chalice_local, PER_MODE["slow"], subtests)
    assert sent >= 4 * PER_MODE["slow"]
    # A percent-encoded name reaches the app still encoded, as API Gateway hands it over.
    with urllib.request.urlopen(f"{chalice_local}/unicorns/{quote(AWKWARD, safe='')}") as answer:
        assert json.loads(answer.read())["Name"] == AWKWARD
