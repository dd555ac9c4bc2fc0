"""AWS calls per 1,000 raw records, per stage, beside their floors.

The real handlers run under moto (`mock_aws`), invoked by the local runtime's
shard pollers exactly as the dev stage's mappings would invoke them (batch
sizes, batching windows, 60 s tumbling windows with their final invocations),
on simulated time so that minutes of traffic take seconds. The raw stream is
the producer's fleet model in memory; the summary stream is moto's, so that
persist reads what aggregate wrote. Every call is counted by a botocore event
hook on the real clients the functions make (no patching).

`vitals` runs at the stage's freshness budget (`STATUS_INTERVAL`, 5 s by
default): its status writes are shown against the budget, each unicorn's first
status plus one per unicorn per interval plus one per alert or recovery, and as
writes per unicorn-second once every unicorn has a status. `make plan` measures
with a write in every batch (`status_interval=0`) and scales by the interval.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from importlib import import_module
from typing import Any

import boto3
from moto import mock_aws

from bench.batches import SHARD_ID, Arrived, fleet_records
from chalicelib import bootstrap, names
from chalicelib.adapters.clients import Clients
from chalicelib.bootstrap import Services
from chalicelib.pipeline.events import StreamRecord
from chalicelib.pipeline.timestamps import parse_status_time
from chalicelib.settings import STATUS_INTERVAL_VARIABLE, load_settings
from chalicelib.unicorns.records import Reading
from chalicelib.unicorns.vitals import Status, advance
from infra.event_sources import kinesis_mappings
from infra.stages import function_variables
from infra.system import TABLE_KEYS, table_keys
from local.endpoint import ACCOUNT, REGION
from local.invoke import FunctionSpec, Invoker, environment
from local.mapping import MappingSettings, ShardPoller
from local.shards import ShardReader

STAGE = "dev"  # its mapping settings: 60 s windows, as on AWS by default
UNICORNS = 100
START = 1_795_000_020.0  # on a whole minute, so that windows hold whole minutes
BUCKET = f"wildrydes-archive-{ACCOUNT}-{REGION}"
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": REGION,
    "ARCHIVE_BUCKET": BUCKET,
    "API_URL": "https://example.execute-api.us-east-1.amazonaws.com/api/",
    "LOG_LEVEL": "WARNING",
}
# What moves items, as opposed to reading them or making resources.
WRITES = {
    "dynamodb": ("BatchWriteItem", "PutItem", "UpdateItem", "DeleteItem"),
    "kinesis": ("PutRecords", "PutRecord"),
    "sns": ("Publish",),
    "s3": ("PutObject",),
}


@dataclass
class CallCounter:
    """Counts API calls (and the items they carry) by the function making them."""

    function: str = "-"
    calls: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    items: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    def __call__(self, event_name: str, params: dict[str, Any], **kwargs: Any) -> None:
        service, operation = event_name.split(".")[1:]
        if params.get("TableName") == names.SHARD_TURN_TABLE:
            operation += " (turn)"  # vitals' turn on its shard, not a status
        key = (self.function, service, operation)
        self.calls[key] += 1
        if operation == "BatchWriteItem":
            self.items[key] += sum(len(r) for r in params["RequestItems"].values())
        elif operation == "BatchGetItem":
            self.items[key] += sum(len(r["Keys"]) for r in params["RequestItems"].values())
        elif operation == "PutRecords":
            self.items[key] += len(params["Records"])
        else:
            self.items[key] += 1

    def attributed(self, function: str, handler: Callable[..., Any]) -> Callable[..., Any]:
        def run(event: dict[str, Any], context: Any) -> Any:
            self.function = function
            try:
                return handler(event, context)
            finally:
                self.function = "-"

        return run


class TimedShard:
    """The raw stream's shard in memory: a record can be read once it has arrived."""

    shard_id = SHARD_ID
    closed = False

    def __init__(self, records: Sequence[StreamRecord]) -> None:
        self.records = records
        self.position = 0
        self.now = 0.0

    def read(self, limit: int = 10_000) -> list[StreamRecord]:
        end = self.position
        while end < len(self.records) and end - self.position < limit:
            if self.records[end].arrival > self.now:
                break
            end += 1
        found = list(self.records[self.position : end])
        self.position = end
        return found


