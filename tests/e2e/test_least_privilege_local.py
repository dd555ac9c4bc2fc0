"""Every function held to its own policy on the embedded endpoint, both ways.

With the policy the template deploys, a run of the function (its mapping
reading the stream, its invocations, its on-failure destination; or its
schedule; or its routes) makes no call IAM refuses. With any one statement
removed, at least one call of the same run is refused, and the refusal is
one of that statement's actions: every statement is needed. The statements
the local run cannot judge (`UNJUDGED`) are listed, with why, in docs/OPERATIONS.md's
Security section.

One endpoint (moto's server with `local.moto_iam`, as `make up` runs it) and
one provisioning serve every run; each run gets a role of its own, made from
the policy under test, and starts with the tables empty and its mapping at
the end of its stream.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap, names
from chalicelib.adapters.clients import Clients
from chalicelib.bootstrap import Services
from chalicelib.pipeline.timestamps import format_status_time
from chalicelib.settings import load_settings
from chalicelib.taxi.records import encode_trip
from chalicelib.unicorns.records import Reading
from infra.names import API_HANDLER_FUNCTION
from infra.resources import ARCHIVE_BUCKET_OUTPUT
from infra.system import TABLE_KEYS
from local.child import stop_process
from local.endpoint import REGION, Endpoint, client_environment, free_port
from local.functions import LocalFunction, local_functions, scheduled_local_functions
from local.iam_policy import _matches
from local.invoke import FunctionSpec, Invoker
from local.mapping import EventSourceMapping, MappingSettings, SqsDestination
from local.provision import Provisioned, provision
from local.roles import RoleSession, function_policies, make_role
from local.schedule import Schedule
from local.shards import stream_arn
from local.up import start_api
from producer.taxi import FareSpike, TaxiDay
from tests.stages import config_with_window

pytestmark = pytest.mark.slow

STAGE = "leastprivilege"
WINDOW = 2
# Statements a local run cannot judge, and why (docs/OPERATIONS.md's Security section says so too).
UNJUDGED = {
    "Logs": "the log writes are Lambda's; locally the logs go to a file",
    "ListStreams": "Lambda's poller lists streams; the local runtime has no need to",
    "UseDataKey": "the endpoint does not encrypt, so no call needs the key",
}
ILL, WELL = "Lp-Ill", "Lp-Well"
SPIKED_ZONE = 161


@dataclass
class World:
    url: str
    session: Any  # the account's own credentials
    provisioned: Provisioned
    config_path: Path
    denials: Path
    policies: dict[str, dict[str, Any]]
    captured: dict[str, list[tuple[bytes, str]]] = field(default_factory=dict)
    roles_made: int = 0

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.url)

    def role(self, function: str, document: dict[str, Any]) -> RoleSession:
        self.roles_made += 1
        name = f"lp-{self.roles_made}-{function}"
        return make_role(self.session, name, document, session_name=function)

    def denied(self, role: RoleSession) -> list[dict[str, str]]:
        name = role.role_arn.rsplit("/", 1)[1]
        if not self.denials.exists():
            return []
        lines = [json.loads(line) for line in self.denials.read_text().splitlines()]
        return [d for d in lines if f":assumed-role/{name}/" in d["principal"]]

    def empty(self, *tables: str) -> None:
        dynamodb = self.client("dynamodb")
        for table in tables:
            keys = [attribute for attribute, _ in TABLE_KEYS[table]]
            for page in dynamodb.get_paginator("scan").paginate(TableName=table):
                for item in page["Items"]:
                    dynamodb.delete_item(TableName=table, Key={k: item[k] for k in keys})

    def put(self, stream: str, records: list[tuple[bytes, str]]) -> None:
        kinesis = self.client("kinesis")
        for start in range(0, len(records), 500):
            chunk = records[start : start + 500]
            kinesis.put_records(
                StreamName=stream, Records=[{"Data": d, "PartitionKey": k} for d, k in chunk]
            )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("least-privilege")
    denials = tmp / "denials.jsonl"
    endpoint = Endpoint(free_port(), log_path=tmp / "endpoint.log", denials_path=denials)
    with pytest.MonkeyPatch.context() as env:
        endpoint.start()
        try:
            for name, value in client_environment(endpoint.url).items():
                env.setenv(name, value)
            env.delenv("AWS_PROFILE", raising=False)
            session = boto3.session.Session(region_name=REGION)
            config = config_with_window(tmp, STAGE, WINDOW)
            provisioned = provision(
                session, STAGE, {"AlertEmail": "", "FareAlertEmail": ""}, config_path=config
            )
            policies = function_policies(provisioned, STAGE, config)
            yield World(endpoint.url, session, provisioned, config, denials, policies)
        finally:
            bootstrap.reset()
            endpoint.stop()


# --- what a run of each function does ---


def invoker(world: World, role: RoleSession) -> Invoker:
    """Invokes handlers as the local stack does: each function with its role's clients."""
    made: dict[str, Services] = {}

    def prepare(spec: FunctionSpec) -> None:
        if spec.name not in made:
            clients = Clients(role.session(), endpoint_url=world.url)
            made[spec.name] = Services(load_settings(), clients, sleep=lambda seconds: None)
        bootstrap.install(made[spec.name])

    return Invoker(prepare=prepare)


