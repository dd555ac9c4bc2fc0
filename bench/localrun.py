"""The embedded pipeline for the latency and throughput sections, and a producer to feed it.

One `LocalStack` on a free port with a temporary work directory, provisioned
for a `bench` stage: the local stage with 10 s windows (more windows close in
a short run) and the scheduled report left at its declared 15 minutes (so it
never runs during a measurement). The producer is `python -m producer` in a
child process, as `make demo` runs it.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib import names
from infra.event_sources import window_stage
from infra.stages import CONFIG_PATH
from local.child import spawn
from local.endpoint import client_environment, free_port
from local.stack import LocalStack, StackOptions

STAGE = "bench"


def _config(directory: Path, window: int) -> Path:
    config = json.loads(CONFIG_PATH.read_text())
    config["stages"][STAGE] = {**config["stages"].get("local", {}), **window_stage(window)}
    path = directory / "config.json"
    path.write_text(json.dumps(config))
    return path


@contextmanager
def local_stack(directory: Path, window: int = 10, shards: int = 1) -> Iterator[LocalStack]:
    """The stack with `window`-second windows and `shards` raw-stream shards, started;
    stopped however the block ends."""
    stack = LocalStack(
        StackOptions(
            stage=STAGE,
            port=free_port(),
            work_dir=directory,
            config_path=_config(directory, window),
            schedule_interval=None,
            parameters={"ShardCount": str(shards)},
        )
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@dataclass
class Produced:
    """What the producer said when it finished."""

    exit: int | None
    sent: int
    rate: float  # records/s it achieved, over its whole run
    elapsed: float
    last_line: str


class Producer:
    """`python -m producer` in a child process; its output in a log."""

    def __init__(
        self,
        stack: LocalStack,
        log: Path,
        *,
        unicorns: int,
        rate: float,
        seconds: float,
        unwell: int = 0,
        decline: float = 2.0,
        seed: int = 7,
    ) -> None:
        self.log = log
        command = [
            sys.executable,
            "-m",
            "producer",
            "--unicorns",
            str(unicorns),
            "--rate",
            f"{rate:g}",
            "--duration",
            f"{seconds:g}",
            "--unwell",
            str(unwell),
            "--decline",
            f"{decline:g}",
            "--seed",
            str(seed),
            "--progress",
            "0",
        ]
        log.unlink(missing_ok=True)
        self.process = spawn(command, log=log, env={**os.environ, **client_environment(stack.url)})

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> Produced:
        """Stop it now if it is still running (it sums up on Ctrl-C), and read its summary."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.wait(timeout)

    def wait(self, timeout: float) -> Produced:
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        lines = self.log.read_text().splitlines()
        last = lines[-1] if lines else ""
        found = re.search(r"sent (\d+), .* ([\d.]+) records/s, ([\d.]+)s elapsed", last)
        return Produced(
            exit=self.process.returncode,
            sent=int(found.group(1)) if found else 0,
            rate=float(found.group(2)) if found else 0.0,
            elapsed=float(found.group(3)) if found else 0.0,
            last_line=last,
        )


def stream_arrivals(stack: LocalStack) -> dict[tuple[str, str], float]:
    """(Name, StatusTime) -> when that record arrived on the raw stream (Kinesis's clock)."""
    kinesis = stack.session().client("kinesis")
    found: dict[tuple[str, str], float] = {}
    for shard in kinesis.list_shards(StreamName=names.RAW_STREAM)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=names.RAW_STREAM,
            ShardId=shard["ShardId"],
            ShardIteratorType="TRIM_HORIZON",
        )["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            for record in page["Records"]:
                reading = json.loads(record["Data"])
                key = (reading["Name"], reading["StatusTime"])
                found[key] = record["ApproximateArrivalTimestamp"].timestamp()
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return found


def percentiles(samples: list[float]) -> dict[str, Any]:
    """n, p50, p99 and max of `samples` (seconds), by the nearest-rank method."""
    if not samples:
        return {"n": 0, "p50_s": None, "p99_s": None, "max_s": None}
    ordered = sorted(samples)

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(len(ordered) * p / 100) - 1)]

    return {
        "n": len(ordered),
        "p50_s": round(rank(50), 3),
        "p99_s": round(rank(99), 3),
        "max_s": round(ordered[-1], 3),
    }