def stage_status_interval() -> float:
    """The freshness budget the stage gives `vitals`."""
    return load_settings(function_variables(STAGE, "vitals")).status_interval


def run(*, quick: bool = False, status_interval: float | None = None) -> dict[str, Any]:
    """Count the calls; `status_interval` None runs vitals at the stage's."""
    seconds = 20 if quick else 120
    interval = stage_status_interval() if status_interval is None else status_interval
    arrived = fleet_records(UNICORNS, seconds, start=START)
    variables = {**ENVIRONMENT, STATUS_INTERVAL_VARIABLE: f"{interval:g}"}
    with environment(variables), mock_aws():
        session = boto3.session.Session(region_name=REGION)
        topic_arn = _create_resources(session)
        counter = CallCounter()
        counted = boto3.session.Session(region_name=REGION)
        counted.events.register("before-parameter-build", counter)
        with environment({"ALERT_TOPIC_ARN": topic_arn}):
            bootstrap.install(Services(load_settings(), Clients(counted), sleep=lambda _: None))
            try:
                batches = _drive(arrived, session, counter)
            finally:
                bootstrap.reset()
    return _report(arrived, counter, batches, seconds, interval)


UNICORN_STREAMS = (names.RAW_STREAM, names.SUMMARY_STREAM)


def _create_resources(session: Any) -> str:
    kinesis = session.client("kinesis")
    for stream in UNICORN_STREAMS:
        kinesis.create_stream(StreamName=stream, ShardCount=1)
    dynamodb = session.client("dynamodb")
    for table in TABLE_KEYS:
        dynamodb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST", **table_keys(table))
    session.client("s3").create_bucket(Bucket=BUCKET)
    arn: str = session.client("sns").create_topic(Name=names.ALERT_TOPIC)["TopicArn"]
    return arn


def _drive(arrived: list[Arrived], session: Any, counter: CallCounter) -> Counter[str]:
    """Run every mapping over the records on simulated time; unicorn-batches per function."""
    app = import_module("app")
    kinesis = session.client("kinesis")
    records = [a.record for a in arrived]
    raw_shards: list[TimedShard] = []
    pollers = []
    unicorn_batches: Counter[str] = Counter()
    for defined in kinesis_mappings(STAGE, failure_destination=""):
        trigger = defined.trigger
        if trigger.stream not in UNICORN_STREAMS:
            continue  # another data set's function: it would never be invoked here
        # No failure queue here: a discarded batch is counted, not sent anywhere.
        mapping = MappingSettings.from_definitions(
            replace(defined, properties={**defined.properties, "DestinationConfig": {}})
        )
        handler = _counting_batches(
            trigger.function,
            counter.attributed(trigger.function, getattr(app, trigger.function)),
            unicorn_batches,
        )
        deployed = f"wildrydes-{STAGE}-{trigger.function}"
        spec = FunctionSpec(
            name=trigger.function,
            deployed_name=deployed,
            arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{deployed}",
            handler=handler,
            timeout=300,
        )
        if trigger.stream == names.RAW_STREAM:
            source: Any = TimedShard(records)
            raw_shards.append(source)
        else:
            shard = kinesis.list_shards(StreamName=trigger.stream)["Shards"][0]["ShardId"]
            source = ShardReader(kinesis, trigger.stream, shard, "TRIM_HORIZON")
        arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{trigger.stream}"
        pollers.append(
            ShardPoller(mapping, spec, source, Invoker(), stream_arn=arn, region=REGION)
        )
    window = max(p.settings.tumbling_window for p in pollers)
    now = records[0].arrival
    end = records[-1].arrival + window + 10
    while now < end or not all(p.idle for p in pollers):
        for shard in raw_shards:
            shard.now = now
        due = min(p.poll(now) for p in pollers)
        now = min(max(due, now + 0.001), now + 0.25)
        if now > end + 120:
            raise RuntimeError("the pipeline did not drain on simulated time")
    return unicorn_batches


def _counting_batches(
    function: str, handler: Callable[..., Any], counts: Counter[str]
) -> Callable[..., Any]:
    def run(event: dict[str, Any], context: Any) -> Any:
        counts[function] += len({r["kinesis"]["partitionKey"] for r in event["Records"]})
        counts[f"{function} invocations"] += 1
        return handler(event, context)

    return run


