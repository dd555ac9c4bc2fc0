"""`python -m bench --quick` runs every section and writes every figure.

The figures themselves are measured, never judged here (timed assertions are
flaky on shared cores): the test checks that the table is printed and the
JSON has every key, so that `make bench` keeps working as the code changes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.cli import SECTIONS
from infra.stages import PROJECT_DIR

pytestmark = pytest.mark.slow

KEYS = {
    "aggregate": {
        "records",
        "aggregate_us_per_record",
        "aggregate_records_per_s",
        "floor_stdlib_us_per_record",
        "ratio_to_stdlib_floor",
        "ratio_of_fastest",
        "floor_json_loads_us_per_record",
        "ratio_to_json_loads_floor",
        "floor_orjson_us_per_record",
        "target_ratio",
    },
    "aws_calls": {
        "records",
        "unicorns",
        "rows",
        "write_calls_per_1000_records",
        "status_interval",
        "status_writes_per_unicorn_second",
        "status_writes_budget_per_unicorn_second",
    },
    "latency": {"produced_to_email", "produced_to_status", "status_age", "window_end_to_summary"},
    "throughput": {"steps", "highest_sustained_rate"},
    "cold_start": {
        "import_app_ms",
        "import_chalice_boto3_ms",
        "ratio",
        "beyond_chalice_boto3_ms",
        "package_bytes",
    },
}


def test_the_quick_bench_prints_the_table_and_writes_every_figure(tmp_path: Path) -> None:
    output = tmp_path / "bench.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(output)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert run.returncode == 0, run.stderr[-4000:]
    figures = json.loads(output.read_text())
    assert set(figures) == {"meta", "soak", *SECTIONS}  # the last `make soak`'s, if any
    for section, keys in KEYS.items():
        assert keys <= set(figures[section]), section
    assert {"p50_s", "p99_s", "n"} <= set(figures["latency"]["produced_to_status"])
    assert figures["aws_calls"]["rows"], "no AWS call was counted"
    # vitals keeps to the stage's freshness budget (5 s: a write per unicorn per 5 s).
    calls = figures["aws_calls"]
    assert calls["status_interval"] == 5.0
    assert 0 < calls["status_writes_per_unicorn_second"] <= 0.2
    assert calls["status_writes_budget_per_unicorn_second"] == 0.2
    (put_item,) = [
        r for r in calls["rows"] if (r["function"], r["operation"]) == ("vitals", "PutItem")
    ]
    assert put_item["items"] <= put_item["floor_items"]
    assert all(
        {"rate", "achieved_rate", "max_lag_s"} <= set(s) for s in figures["throughput"]["steps"]
    )
    for heading in (
        "aggregate's per-record path",
        "AWS calls per 1,000",
        "vitals status writes per unicorn-second",
        "memory under make up",
        "latency",
        "sustains",
        "cold start",
    ):
        assert heading in run.stdout
