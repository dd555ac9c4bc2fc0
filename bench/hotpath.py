"""`aggregate`'s per-record path against the decode floor, on one 10,000-record batch.

The batch is a realistic tumbling-window invocation (base64 data, the fleet
model's readings) handed to the deployed entry point, `app.aggregate`. The
floor is the least work any function must do per record: base64 decoding and
a complete JSON decode. The target ratio is against the floor the function
can use, the standard library's `json` (the Lambda package carries no
dependencies), taken at its fastest complete entry point: `raw_decode` of the
C scanner plus the end-of-document check `json.loads` makes. Two more floors
are reported for comparison: `json.loads(base64.b64decode(...))`, the floor
first measured, and orjson, which only the development environment has.
"""

from __future__ import annotations

import base64
import binascii
import gc
import json
import os
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib import import_module
from typing import Any

from bench.batches import fleet_records, window_event
from chalicelib import bootstrap

TARGET_RATIO = 0.8
JSON_WHITESPACE = " \t\n\r"
WINDOW_SECONDS = 60
WINDOW_START = 1_795_000_020.0  # a whole minute

_raw_decode = json.JSONDecoder().raw_decode


def floor_stdlib(records: Sequence[dict[str, Any]]) -> None:
    """base64, UTF-8, and the stdlib's C scanner with json.loads's end check."""
    a2b = binascii.a2b_base64
    for record in records:
        text = a2b(record["kinesis"]["data"]).decode()
        _value, end = _raw_decode(text)
        if end != len(text) and text[end:].strip(JSON_WHITESPACE):
            raise ValueError("extra data")


def floor_json_loads(records: Sequence[dict[str, Any]]) -> None:
    """The obvious way: json.loads(base64.b64decode(data))."""
    loads, b64decode = json.loads, base64.b64decode
    for record in records:
        loads(b64decode(record["kinesis"]["data"]))


def _orjson_floor() -> Callable[[Sequence[dict[str, Any]]], None] | None:
    try:
        orjson = import_module("orjson")
    except ImportError:
        return None
    loads = orjson.loads

    def floor_orjson(records: Sequence[dict[str, Any]]) -> None:
        a2b = binascii.a2b_base64
        for record in records:
            loads(a2b(record["kinesis"]["data"]))

    return floor_orjson


@contextmanager
def function_environment() -> Iterator[None]:
    """What the deployed function has: a region and credentials; no endpoint is called."""
    variables = {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "ARCHIVE_BUCKET": "wildrydes-archive-123456789012-us-east-1",
        "LOG_LEVEL": "WARNING",
    }
    saved = {key: os.environ.get(key) for key in variables}
    os.environ.update(variables)
    bootstrap.reset()
    try:
        yield
    finally:
        bootstrap.reset()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run(*, quick: bool = False, records: int = 10_000, unicorns: int = 50) -> dict[str, Any]:
    rate = 4.0  # reports a second per unicorn: 10,000 records in 50 s, inside one window
    arrived = fleet_records(unicorns, records / unicorns / rate, start=WINDOW_START, rate=rate)
    event = window_event([a.record for a in arrived], WINDOW_START, WINDOW_SECONDS)
    batch = event["Records"]
    handler = import_module("app").aggregate
    with function_environment():
        result = handler(event, None)  # warm: clients and services made once, as in Lambda
        if result["state"]["invalid"] or len(result["state"]["unicorns"]) != unicorns:
            raise RuntimeError(f"the benchmark batch was not aggregated as expected: {result}")
        variants: dict[str, Callable[[], object]] = {
            "aggregate": lambda: handler(event, None),
            "floor_stdlib": lambda: floor_stdlib(batch),
            "floor_json_loads": lambda: floor_json_loads(batch),
        }
        orjson_floor = _orjson_floor()
        if orjson_floor is not None:
            variants["floor_orjson"] = lambda: orjson_floor(batch)
        times = _interleaved(variants, rounds=5 if quick else 25)
    per_record = {name: statistics.median(t) / len(batch) * 1e6 for name, t in times.items()}
    aggregate = per_record["aggregate"]
    orjson_us = per_record.get("floor_orjson")
    return {
        "records": len(batch),
        "unicorns": unicorns,
        "rounds": len(times["aggregate"]),
        "aggregate_us_per_record": round(aggregate, 3),
        "aggregate_records_per_s": round(1e6 / aggregate),
        "floor_stdlib_us_per_record": round(per_record["floor_stdlib"], 3),
        "ratio_to_stdlib_floor": round(per_record["floor_stdlib"] / aggregate, 3),
        # The rounds least disturbed by anything else on the machine, as a second estimate.
        "ratio_of_fastest": round(min(times["floor_stdlib"]) / min(times["aggregate"]), 3),
        "target_ratio": TARGET_RATIO,
        "floor_json_loads_us_per_record": round(per_record["floor_json_loads"], 3),
        "ratio_to_json_loads_floor": round(per_record["floor_json_loads"] / aggregate, 3),
        "floor_orjson_us_per_record": None if orjson_us is None else round(orjson_us, 3),
        "ratio_to_orjson_floor": None if orjson_us is None else round(orjson_us / aggregate, 3),
    }


def _interleaved(variants: dict[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """Each variant once per round, in turn, so that they share the machine's noise."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, call in variants.items():
            gc.collect()  # every variant starts with the same garbage to collect: none
            started = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - started)
    return times
