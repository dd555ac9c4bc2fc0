"""The capacity plan (`make plan`): its arithmetic, its inputs, and docs/CAPACITY.md."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bench import plan_inputs
from bench.plan import (
    HEADROOM,
    SCALES,
    SHARD_WRITE_RECORDS,
    Design,
    plan,
    render,
    vitals_busy,
    what_if,
)
from infra.errors import InfraError
from infra.stages import PROJECT_DIR

INPUTS = plan_inputs.load()
DESIGN = Design.of_stage("dev")


def test_the_design_is_read_from_the_code() -> None:
    assert DESIGN.window_seconds == 60  # dev's tumbling window
    assert DESIGN.batch_size == {
        "aggregate": 1000,
        "persist": 100,
        "vitals": 500,
        "aggregate_trips": 1000,
        "persist_insights": 100,
    }
    assert DESIGN.memory_mb["vitals"] == 1024  # .chalice/config.json
    assert DESIGN.memory_mb["persist"] == 128  # Chalice's default
    assert DESIGN.vitals_writers == 16
    assert DESIGN.alarm_metrics == 24  # 21 alarms, one of them on four metrics
    assert DESIGN.other_shards == 2  # the taxi data set's streams
    assert DESIGN.status_interval == 5.0  # STATUS_INTERVAL's default: the freshness budget


def test_the_status_interval_is_the_one_the_stage_gives(tmp_path: Path) -> None:
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    config["stages"]["dev"]["environment_variables"] = {"STATUS_INTERVAL": "2"}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    assert Design.of_stage("dev", config_path=path).status_interval == 2.0
    # For vitals alone it is refused: the console, another function, says it too.
    config["stages"]["dev"]["lambda_functions"]["vitals"] = {
        "environment_variables": {"STATUS_INTERVAL": "0"}
    }
    path.write_text(json.dumps(config))
    with pytest.raises(InfraError, match="sets STATUS_INTERVAL for vitals alone"):
        Design.of_stage("dev", config_path=path)


def test_ten_unicorns_need_one_of_everything() -> None:
    small = plan(10, INPUTS, DESIGN)
    assert (small.raw_shards, small.summary_shards) == (1, 1)
    assert small.raw_shards_decided_by == "one is enough"
    assert small.concurrency == {"aggregate": 1, "vitals": 1, "persist": 1}
    assert small.total == pytest.approx(sum(small.costs.values()))


def test_shards_follow_the_limit_that_binds_first() -> None:
    # With vitals fast enough, only Kinesis's 1,000 records a second per shard is left.
    fast = what_if(DESIGN, vitals_memory=10_240, status_interval=60)
    big = plan(1_000_000, INPUTS, fast)
    assert big.raw_shards_decided_by == "records written per second"
    assert big.raw_shards == math.ceil(1_000_000 / (SHARD_WRITE_RECORDS * HEADROOM))
    # With the least memory, vitals is what decides.
    slow = plan(1_000_000, INPUTS, what_if(DESIGN, vitals_memory=128))
    assert slow.raw_shards_decided_by == "vitals keeping up"
    assert slow.raw_shards > big.raw_shards
    assert slow.unicorns_per_shard <= slow.vitals_unicorns_per_shard_max


def test_more_memory_and_more_writers_let_vitals_keep_up_with_more_unicorns() -> None:
    busy = [vitals_busy(500, INPUTS, what_if(DESIGN, vitals_memory=m)) for m in (128, 512, 1769)]
    assert busy == sorted(busy, reverse=True)
    one_writer = replace(DESIGN, vitals_writers=1)
    assert vitals_busy(500, INPUTS, one_writer) > vitals_busy(500, INPUTS, DESIGN)


def test_a_status_interval_divides_the_status_writes() -> None:
    every_batch = plan(100_000, INPUTS, what_if(DESIGN, status_interval=0))
    default = plan(100_000, INPUTS, DESIGN)
    every_ten = plan(100_000, INPUTS, what_if(DESIGN, status_interval=10))
    assert every_batch.status_writes_per_second == pytest.approx(100_000, rel=0.01)
    assert default.status_writes_per_second == pytest.approx(20_000, rel=0.01)
    assert every_ten.status_writes_per_second == pytest.approx(10_000, rel=0.01)
    # Besides the statuses: a summary a unicorn a minute, and vitals' turn on its
    # shard in each invocation, whatever the interval.
    summaries = 100_000 / 60
    turns = default.invocations_per_second["vitals"]
    assert default.dynamodb_writes_per_second == pytest.approx(
        20_000 + summaries + turns, rel=0.001
    )


def test_vitals_reads_a_unicorn_only_when_its_memory_of_the_shard_is_lost() -> None:
    thousand = plan(1_000, INPUTS, DESIGN)
    # Once a minute (TURN_KEPT_SECONDS) for each unicorn, where it was once a second.
    assert thousand.status_reads_per_second == pytest.approx(1_000 / 60, rel=0.01)
    assert thousand.dynamodb_reads_per_second == pytest.approx(1_000 / 60 + 1_000 / 60, rel=0.01)


def test_a_thousand_unicorns_cost_at_most_1000_dollars_a_month_at_the_defaults() -> None:
    thousand = plan(1_000, INPUTS, DESIGN)
    assert DESIGN.status_interval == 5.0
    assert thousand.total <= 1_000


def test_the_workshops_design_is_the_bill_without_vitals() -> None:
    thousand = plan(1_000, INPUTS, DESIGN)
    every_batch = plan(1_000, INPUTS, what_if(DESIGN, status_interval=0))
    # The status writes and reads, vitals' Lambda time and the emails: the same
    # fleet without them costs the same whatever the status interval.
    assert thousand.workshop_month == pytest.approx(every_batch.workshop_month, abs=0.05)
    assert 0 < thousand.vitals_month < thousand.total
    # What the interval saves is all vitals' (its writes and its Lambda time).
    assert every_batch.vitals_month - thousand.vitals_month == pytest.approx(
        every_batch.total - thousand.total, rel=0.01
    )
    assert every_batch.total - thousand.total > 300


def test_each_service_is_shown_with_its_part_of_the_bill() -> None:
    table = render([plan(1_000, INPUTS, DESIGN)], INPUTS)
    shares = [
        int(line.rsplit("(", 1)[1].split("%")[0])
        for line in table.splitlines()
        if line.startswith("| $ ") and line.rstrip(" |").endswith("%)")
    ]
    assert len(shares) == 8  # every service
    assert 97 <= sum(shares) <= 103  # each rounded to a whole percent


def test_aggregates_window_state_holds_thousands_of_unicorns_per_shard() -> None:
    big = plan(1_000_000, INPUTS, DESIGN)
    # 1 MB of state with headroom, at the measured bytes per unicorn.
    assert big.state_unicorns_per_shard_max == int(2**20 * HEADROOM // 199.9)
    assert big.unicorns_per_shard < big.state_unicorns_per_shard_max


def test_a_shorter_window_means_more_summaries_to_store() -> None:
    minute = plan(100_000, INPUTS, DESIGN)
    quarter = plan(100_000, INPUTS, what_if(DESIGN, window=15))
    assert quarter.summary_table_growth_gb_month == pytest.approx(
        4 * minute.summary_table_growth_gb_month, rel=0.01
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"vitals_memory": 64}, "--vitals-memory must be 128 to 10240 MB"),
        ({"status_interval": 61}, "--status-interval must be 0 to 60 seconds"),
        ({"window": 901}, "--window must be 1 to 900 seconds"),
    ],
)
def test_what_ifs_beyond_what_aws_or_the_code_allow_are_refused(
    changes: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        what_if(DESIGN, **changes)  # type: ignore[arg-type]


def test_the_committed_sizes_are_those_of_the_current_record_formats() -> None:
    # Deterministic: a change to a record, row, item or state format shows here,
    # and `python -m bench.plan --measure` brings the inputs up to date.
    measured = plan_inputs.measure_sizes()
    for name, value in measured.items():
        assert getattr(INPUTS, name) == pytest.approx(value, rel=0.02), name


def test_capacity_md_shows_the_current_plans() -> None:
    doc = (PROJECT_DIR / "docs" / "CAPACITY.md").read_text()
    defaults = render([plan(n, INPUTS, DESIGN) for n in SCALES], INPUTS)
    interval = render(
        [plan(n, INPUTS, what_if(DESIGN, status_interval=0)) for n in SCALES], INPUTS
    )
    for table in (defaults, interval):
        for line in table.splitlines():
            assert line in doc, f"docs/CAPACITY.md is out of date (make plan): {line}"


def run_plan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench.plan", *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_command_prints_one_column_per_fleet_and_json_on_request() -> None:
    shown = run_plan("--unicorns", "1000")
    assert shown.returncode == 0, shown.stderr
    assert "| unicorns" in shown.stdout and "1,000 |" in shown.stdout
    assert "$ total a month" in shown.stdout
    as_json = run_plan("--unicorns", "10", "--unicorns", "100000", "--json")
    plans = json.loads(as_json.stdout)["plans"]
    assert [p["unicorns"] for p in plans] == [10, 100_000]
    assert plans[1]["total"] > plans[0]["total"]


def test_a_fleet_of_none_is_a_usage_error() -> None:
    refused = run_plan("--unicorns", "0")
    assert refused.returncode == 2
    assert "--unicorns must be at least 1" in refused.stderr


def test_the_inputs_file_names_what_it_lacks(tmp_path: Path) -> None:
    partial = tmp_path / "inputs.json"
    partial.write_text(json.dumps({"measured_on": "today"}))
    with pytest.raises(ValueError, match=r"lacks .*raw_record_bytes.*run --measure"):
        plan_inputs.load(partial)


def test_the_aggregate_is_priced_on_lambda_and_on_flink_from_its_minimum() -> None:
    one_shard, many = plan(10, INPUTS, DESIGN), plan(100_000, INPUTS, DESIGN)
    # Flink's minimum: a KPU and the orchestration KPU, 730 hours at $0.11, 50 GB at $0.10.
    assert one_shard.raw_shards == 1
    assert one_shard.aggregate_flink_month == pytest.approx(2 * 730 * 0.11 + 50 * 0.10)
    # Then a KPU a raw shard.
    assert many.aggregate_flink_month == pytest.approx(
        (many.raw_shards + 1) * 730 * 0.11 + many.raw_shards * 50 * 0.10
    )
    # Lambda's windows cost what aggregate's invocations and busy time do: far less.
    assert 0 < one_shard.aggregate_lambda_month < many.aggregate_lambda_month
    assert many.aggregate_lambda_month < many.aggregate_flink_month / 100
    assert many.aggregate_lambda_month < many.costs["Lambda (requests + GB-s)"]
