"""The local runtime killed in the middle of a window, and started again.

One run: the embedded endpoint, a producer with a fixed seed, and a runtime
that dies inside one of `aggregate`'s invocations mid-window — after the
handler ran, before its checkpoint was saved, the worst moment. A new
runtime then starts on the same endpoint from the checkpoints on disk while
the producer keeps going. Everything stored must be what an uninterrupted
run stores: the summaries equal the records grouped by unicorn and arrival
window, the archive holds every record exactly once, and each incident
change is one email.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.endpoint import client_environment, free_port
from local.invoke import FunctionSpec, Invoker, Outcome
from local.stack import LocalStack, StackOptions
from tests import pipeline_results as results
from tests.stages import config_with_window

pytestmark = pytest.mark.slow

WINDOW = 10  # seconds: aggregate's 5 s batching window gives each window several invocations
SECONDS = 40
UNICORNS = 3


class Crash(BaseException):
    """The runtime's process dying: not an error any handler or component catches."""


class CrashingInvoker(Invoker):
    """Invokes as usual, and dies right after the first `aggregate` invocation that
    continues a window (its event carries state), before the runtime checkpoints it."""

    def __init__(self, prepare: Callable[[FunctionSpec], None] | None) -> None:
        super().__init__(prepare=prepare)
        self.crashed = threading.Event()
        self.crashed_in: dict[str, Any] = {}

    def invoke(self, spec: FunctionSpec, event: dict[str, Any]) -> Outcome:
        outcome = super().invoke(spec, event)
        mid_window = event.get("state") and not event.get("isFinalInvokeForWindow")
        if spec.name == "aggregate" and mid_window and not self.crashed.is_set():
            self.crashed_in = {"window": event["window"], "records": len(event["Records"])}
            self.crashed.set()
            raise Crash("killed after the handler ran, before the checkpoint")
        return outcome


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("crash")
    stack = LocalStack(
        StackOptions(
            stage="crash",
            port=free_port(),
            work_dir=tmp,
            config_path=config_with_window(tmp, "crash", WINDOW),
        )
    )
    invoker = CrashingInvoker(stack.invoker.prepare)  # each function's clients, as before
    stack.invoker = invoker
    died: list[BaseException] = []
    previous_hook = threading.excepthook
    threading.excepthook = lambda args: died.append(args.exc_value)  # type: ignore[assignment, misc]
    producer = None
    try:
        stack.start()
        producer = subprocess.Popen(
            [
                sys.executable, "-m", "producer",
                "--unicorns", str(UNICORNS), "--unwell", "2", "--decline", "10",
                "--duration", str(SECONDS), "--seed", "11", "--progress", "0",
            ],
            env={**os.environ, **client_environment(stack.url)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert invoker.crashed.wait(timeout=SECONDS), "aggregate never continued a window"
        assert stack._thread is not None
        stack._thread.join(timeout=10)
        dead = not stack._thread.is_alive()
        saved = stack.checkpoints.load("mapping-aggregate")
        time.sleep(3)  # the stream moves on while nothing reads it
        stack.restart_runtime()
        _, errors = producer.communicate(timeout=SECONDS + 60)
        assert producer.returncode == 0, errors
        drained = stack.drain(WINDOW + 30)
        session = stack.session()
        assert stack.provisioned is not None
        bucket = stack.provisioned.outputs["ArchiveBucketName"]
        yield {
            "dead": dead,
            "died": died,
            "crashed_in": invoker.crashed_in,
            "saved": saved,
            "drained": drained,
            "errors": stack.errors(),
            "denied": stack.denials(),
            "stream": results.stream_records(session),
            "summaries": results.summaries(session),
            "archive": results.archive_objects(session, bucket),
            "emails": results.emails(stack.mail / stack.options.alert_email),
            "checkpoint_files": sorted(p.name for p in (tmp / "checkpoints").glob("*.json")),
        }
    finally:
        threading.excepthook = previous_hook
        if producer is not None and producer.poll() is None:
            producer.kill()
            producer.wait()
        stack.stop()


def test_the_runtime_died_mid_window_with_a_batch_done_but_not_checkpointed(
    run: dict[str, Any],
) -> None:
    assert run["dead"] and [type(e) for e in run["died"]] == [Crash]
    (shard,) = run["saved"]["shards"].values()
    # The checkpoint on disk is the window's previous batch: open window, state carried.
    assert shard["window"] is not None and shard["state"]
    assert run["crashed_in"]["records"] > 0
    assert run["drained"] and run["errors"] == [] and run["denied"] == []
    assert run["checkpoint_files"] == [
        "firehose-wildrydes.json",
        "mapping-aggregate.json",
        "mapping-aggregate_trips.json",
        "mapping-persist.json",
        "mapping-persist_insights.json",
        "mapping-vitals.json",
    ]


def test_the_summaries_are_those_of_an_uninterrupted_run(run: dict[str, Any]) -> None:
    expected = results.expected_windows(run["stream"], WINDOW)
    assert len(run["stream"]) == UNICORNS * SECONDS
    assert sorted(run["summaries"]) == sorted(expected)
    for key, readings in expected.items():
        row = run["summaries"][key]
        assert row["SampleCount"] == len(readings), key  # nothing lost, nothing counted twice
        assert row["Distance"] == pytest.approx(sum(r.distance for r in readings), rel=1e-9)
        assert row["MinHealthPoints"] == min(r.health for r in readings), key
        assert row["MaxMagicPoints"] == max(r.magic for r in readings), key


def test_the_archive_holds_every_record_exactly_once(run: dict[str, Any]) -> None:
    archived = sorted(
        line + b"\n" for body in run["archive"] for line in body.splitlines() if line
    )
    assert archived == sorted(a.data for a in run["stream"])


def test_each_incident_change_is_one_email(run: dict[str, Any]) -> None:
    received = results.email_kinds(run["emails"])
    assert received == results.incident_changes(run["stream"])
    assert all(kinds.count("alert") == 1 for kinds in received.values()) and received
