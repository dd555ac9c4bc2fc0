"""What the capacity plan is derived from: figures measured from the code, kept in a file.

`python -m bench.plan --measure` measures them and rewrites
`bench/capacity_inputs.json`; `make plan` reads that file, so the plan and
docs/CAPACITY.md agree until someone measures again. Measured here:

- AWS calls per 1,000 raw records, per function (the bench's section 2: the
  real handlers under moto, driven by the local runtime's mapping logic);
- sizes: a raw record, a summary row, a status and a summary item as DynamoDB
  counts them, aggregate's window state per unicorn (Lambda caps a shard's
  window state at 1 MB), and how much smaller gzip makes an archive object
  (a minute of the fleet's records, as Firehose buffers them);
- CPU on this machine: aggregate's per-record path, vitals' parse, and
  botocore's own work per DynamoDB call (serialising the request, parsing a
  canned response, no network).
"""

from __future__ import annotations

import gzip
import json
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from bench import calls, hotpath
from bench.batches import fleet_records, window_event
from chalicelib.pipeline.windows import Window
from chalicelib.unicorns.records import parse_reading
from chalicelib.unicorns.store import StatusStore, _summary_to_item
from chalicelib.unicorns.summaries import encode_row
from chalicelib.unicorns.vitals import advance
from chalicelib.unicorns.windows import WindowState, fold_readings

INPUTS_PATH = Path(__file__).with_name("capacity_inputs.json")
UNICORNS = 100
WINDOW_SECONDS = 60
START = 1_795_000_020.0


@dataclass(frozen=True)
class Inputs:
    """Measured figures the plan scales (per record or per call)."""

    measured_on: str
    # AWS calls per 1,000 raw records at 100 unicorns, 60 s windows.
    vitals_put_item: float
    vitals_batch_get_item: float
    vitals_publish: float
    aggregate_put_records: float
    aggregate_summaries: float
    persist_batch_write_item: float
    persist_batch_get_item: float
    # Sizes in bytes.
    raw_record_bytes: float
    summary_row_bytes: float
    status_item_bytes: float
    summary_item_bytes: float
    window_state_bytes_per_unicorn: float
    archive_compression_ratio: float  # raw bytes per gzipped byte of an archive object
    # CPU on the measuring machine, microseconds.
    aggregate_us_per_record: float
    vitals_parse_us_per_record: float
    put_item_client_us: float
    batch_get_client_us_per_key: float

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"


def load(path: Path = INPUTS_PATH) -> Inputs:
    data = json.loads(path.read_text())
    known = {f.name for f in fields(Inputs)}
    missing = known - set(data)
    if missing:
        raise ValueError(f"{path} lacks {', '.join(sorted(missing))}: run --measure")
    return Inputs(**{k: v for k, v in data.items() if k in known})


def measure(progress: Callable[[str], None] = print) -> Inputs:
    """Measure every input (about a minute: most of it is the calls run)."""
    progress("measuring AWS calls per 1,000 records (real handlers under moto, ~40 s)")
    counted = calls.run(status_interval=0)  # a write in every batch: the plan scales it
    per_1000 = {
        (r["function"], r["operation"]): r["calls_per_1000_records"] for r in counted["rows"]
    }
    items = {(r["function"], r["operation"]): r["items_per_1000_records"] for r in counted["rows"]}
    progress("measuring sizes and CPU per record and per call")
    sizes = measure_sizes()
    cpu = measure_cpu()
    return Inputs(
        measured_on=f"{datetime.now(UTC):%Y-%m-%d}, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.machine()}",
        vitals_put_item=per_1000.get(("vitals", "PutItem"), 0.0),
        vitals_batch_get_item=per_1000.get(("vitals", "BatchGetItem"), 0.0),
        vitals_publish=per_1000.get(("vitals", "Publish"), 0.0),
        aggregate_put_records=per_1000.get(("aggregate", "PutRecords"), 0.0),
        aggregate_summaries=items.get(("aggregate", "PutRecords"), 0.0),
        persist_batch_write_item=per_1000.get(("persist", "BatchWriteItem"), 0.0),
        persist_batch_get_item=per_1000.get(("persist", "BatchGetItem"), 0.0),
        **sizes,
        **cpu,
    )


