"""The local pipeline with AWS failing a fifth of the calls the functions and producer make.

One run: the embedded endpoint and runtime, with a `FaultInjector` on the
functions' clients (throttling, 5xx and timeouts on every call `aggregate`'s
emission, `persist` and `vitals` make, and lost races on `vitals`'
conditional writes) and another on the producer's (throttling and 5xx on
PutRecords). What the run must still do, and the figures it prints: every
record counted once in the summaries (nothing lost, nothing twice), and
exactly one email per incident change.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.adapters.clients import CLIENT_CONFIG
from local.endpoint import free_port
from local.faults import FaultInjector
from local.stack import LocalStack, StackOptions
from producer import cli as producer_cli
from tests import pipeline_results as results
from tests.stages import config_with_window

pytestmark = pytest.mark.slow

RATE = 0.2
WINDOW = 5
SECONDS = 30
UNICORNS = 4
FUNCTION_CALLS = (
    "kinesis.PutRecords",  # aggregate's summaries
    "dynamodb.BatchGetItem",
    "dynamodb.BatchWriteItem",  # persist
    "dynamodb.PutItem",  # vitals' status, conditional on the version it read
    "dynamodb.UpdateItem",
    "sns.Publish",  # vitals' alerts
    "s3.PutObject",  # aggregate keeping the invalid record aside
)
INVALID = b'{"Name": "Glitch", "StatusTime": "yesterday"}\n'


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("faults")
    port = free_port()
    functions = FaultInjector(FUNCTION_CALLS, RATE, races=["dynamodb.PutItem"], seed=5)
    stack = LocalStack(
        StackOptions(
            stage="faults",
            port=port,
            work_dir=tmp,
            config_path=config_with_window(tmp, "faults", WINDOW),
            faults=functions,
        )
    )
    try:
        stack.start()
        session = stack.session()
        producer_faults = FaultInjector(
            ["kinesis.PutRecords"], RATE, kinds=("throttle", "server"), label="producer"
        )
        client = session.client("kinesis", config=CLIENT_CONFIG)
        producer_faults.attach(client)
        arguments = [
            "--unicorns", str(UNICORNS), "--unwell", "2", "--decline", "10",
            "--duration", str(SECONDS), "--seed", "3", "--progress", "0",
        ]  # fmt: skip
        outcome: list[int] = []
        producer = threading.Thread(
            target=lambda: outcome.append(producer_cli.main(arguments, client=client))
        )
        producer.start()
        producer.join(timeout=SECONDS + 60)
        assert outcome == [0], "the producer failed"
        session.client("kinesis").put_record(
            StreamName="wildrydes", Data=INVALID, PartitionKey="Glitch"
        )
        drained = stack.drain(WINDOW + 60)
        yield {
            "drained": drained,
            "errors": stack.errors(),
            "denied": stack.denials(),
            "stats": stack.stats(),
            "faults": functions.table() + producer_faults.table(),
            "injected": functions.injected + producer_faults.injected,
            "stream": results.stream_records(session),
            "summaries": results.summaries(session),
            "emails": results.emails(stack.mail / stack.options.alert_email),
            "dead_letters": [
                line
                for body in results.archive_objects(
                    session, stack.provisioned.outputs["ArchiveBucketName"], "dead-letter/"
                )
                for line in body.splitlines()
            ]
            if stack.provisioned
            else [],
        }
    finally:
        stack.stop()


def test_the_run_survives_a_fifth_of_its_calls_failing_and_prints_the_figures(
    run: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    expected = results.expected_windows(run["stream"], WINDOW)
    sent = sum(len(readings) for readings in expected.values())
    stored = {key: row["SampleCount"] for key, row in run["summaries"].items()}
    lost = sum(max(0, len(r) - stored.get(key, 0)) for key, r in expected.items())
    doubled = sum(max(0, count - len(expected.get(key, []))) for key, count in stored.items())
    incidents = results.incident_changes(run["stream"])
    received = results.email_kinds(run["emails"])
    changes = sum(len(kinds) for kinds in incidents.values())
    with capsys.disabled():
        print(f"\n  fault injection at {RATE:.0%} of calls: {run['injected']} faults")
        for operation, kind, count, calls in run["faults"]:
            print(f"    {operation:<28} {kind:<9} {count:>4} of {calls:>4} calls")
        print(f"  records sent                 {sent}")
        print(f"  summaries expected / stored  {len(expected)} / {len(stored)}")
        print(f"  records lost                 {lost}")
        print(f"  records counted twice        {doubled}")
        print(f"  incident changes / emails    {changes} / {len(run['emails'])}")
    faulted = {operation for operation, _, count, _ in run["faults"] if count}
    assert faulted >= {*FUNCTION_CALLS, "dynamodb.PutItem (race)", "producer kinesis.PutRecords"}
    assert {kind for _, kind, count, _ in run["faults"] if count} == {
        "throttle",
        "server",
        "timeout",
        "race",
    }
    assert sent == UNICORNS * SECONDS
    assert len(run["dead_letters"]) == 1  # the invalid record, kept aside once
    assert lost == 0 and doubled == 0
    assert sorted(stored) == sorted(expected)
    assert received == incidents  # exactly one email per incident change
    assert all(kinds.count("alert") == 1 for kinds in received.values()) and received
    assert run["drained"]
    assert run["denied"] == []  # the faults' competing writes included


def test_summaries_hold_the_right_figures_despite_the_faults(run: dict[str, Any]) -> None:
    for key, readings in results.expected_windows(run["stream"], WINDOW).items():
        row = run["summaries"][key]
        assert row["Distance"] == pytest.approx(sum(r.distance for r in readings), rel=1e-9)
        assert row["MinHealthPoints"] == min(r.health for r in readings), key
        assert row["MaxMagicPoints"] == max(r.magic for r in readings), key