def _incident_changes(readings: Sequence[Reading], threshold: int = 100) -> int:
    """Alerts and recoveries the readings call for: one message each, at least."""
    by_name: dict[str, list[Reading]] = defaultdict(list)
    for reading in readings:
        by_name[reading.name].append(reading)
    changes = 0
    for own in by_name.values():
        status: Status | None = None
        for reading in sorted(own, key=lambda r: r.status_time):
            status, transitions = advance(status, [reading], threshold, 0.0)
            changes += len(transitions)
    return changes


def _status_budget(arrived: Sequence[Arrived], interval: float, changes: int) -> int:
    """The status writes the freshness budget allows: each unicorn's first, then one
    per `interval` of its readings' time, and one per alert or recovery."""
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    for a in arrived:
        at = parse_status_time(a.reading.status_time).timestamp()
        first[a.reading.name] = min(at, first.get(a.reading.name, at))
        last[a.reading.name] = max(at, last.get(a.reading.name, at))
    return sum(1 + math.floor((last[n] - first[n]) / interval) for n in first) + changes


def _report(
    arrived: list[Arrived],
    counter: CallCounter,
    unicorn_batches: Counter[str],
    seconds: int,
    status_interval: float,
) -> dict[str, Any]:
    records = len(arrived)
    changes = _incident_changes([a.reading for a in arrived])
    unicorns = len({a.reading.name for a in arrived})
    window = 60
    unicorn_windows = len(
        {(a.reading.name, math.floor(a.record.arrival / window)) for a in arrived}
    )
    windows = len({math.floor(a.record.arrival / window) for a in arrived})
    floors = {
        # (function, service, operation): (floor in items, what the floor is)
        ("persist", "dynamodb", "BatchWriteItem"): (unicorn_windows, "one per unicorn-window"),
        ("aggregate", "kinesis", "PutRecords"): (
            unicorn_windows,
            "one summary per unicorn-window",
        ),
        ("vitals", "dynamodb", "PutItem"): (
            (
                _status_budget(arrived, status_interval, changes),
                f"budget: one per unicorn per {status_interval:g} s, + alerts, recoveries",
            )
            if status_interval > 0
            else (unicorn_batches["vitals"], "one per unicorn per batch")
        ),
        ("vitals", "dynamodb", "BatchGetItem"): (unicorns, "each unicorn once, then remembered"),
        ("vitals", "dynamodb", "PutItem (turn)"): (
            unicorn_batches["vitals invocations"],
            "one per batch",
        ),
        ("vitals", "sns", "Publish"): (changes, "one per alert or recovery"),
    }
    rows: list[dict[str, Any]] = []
    for key in sorted(counter.calls):
        function, service, operation = key
        floor, means = floors.get(key, (None, ""))
        rows.append(
            {
                "function": function,
                "service": service,
                "operation": operation,
                "write": operation.split()[0] in WRITES.get(service, ()),
                "calls": counter.calls[key],
                "items": counter.items[key],
                "calls_per_1000_records": round(counter.calls[key] * 1000 / records, 2),
                "items_per_1000_records": round(counter.items[key] * 1000 / records, 2),
                "floor_items": floor,
                "floor_items_per_1000_records": None
                if floor is None
                else round(floor * 1000 / records, 2),
                "floor": means,
            }
        )
    totals = Counter[str]()
    for row in rows:
        if row["write"]:
            totals[f"{row['service']}_writes"] += row["calls"]
    # Status writes per unicorn-second after each unicorn's first status (the
    # fleet reports once a second: a record is a unicorn-second).
    status_writes = counter.calls[("vitals", "dynamodb", "PutItem")]
    return {
        "unicorns": UNICORNS,
        "seconds": seconds,
        "status_interval": status_interval,
        "status_writes_per_unicorn_second": round(
            (status_writes - unicorns) / (records - unicorns), 3
        ),
        "status_writes_budget_per_unicorn_second": round(1 / status_interval, 3)
        if status_interval > 0
        else None,
        "records": records,
        "window_seconds": window,
        "windows": windows,
        "unicorn_windows": unicorn_windows,
        "rows": rows,
        "write_calls_per_1000_records": {
            name: round(count * 1000 / records, 2) for name, count in sorted(totals.items())
        },
    }