def window_of_records() -> tuple[list[Any], WindowState]:
    """One 60 s window of the 100-unicorn fleet and aggregate's state after it."""
    arrived = fleet_records(UNICORNS, WINDOW_SECONDS, start=START)
    state = WindowState()
    event = window_event([a.record for a in arrived], START, WINDOW_SECONDS)
    if fold_readings(state, event["Records"]):
        raise RuntimeError("the fleet's records were not all aggregated")
    return arrived, state


def measure_sizes() -> dict[str, float]:
    """Bytes of what the pipeline moves and keeps (deterministic)."""
    arrived, state = window_of_records()
    window = Window.from_event({"start": _iso(START), "end": _iso(START + WINDOW_SECONDS)})
    summaries = state.summaries(window, "shardId-000000000000")
    readings = [a.reading for a in arrived[:UNICORNS]]
    statuses = [advance(None, [r], 100, START)[0] for r in readings]
    state_bytes = len(json.dumps(state.to_state(), separators=(",", ":")))
    return {
        "raw_record_bytes": _mean(len(a.record.data) for a in arrived),
        "summary_row_bytes": _mean(len(encode_row(s)) for s in summaries),
        "status_item_bytes": _mean(
            item_bytes(StatusStore(None, "").item(s, {}, 1)) for s in statuses if s is not None
        ),
        "summary_item_bytes": _mean(item_bytes(_summary_to_item(s)) for s in summaries),
        "window_state_bytes_per_unicorn": round(state_bytes / UNICORNS, 1),
        "archive_compression_ratio": compression_ratio(b"".join(a.record.data for a in arrived)),
    }


def compression_ratio(body: bytes) -> float:
    """How many times smaller gzip (zlib's default level, 6) makes `body`."""
    return round(len(body) / len(gzip.compress(body, compresslevel=6, mtime=0)), 2)


def item_bytes(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB bills it: names plus values (numbers ~ digits / 2 + 1)."""
    return sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())


def _value_bytes(value: dict[str, Any]) -> int:
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "N":
        return len(content.lstrip("-").replace(".", "")) // 2 + 1
    if kind in {"BOOL", "NULL"}:
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in content)
    if kind == "L":
        return 3 + sum(1 + _value_bytes(v) for v in content)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _value_bytes(v) for k, v in content.items())
    raise ValueError(f"no size rule for {kind}")


def measure_cpu() -> dict[str, float]:
    """Microseconds of CPU on this machine (medians of several rounds)."""
    aggregate = hotpath.run(quick=True)["aggregate_us_per_record"]
    arrived, _ = window_of_records()
    data = [a.record.data for a in arrived]

    def parse_all() -> None:
        for d in data:
            parse_reading(d)

    parse = _median_us(parse_all, rounds=7) / len(data)
    client = _canned_dynamodb()
    item = {"Name": {"S": "Shadowfax"}, "StatusTime": {"S": "2026-11-22 14:05:00.000"}}
    put = _median_us(lambda: client.put_item(TableName="t", Item=item), rounds=200)
    keys = [{"Name": {"S": f"unicorn-{n}"}} for n in range(100)]
    get = _median_us(lambda: client.batch_get_item(RequestItems={"t": {"Keys": keys}}), rounds=50)
    return {
        "aggregate_us_per_record": round(aggregate, 2),
        "vitals_parse_us_per_record": round(parse, 2),
        "put_item_client_us": round(put, 1),
        "batch_get_client_us_per_key": round(get / len(keys), 2),
    }


def _canned_dynamodb() -> Any:
    """A real DynamoDB client whose requests are answered in-process, before any network."""
    client = boto3.session.Session(
        aws_access_key_id="plan", aws_secret_access_key="plan", region_name="us-east-1"
    ).client("dynamodb")

    class Answer:
        status_code = 200
        headers: dict[str, str] = {}  # noqa: RUF012
        content = b'{"Responses": {"t": []}, "UnprocessedKeys": {}}'
        raw = None

    client.meta.events.register("before-send.dynamodb", lambda **_: Answer())
    return client


def _median_us(run: Callable[[], Any], rounds: int) -> float:
    run()  # warm
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        timings.append((time.perf_counter() - started) * 1e6)
    return statistics.median(timings)


def _mean(values: Any) -> float:
    found = [float(v) for v in values]
    return round(sum(found) / len(found), 1)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