def as_role(world: World, role: RoleSession) -> dict[str, Any]:
    """What `local.functions` needs to make the functions' specs, every one acting as `role`."""
    return {
        "api_url": "http://127.0.0.1:1/",
        "endpoint_url": world.url,
        "roles": dict.fromkeys(world.policies, role),
        "config_path": world.config_path,
    }


def stream_function(world: World, function: str, role: RoleSession) -> LocalFunction:
    functions = local_functions(STAGE, world.provisioned, **as_role(world, role))
    (chosen,) = [f for f in functions if f.spec.name == function]
    return chosen


def attempt(step: Callable[[], object]) -> None:
    """One step of a run; a refused call ends the step, as it would fail the batch (the
    endpoint records what it refused)."""
    with contextlib.suppress(Exception):
        step()


@dataclass
class Done:
    """What a run did, to check that a run with the whole policy did all of it."""

    stats: dict[str, int] = field(default_factory=dict)  # the mapping's (stream functions)
    discarded: int = 0  # batches described to the on-failure destination
    ok: bool = False  # the report's run
    statuses: list[int] = field(default_factory=list)  # the API's answers
    reading: EventSourceMapping | None = None


def run_stream_function(world: World, function: str, role: RoleSession) -> Done:
    """Its mapping from the end of its stream: its inputs read, invoked and (windowed)
    closed; then a batch that fails for good, described to the on-failure destination."""
    chosen = stream_function(world, function, role)
    settings = replace(chosen.mapping, starting_position="LATEST", retry_base=0.0)
    kinesis = role.session().client("kinesis", endpoint_url=world.url)
    try:
        arn = stream_arn(kinesis, settings.stream)
    except Exception:  # noqa: BLE001 - refused reading its own stream: recorded
        return Done()
    assert settings.on_failure is not None
    destination = SqsDestination(
        role.session().client("sqs", endpoint_url=world.url),
        settings.on_failure,
        lookup=world.client("sqs"),
    )
    calls = invoker(world, role)

    def mapping(settings: MappingSettings, spec: FunctionSpec) -> EventSourceMapping:
        return EventSourceMapping(
            settings, spec, kinesis, calls, stream_arn=arn, region=REGION, destination=destination
        )

    start = time.time()
    reading = mapping(settings, chosen.spec)
    attempt(lambda: reading.start(start))
    world.put(settings.stream, inputs(world, function))
    for _ in range(5):
        attempt(lambda: reading.poll(start + 1))
    for _ in range(3):
        attempt(lambda: reading.poll(start + settings.tumbling_window + 10))
    # A batch the function fails on, with no retry left: Lambda describes it to the
    # destination with the function's role (why it failed does not matter to that call).
    poisoned = replace(chosen.spec, handler=poison)
    once = replace(settings, max_retries=0, bisect=False, tumbling_window=0, batching_window=0)
    failing = mapping(once, poisoned)
    attempt(lambda: failing.start(time.time()))
    world.put(settings.stream, [(b"a batch that fails for good", "poison")])
    for _ in range(3):
        attempt(lambda: failing.poll(time.time()))
    return Done(stats=reading.stats(), discarded=failing.stats()["discarded"], reading=reading)


def poison(event: dict[str, Any], context: Any) -> Any:
    raise RuntimeError("this batch fails for good")


def run_report(world: World, role: RoleSession) -> Done:
    """The schedule firing once, over a fleet with a status, summaries and an archived hour."""
    seed_fleet(world)
    (report,) = scheduled_local_functions(STAGE, world.provisioned, **as_role(world, role))
    return Done(ok=Schedule(report, invoker(world, role)).run(time.time()).ok)


def run_api(world: World, role: RoleSession) -> Done:
    """Every route that reads or writes, as the API function."""
    seed_fleet(world)
    clients = Clients(role.session(), endpoint_url=world.url)
    bootstrap.install(Services(load_settings(), clients, sleep=lambda seconds: None))
    trip = next(iter(TaxiDay(datetime.now(UTC).date(), 20_000, seed=3).trips(36_000, 36_600)))
    statuses = []
    with Client(app, stage_name="dev") as client:
        for path in (
            "/unicorns",
            f"/unicorns/{ILL}",
            f"/unicorns/{ILL}/summaries",
            "/alerts",
            "/taxi/peaks",
            f"/taxi/fares?zone={SPIKED_ZONE}",
            "/taxi/zones",
            "/taxi/alerts",
        ):
            statuses.append(client.http.get(path).status_code)
        posted = client.http.post(
            "/trips",
            headers={"Content-Type": "application/json"},
            body=json.dumps({"trips": [json.loads(encode_trip(trip))]}),
        )
        statuses.append(posted.status_code)
    bootstrap.reset()
    return Done(statuses=statuses)


# What must be empty for a run to make every call it can: a first alert of the unicorn,
# of the zone, a trip never taken before.
FRESH = {
    "vitals": (names.STATUS_TABLE,),
    "persist_insights": (names.FARE_ALERT_TABLE,),
    API_HANDLER_FUNCTION: (names.TRIP_ID_TABLE,),
}


def run(world: World, function: str, role: RoleSession) -> Done:
    world.empty(*FRESH.get(function, ()))
    if function == "report":
        return run_report(world, role)
    if function == API_HANDLER_FUNCTION:
        return run_api(world, role)
    return run_stream_function(world, function, role)


# --- the inputs: what each function's stream carries in a run ---


def inputs(world: World, function: str) -> list[tuple[bytes, str]]:
    if function in ("aggregate", "vitals"):
        return raw_records()
    if function == "aggregate_trips":
        return trip_records()
    upstream = {"persist": "aggregate", "persist_insights": "aggregate_trips"}[function]
    if upstream not in world.captured:
        capture(world, upstream)
    return [*world.captured[upstream], (b"{not a row", "bad")]


def raw_records() -> list[tuple[bytes, str]]:
    """Two unicorns, one of them below 100 (an alert), and a record that is not one."""
    now = datetime.now(UTC)
    records = [
        (json.dumps(r.to_json()).encode() + b"\n", r.name)
        for second in range(3)
        for r in (
            Reading(ILL, format_status_time(now), 40.75, -73.98, 30.0, 99 - second, 150),
            Reading(WELL, format_status_time(now), 40.75, -73.99, 30.0, 150, 150),
        )
    ]
    return [*records, (b"not json", "Glitch")]


def trip_records() -> list[tuple[bytes, str]]:
    """A morning's trips, zone 161's meters charging double from 11:00 (a fare alert)."""
    spike = FareSpike(SPIKED_ZONE, 11.0, 12.0)
    day = TaxiDay(datetime.now(UTC).date(), 20_000, seed=7, spikes=(spike,))
    trips = day.trips(10 * 3600, int(11.5 * 3600))
    return [*((encode_trip(t), str(t.pickup_zone)) for t in trips), (b"not a trip", "0")]


def capture(world: World, function: str) -> None:
    """What `function` (with its own policy) puts on the stream after it, to replay."""
    after = {"aggregate": names.SUMMARY_STREAM, "aggregate_trips": names.INSIGHT_STREAM}[function]
    kinesis = world.client("kinesis")
    (shard,) = kinesis.list_shards(StreamName=after)["Shards"]
    iterator = kinesis.get_shard_iterator(
        StreamName=after, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
    )["ShardIterator"]
    run_stream_function(world, function, world.role(function, world.policies[function]))
    rows = kinesis.get_records(ShardIterator=iterator, Limit=10_000)["Records"]
    assert rows, f"{function} put nothing on {after}"
    world.captured[function] = [(r["Data"], r["PartitionKey"]) for r in rows]


def seed_fleet(world: World) -> None:
    """A fleet for the report and the API to read, unless it is there: statuses (vitals,
    with its own role) and an hour of the raw archive."""
    status = world.client("dynamodb").get_item(
        TableName=names.STATUS_TABLE, Key={"Name": {"S": ILL}}
    )
    if "Item" not in status:
        run_stream_function(world, "vitals", world.role("vitals", world.policies["vitals"]))
    bucket = world.provisioned.outputs[ARCHIVE_BUCKET_OUTPUT]
    hour = datetime.now(UTC)
    body = b"".join(data for data, _ in raw_records()[:-1])
    world.client("s3").put_object(
        Bucket=bucket, Key=f"{names.ARCHIVE_PREFIX}{hour:%Y/%m/%d/%H}/seed", Body=body
    )


# --- the tests ---

FUNCTIONS = ("aggregate", "persist", "vitals", "aggregate_trips", "persist_insights", "report")
CASES = [(f, None) for f in (*FUNCTIONS, API_HANDLER_FUNCTION)]


def judged_statements(world: World, function: str) -> list[dict[str, Any]]:
    return [s for s in world.policies[function]["Statement"] if s["Sid"] not in UNJUDGED]


def listed(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def test_every_function_has_a_policy_and_only_the_unjudged_statements_are_skipped(
    world: World,
) -> None:
    assert set(world.policies) == {*FUNCTIONS, API_HANDLER_FUNCTION}
    for function, policy in world.policies.items():
        sids = [s["Sid"] for s in policy["Statement"]]
        assert len(sids) == len(set(sids)), function
        assert {"Logs", "UseDataKey"} <= set(sids), function
    operations = Path(__file__).parents[2] / "docs" / "OPERATIONS.md"
    security = operations.read_text().split("## Security")[1]
    for sid in UNJUDGED:
        assert f"`{sid}`" in security, f"docs/OPERATIONS.md's Security does not list {sid}"


@pytest.mark.parametrize("function", [*FUNCTIONS, API_HANDLER_FUNCTION])
def test_with_its_policy_a_run_of_the_function_is_never_refused(
    world: World, function: str
) -> None:
    role = world.role(function, world.policies[function])
    done = run(world, function, role)
    assert world.denied(role) == []
    # And it did all it does: so the runs without a statement below mean something.
    if function == "report":
        assert done.ok
    elif function == API_HANDLER_FUNCTION:
        assert done.statuses == [200] * 9
    else:
        assert done.stats["invocations"] >= 1 and done.stats["errors"] == 0, done.stats
        assert done.stats["windows"] >= (1 if function.startswith("aggregate") else 0)
        assert done.discarded == 1  # described to the destination


def statement_cases() -> list[tuple[str, str]]:
    """(function, Sid) of every judged statement, from the policies as the template has them."""
    from infra.policies import policies, template_arns

    return [
        (function, statement["Sid"])
        for function, policy in policies(template_arns("wildrydes", "dev")).items()
        for statement in policy["Statement"]
        if statement["Sid"] not in UNJUDGED
    ]


@pytest.mark.parametrize(("function", "sid"), statement_cases())
def test_without_any_one_statement_a_run_of_the_function_is_refused_one_of_its_actions(
    world: World, function: str, sid: str
) -> None:
    policy = world.policies[function]
    (removed,) = [s for s in policy["Statement"] if s["Sid"] == sid]
    rest = {**policy, "Statement": [s for s in policy["Statement"] if s["Sid"] != sid]}
    role = world.role(function, rest)
    run(world, function, role)
    refused = world.denied(role)
    actions = listed(removed["Action"])
    assert any(any(_matches(a, d["action"], fold=True) for a in actions) for d in refused), (
        f"removing {sid} from {function}'s policy refused nothing of it: {refused}"
    )


def test_a_call_outside_the_policy_fails_the_batch_and_the_log_names_action_and_resource(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    policy = world.policies["aggregate"]
    rest = [s for s in policy["Statement"] if s["Sid"] != "EmitSummaries"]
    role = world.role("aggregate", {**policy, "Statement": rest})
    with caplog.at_level(logging.ERROR):
        done = run_stream_function(world, "aggregate", role)
    assert done.reading is not None
    stats = done.reading.stats()
    # The window's closing invocation failed on the refused call and is being retried:
    # the shard waits, nothing is lost.
    assert stats["errors"] >= 1 and stats["retries"] >= 1 and stats["windows"] == 0
    summary_stream = f"arn:aws:kinesis:{REGION}:123456789012:stream/{names.SUMMARY_STREAM}"
    expected = (
        f"is not authorized to perform: kinesis:PutRecords on resource: {summary_stream} "
        "because no identity-based policy allows the kinesis:PutRecords action"
    )
    # One line per failed attempt in the functions' log: which window, which call, on what.
    lines = [r.getMessage() for r in caplog.records if r.name == "local.mapping"]
    failed = [line for line in lines if "final invocation of window" in line]
    assert failed and all(expected in line for line in failed), lines
    assert "DeliveryError: PutRecords to stream 'wildrydes-summary' failed: " in failed[0]
    assert f"assumed-role/{role.role_arn.rsplit('/', 1)[1]}/aggregate" in failed[0]
    refused = {(d["action"], d["resource"]) for d in world.denied(role)}
    assert refused == {("kinesis:PutRecords", summary_stream)}


def test_the_api_as_make_up_runs_it_acts_as_its_own_role(world: World, tmp_path: Path) -> None:
    """`chalice local` as `make up` starts it (local/api.py), given a role without ReadFleet:
    the fleet is refused to it, the rest of its routes answer."""
    policy = world.policies[API_HANDLER_FUNCTION]
    rest = [s for s in policy["Statement"] if s["Sid"] != "ReadFleet"]
    role = world.role(API_HANDLER_FUNCTION, {**policy, "Statement": rest})
    env = {**os.environ, **client_environment(world.url), **role.environment()}
    port = free_port()
    api = start_api("local", port, tmp_path / "api.log", env, timeout=60)
    try:
        fleet = get(f"http://127.0.0.1:{port}/unicorns")
        zones = get(f"http://127.0.0.1:{port}/taxi/zones")
    finally:
        stop_process(api)
    assert fleet == (
        503,
        {
            "Code": "ServiceUnavailable",
            "Message": "the fleet data is not reachable right now (AccessDeniedException)",
        },
    )
    assert zones[0] == 200
    assert {(d["action"], d["resource"].rsplit("/", 1)[1]) for d in world.denied(role)} == {
        ("dynamodb:Scan", names.STATUS_TABLE)
    }


def get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())
