"""Capacity and cost for N unicorns: `make plan UNICORNS=N` (`python -m bench.plan`).

Scales the measured inputs (`bench/plan_inputs.py`: AWS calls per 1,000
records, sizes, CPU per record and per call) to a fleet of N unicorns, each
reporting once a second, and prints what it takes: shards of both streams and
which limit decides them, Lambda concurrency and load, DynamoDB writes and
storage, Firehose and S3 volume, and a monthly bill at list prices. The
model's assumptions (AWS latencies, prices, headroom) are constants below,
each with its source; docs/CAPACITY.md explains the results.

Settings are read from the code, not repeated: batch sizes and batching
windows from the decorators, the tumbling window from the stage, memory from
.chalice/config.json, the Firehose buffer from infra, the alarms from
infra.monitoring.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from bench.plan_inputs import INPUTS_PATH, Inputs, load, measure
from chalicelib.settings import DEFAULT_STATUS_INTERVAL, load_settings
from chalicelib.unicorns.monitor import VitalsMonitor
from infra import monitoring, system
from infra.event_sources import kinesis_mappings
from infra.stages import CONFIG_PATH, function_variables, load_stage, read_config
from infra.triggers import function_logical_ids

SCALES = (10, 1_000, 100_000, 1_000_000)
SECONDS_PER_MONTH = 730 * 3600  # AWS bills a month as 730 hours
HOURS_PER_MONTH = 730
KIB, MIB, GIB = 1024, 1024**2, 1024**3

# Kinesis Data Streams limits per shard (AWS documentation, "Quotas and limits").
SHARD_WRITE_RECORDS = 1_000  # records/s
SHARD_WRITE_BYTES = 1 * MIB  # bytes/s
SHARD_READ_BYTES = 2 * MIB  # bytes/s, shared by every consumer that is not enhanced fan-out
WINDOW_STATE_LIMIT = 1 * MIB  # Lambda's cap on a tumbling window's state per shard
# Plan for 80 % of a limit: bursts, uneven hashing of names to shards, retries.
HEADROOM = 0.8
# A window's summaries all arrive at its end; the summary stream is sized to
# take them within this many seconds (they reach DynamoDB that much later).
SUMMARY_BURST_SECONDS = 10
# Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB.
MB_PER_VCPU = 1_769
DEFAULT_MEMORY_MB = 128  # Chalice's default lambda_memory_size

# Assumed, not measured here (no AWS account): round trips from Lambda to a
# service in the same region, typical single-digit-millisecond figures.
DYNAMODB_CALL_MS = 6.0
KINESIS_PUT_RECORDS_MS = 25.0
SNS_PUBLISH_MS = 25.0
# How long an execution environment keeps a shard's turn, and so its memory of
# the shard's statuses (chalicelib/pipeline/statecache.py): Lambda does not say
# how it routes a shard's batches among a function's environments. Assumed: the
# memory is lost once a minute, and each of the shard's unicorns read again.
TURN_KEPT_SECONDS = 60.0

# List prices, us-east-1, as published by AWS in 2025 (pricing pages of each
# service); free tiers left out. A price change is one line here.
PRICES = {
    "kinesis_shard_hour": 0.015,  # provisioned mode
    "kinesis_put_units_million": 0.014,  # per million 25 KB PUT payload units
    "lambda_requests_million": 0.20,
    "lambda_gb_second": 0.0000133334,  # arm64, the functions' architecture (x86_64: 0.0000166667)
    "dynamodb_write_units_million": 0.625,  # on demand, per million write request units
    "dynamodb_read_units_million": 0.125,  # on demand, per million read request units
    "dynamodb_wcu_hour": 0.00065,  # provisioned, per write capacity unit
    "dynamodb_rcu_hour": 0.00013,  # provisioned, per read capacity unit
    "dynamodb_storage_gb_month": 0.25,
    "dynamodb_pitr_gb_month": 0.20,
    "firehose_ingest_gb": 0.029,  # first 500 TB a month
    "s3_storage_gb_month": 0.023,  # Standard, first 50 TB
    "s3_put_thousand": 0.005,
    "sns_email_100k": 2.00,
    "sns_publish_million": 0.50,
    "cloudwatch_logs_ingest_gb": 0.50,
    "cloudwatch_metric_month": 0.30,
    "cloudwatch_alarm_metric_month": 0.10,
    "cloudwatch_dashboard_month": 3.00,
    "kms_key_month": 1.00,
    "kms_requests_10k": 0.03,
    # Managed Service for Apache Flink, what a user would pick instead of Kinesis Data
    # Analytics for SQL for the per-minute aggregate: per KPU-hour, one orchestration KPU
    # per application on top, and 50 GB of running storage per KPU.
    "flink_kpu_hour": 0.11,
    "flink_storage_gb_month": 0.10,
}
FLINK_STORAGE_GB_PER_KPU = 50
FIREHOSE_BILLING_UNIT = 5 * KIB  # Firehose bills ingestion per record in 5 KB steps
LOG_BYTES_PER_INVOCATION = 1_000  # START/END/REPORT lines, one EMF line, a summary log line
KMS_CALLS_PER_SHARD_HOUR = 4 * 12  # producer and 3 consumers, a data key every 5 minutes
# Each vitals incident is an alert and a recovery; how often unicorns fall ill
# is the fleet's business, not the pipeline's: one incident a unicorn a week.
INCIDENTS_PER_UNICORN_MONTH = 730 / 168


@dataclass(frozen=True)
class Design:
    """The pipeline's settings that the plan depends on, read from the code."""

    window_seconds: int
    batch_size: dict[str, int]
    batching_window: dict[str, int]
    memory_mb: dict[str, int]
    firehose_buffer_seconds: int
    firehose_buffer_bytes: int
    archive_gzipped: bool  # Firehose's CompressionFormat is GZIP
    alarm_metrics: int
    emf_metrics: int
    vitals_writers: int
    # Shards of the other data sets' streams (taxi trips and insights): a
    # fixed cost of every deployment, whatever the fleet.
    other_shards: int = 0
    # STATUS_INTERVAL: a status write per unicorn this often at most, or every batch at 0.
    status_interval: float = DEFAULT_STATUS_INTERVAL

    @classmethod
    def of_stage(cls, stage: str = "dev", config_path: Path = CONFIG_PATH) -> Design:
        mappings = {m.function: m for m in kinesis_mappings(stage, config_path=config_path)}
        triggers = [m.trigger for m in mappings.values()]
        config = read_config(config_path)
        functions = config.get("lambda_functions", {})
        chosen = load_stage(stage, config_path)
        alarms = monitoring.alarms(chosen)
        return cls(
            window_seconds=int(mappings["aggregate"].properties["TumblingWindowInSeconds"]),
            batch_size={t.function: t.batch_size for t in triggers},
            batching_window={t.function: t.maximum_batching_window_in_seconds for t in triggers},
            memory_mb={
                f: int(functions.get(f, {}).get("lambda_memory_size", DEFAULT_MEMORY_MB))
                for f in function_logical_ids()
            },
            firehose_buffer_seconds=system.ARCHIVE_BUFFER_SECONDS,
            firehose_buffer_bytes=system.ARCHIVE_BUFFER_MIB * MIB,
            archive_gzipped=system.ARCHIVE_COMPRESSION == "GZIP",
            alarm_metrics=sum(max(1, sum("MetricStat" in m for m in a.metrics)) for a in alarms),
            # Distinct (metric, function) pairs the functions emit: aggregate 5,
            # persist 6, vitals 7, report 3, and the taxi data set's
            # aggregate_trips 5 and persist_insights 6 (tests/functional/test_metrics.py).
            emf_metrics=32,
            vitals_writers=VitalsMonitor.WRITERS,
            other_shards=2 * system.TAXI_SHARDS,
            status_interval=load_settings(
                function_variables(stage, "vitals", config_path)
            ).status_interval,
        )


@dataclass
class Plan:
    """What N unicorns take, and what it costs a month."""

    unicorns: int
    records_per_second: float
    raw_shards: int
    raw_shards_decided_by: str
    summary_shards: int
    unicorns_per_shard: float
    vitals_unicorns_per_shard_max: int
    state_unicorns_per_shard_max: int
    concurrency: dict[str, int]
    invocations_per_second: dict[str, float]
    busy: dict[str, float]  # fraction of each shard's second a function's invocations take
    dynamodb_writes_per_second: float
    dynamodb_reads_per_second: float
    summary_table_growth_gb_month: float
    archive_gb_month: float
    firehose_billed_gb_month: float
    s3_objects_month: float
    emails_month: float
    costs: dict[str, float] = field(default_factory=dict)
    dynamodb_provisioned_month: float = 0.0  # for comparison, not in the total
    # The per-minute aggregate alone: on Lambda's tumbling windows (what `aggregate`'s
    # invocations and busy time cost), and the same job on Managed Service for Apache Flink.
    aggregate_lambda_month: float = 0.0
    aggregate_flink_month: float = 0.0
    # What vitals adds (its Lambda time, the status table's writes, reads and storage,
    # the alert emails): the workshop's design has no status table and no alerts.
    vitals_month: float = 0.0
    status_writes_per_second: float = 0.0
    status_reads_per_second: float = 0.0

    @property
    def total(self) -> float:
        return sum(self.costs.values())

    @property
    def workshop_month(self) -> float:
        """The workshop's design at this size: this bill less what vitals adds."""
        return self.total - self.vitals_month


def vitals_busy(unicorns_per_shard: float, inputs: Inputs, design: Design) -> float:
    """Fraction of each second vitals spends on one shard's records."""
    r = unicorns_per_shard
    invocations = max(1 / design.batching_window["vitals"], r / design.batch_size["vitals"])
    puts = r * inputs.vitals_put_item / 1000 * _status_writes(design)
    # Unicorns in one invocation: a batching window's worth, at most a batch.
    per_call = min(r * design.batching_window["vitals"], design.batch_size["vitals"])
    # Each invocation takes the shard's turn (a PutItem before anything else); once
    # a TURN_KEPT_SECONDS, one reads its unicorns again.
    gets = math.ceil(per_call / 100) / TURN_KEPT_SECONDS if r else 0
    publishes = r * inputs.vitals_publish / 1000
    cpu_us = (
        r * inputs.vitals_parse_us_per_record
        + (puts + invocations) * inputs.put_item_client_us
        + per_call / TURN_KEPT_SECONDS * inputs.batch_get_client_us_per_key
    ) * _cpu_scale(design.memory_mb["vitals"])
    wait_ms = (
        puts * DYNAMODB_CALL_MS / design.vitals_writers
        + (invocations + gets) * DYNAMODB_CALL_MS
        + publishes * SNS_PUBLISH_MS
    )
    return (cpu_us / 1000 + wait_ms) / 1000


def aggregate_busy(unicorns_per_shard: float, inputs: Inputs, design: Design) -> float:
    r = unicorns_per_shard
    cpu_us = r * inputs.aggregate_us_per_record * _cpu_scale(design.memory_mb["aggregate"])
    emission_ms = math.ceil(r / 500) * KINESIS_PUT_RECORDS_MS / design.window_seconds
    return (cpu_us / 1000 + emission_ms) / 1000


def _status_writes(design: Design) -> float:
    """The share of the measured status writes left with STATUS_INTERVAL (one a second without)."""
    return 1 / max(1.0, design.status_interval)


def _cpu_scale(memory_mb: int) -> float:
    """How much slower than one full core a function of this memory runs."""
    return max(1.0, MB_PER_VCPU / memory_mb)


def _largest(fits: Any, upper: int = 10_000) -> int:
    """The largest number of unicorns per shard for which `fits(r)` holds (0 if none)."""
    low, high = 0, upper
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def plan(unicorns: int, inputs: Inputs, design: Design) -> Plan:
    """The capacity and monthly cost of a fleet of `unicorns` reporting once a second."""
    rps = float(unicorns)
    raw_bytes = rps * inputs.raw_record_bytes
    vitals_max = _largest(lambda r: vitals_busy(r, inputs, design) <= HEADROOM)
    state_max = int(WINDOW_STATE_LIMIT * HEADROOM // inputs.window_state_bytes_per_unicorn)
    consumers = 3  # aggregate, vitals, Firehose
    needs = {
        "records written per second": rps / (SHARD_WRITE_RECORDS * HEADROOM),
        "bytes written per second": raw_bytes / (SHARD_WRITE_BYTES * HEADROOM),
        "bytes read by 3 consumers": consumers * raw_bytes / (SHARD_READ_BYTES * HEADROOM),
        "vitals keeping up": rps / max(vitals_max, 1),
        "aggregate's window state": rps / max(state_max, 1),
    }
    decided_by, most = max(needs.items(), key=lambda kv: kv[1])
    if most <= 1:
        decided_by = "one is enough"
    raw_shards = max(1, math.ceil(most))
    per_shard = rps / raw_shards
    summaries_per_window = float(unicorns)  # one per unicorn-window (the measured floor)
    summary_shards = max(
        1,
        math.ceil(summaries_per_window / (SHARD_WRITE_RECORDS * HEADROOM * SUMMARY_BURST_SECONDS)),
    )
    w = design.window_seconds
    invocations = {
        "aggregate": raw_shards
        * (
            max(
                1 / design.batching_window["aggregate"], per_shard / design.batch_size["aggregate"]
            )
            + 1 / w
        ),
        "vitals": raw_shards
        * max(1 / design.batching_window["vitals"], per_shard / design.batch_size["vitals"]),
        "persist": max(
            summary_shards / w, summaries_per_window / w / design.batch_size["persist"]
        ),
        "report": 1 / 900,
    }
    busy = {
        "aggregate": aggregate_busy(per_shard, inputs, design),
        "vitals": vitals_busy(per_shard, inputs, design),
    }
    status_writes = rps * inputs.vitals_put_item / 1000 * _status_writes(design)
    turn_writes = invocations["vitals"]  # one shard turn taken per invocation
    status_reads = unicorns / TURN_KEPT_SECONDS  # each unicorn, each time its memory is lost
    summary_writes = summaries_per_window / w
    writes = (
        status_writes + turn_writes + summary_writes * math.ceil(inputs.summary_item_bytes / KIB)
    )
    reads = status_reads + summary_writes  # and persist reads each summary it merges
    summary_growth = summaries_per_window * SECONDS_PER_MONTH / w * inputs.summary_item_bytes / GIB
    # Stored (and scanned by Athena) as Firehose writes it: gzipped, if the design says so.
    stored_ratio = inputs.archive_compression_ratio if design.archive_gzipped else 1.0
    archive = raw_bytes * SECONDS_PER_MONTH / GIB / stored_ratio
    billed_record = max(
        FIREHOSE_BILLING_UNIT,
        math.ceil(inputs.raw_record_bytes / FIREHOSE_BILLING_UNIT) * FIREHOSE_BILLING_UNIT,
    )
    firehose_billed = rps * SECONDS_PER_MONTH * billed_record / GIB
    flushes_per_second = max(
        1 / design.firehose_buffer_seconds, raw_bytes / design.firehose_buffer_bytes
    )
    s3_objects = flushes_per_second * SECONDS_PER_MONTH
    emails = unicorns * INCIDENTS_PER_UNICORN_MONTH * 2
    result = Plan(
        unicorns=unicorns,
        records_per_second=rps,
        raw_shards=raw_shards,
        raw_shards_decided_by=decided_by,
        summary_shards=summary_shards,
        unicorns_per_shard=round(per_shard, 1),
        vitals_unicorns_per_shard_max=vitals_max,
        state_unicorns_per_shard_max=state_max,
        concurrency={"aggregate": raw_shards, "vitals": raw_shards, "persist": summary_shards},
        invocations_per_second={k: round(v, 3) for k, v in invocations.items()},
        busy={k: round(v, 3) for k, v in busy.items()},
        dynamodb_writes_per_second=round(writes, 1),
        dynamodb_reads_per_second=round(reads, 1),
        summary_table_growth_gb_month=round(summary_growth, 2),
        archive_gb_month=round(archive, 2),
        firehose_billed_gb_month=round(firehose_billed, 1),
        s3_objects_month=round(s3_objects),
        emails_month=round(emails),
        status_writes_per_second=round(status_writes, 1),
        status_reads_per_second=round(status_reads, 2),
    )
    result.costs = _costs(result, inputs, design)
    return result


def _costs(p: Plan, inputs: Inputs, design: Design) -> dict[str, float]:
    price = PRICES
    month = SECONDS_PER_MONTH
    shards = p.raw_shards + p.summary_shards + design.other_shards
    shard_hours = shards * HOURS_PER_MONTH
    put_units = (p.records_per_second + p.unicorns / design.window_seconds) * month
    invocations = sum(p.invocations_per_second.values()) * month
    gb_seconds = 0.0
    for function in ("aggregate", "vitals"):
        # Busy time of every shard's invocations, billed at the function's memory.
        seconds = p.busy[function] * p.raw_shards * month
        gb_seconds += seconds * design.memory_mb[function] / 1024
    persist_seconds = (
        p.invocations_per_second["persist"]
        * month
        * (2 * DYNAMODB_CALL_MS + 4 * DYNAMODB_CALL_MS)
        / 1000
    )
    gb_seconds += persist_seconds * design.memory_mb["persist"] / 1024
    gb_seconds += 4 * 24 * 30 * 20 * design.memory_mb["report"] / 1024  # ~20 s a run
    status_gb = p.unicorns * inputs.status_item_bytes / GIB
    # A month's average table size: the summaries grow through it.
    table_gb = status_gb + p.summary_table_growth_gb_month / 2
    kms_calls = shards * KMS_CALLS_PER_SHARD_HOUR * HOURS_PER_MONTH
    costs = {
        "Kinesis (shards + PUT units)": shard_hours * price["kinesis_shard_hour"]
        + put_units / 1e6 * price["kinesis_put_units_million"],
        "Lambda (requests + GB-s)": invocations / 1e6 * price["lambda_requests_million"]
        + gb_seconds * price["lambda_gb_second"],
        "DynamoDB (writes, reads, storage)": p.dynamodb_writes_per_second
        * month
        / 1e6
        * price["dynamodb_write_units_million"]
        + p.dynamodb_reads_per_second * month / 1e6 * price["dynamodb_read_units_million"]
        + table_gb * (price["dynamodb_storage_gb_month"] + price["dynamodb_pitr_gb_month"]),
        "Firehose (ingestion)": p.firehose_billed_gb_month * price["firehose_ingest_gb"],
        "S3 (a month of archive + PUTs)": p.archive_gb_month / 2 * price["s3_storage_gb_month"]
        + p.s3_objects_month / 1000 * price["s3_put_thousand"],
        "SNS (alert emails)": p.emails_month / 1e5 * price["sns_email_100k"]
        + p.emails_month / 1e6 * price["sns_publish_million"],
        "CloudWatch (logs, metrics, alarms, dashboard)": invocations
        * LOG_BYTES_PER_INVOCATION
        / GIB
        * price["cloudwatch_logs_ingest_gb"]
        + design.emf_metrics * price["cloudwatch_metric_month"]
        + design.alarm_metrics * price["cloudwatch_alarm_metric_month"]
        + price["cloudwatch_dashboard_month"],
        "KMS (key + requests)": price["kms_key_month"]
        + kms_calls / 1e4 * price["kms_requests_10k"],
    }
    p.vitals_month = round(
        _lambda_month(p, design, "vitals")
        + (p.status_writes_per_second + p.invocations_per_second["vitals"])
        * month
        / 1e6
        * price["dynamodb_write_units_million"]
        + p.status_reads_per_second * month / 1e6 * price["dynamodb_read_units_million"]
        + status_gb * (price["dynamodb_storage_gb_month"] + price["dynamodb_pitr_gb_month"])
        + costs["SNS (alert emails)"],
        2,
    )
    p.aggregate_lambda_month = round(_lambda_month(p, design, "aggregate"), 2)
    # Flink's Kinesis source reads a shard per parallel subtask: a KPU per raw shard
    # (the job is light: a KPU is a vCPU and 4 GB), and the orchestration KPU.
    kpus = max(1, p.raw_shards)
    p.aggregate_flink_month = round(
        (kpus + 1) * HOURS_PER_MONTH * price["flink_kpu_hour"]
        + kpus * FLINK_STORAGE_GB_PER_KPU * price["flink_storage_gb_month"],
        2,
    )
    # Not in the total: the same tables in provisioned mode, sized for the
    # steady rate with HEADROOM (no bursts, no auto scaling), for comparison.
    capacity_hours = HOURS_PER_MONTH / HEADROOM
    p.dynamodb_provisioned_month = round(
        p.dynamodb_writes_per_second * capacity_hours * price["dynamodb_wcu_hour"]
        + p.dynamodb_reads_per_second * capacity_hours * price["dynamodb_rcu_hour"]
        + table_gb * (price["dynamodb_storage_gb_month"] + price["dynamodb_pitr_gb_month"]),
        2,
    )
    return {k: round(v, 2) for k, v in costs.items()}


def _lambda_month(p: Plan, design: Design, function: str) -> float:
    """A stream function's requests and busy time on every raw shard, a month."""
    month = SECONDS_PER_MONTH
    seconds = p.busy[function] * p.raw_shards * month
    return (
        p.invocations_per_second[function] * month / 1e6 * PRICES["lambda_requests_million"]
        + seconds * design.memory_mb[function] / 1024 * PRICES["lambda_gb_second"]
    )


def render(plans: Sequence[Plan], inputs: Inputs) -> str:
    """The plans side by side, as a Markdown-friendly table."""
    columns = [f"{p.unicorns:,}" for p in plans]
    rows: list[tuple[str, list[str]]] = [
        ("records/s (one per unicorn a second)", [f"{p.records_per_second:,.0f}" for p in plans]),
        ("raw stream shards", [f"{p.raw_shards:,}" for p in plans]),
        ("  decided by", [p.raw_shards_decided_by for p in plans]),
        ("  unicorns per shard", [f"{p.unicorns_per_shard:,.0f}" for p in plans]),
        ("summary stream shards", [f"{p.summary_shards:,}" for p in plans]),
        (
            "Lambda concurrency (aggregate/vitals/persist)",
            [
                "/".join(f"{p.concurrency[f]:,}" for f in ("aggregate", "vitals", "persist"))
                for p in plans
            ],
        ),
        ("vitals busy per shard", [f"{p.busy['vitals']:.0%}" for p in plans]),
        ("aggregate busy per shard", [f"{p.busy['aggregate']:.1%}" for p in plans]),
        ("DynamoDB writes/s", [f"{p.dynamodb_writes_per_second:,.0f}" for p in plans]),
        (
            "summary table growth, GB/month",
            [f"{p.summary_table_growth_gb_month:,.1f}" for p in plans],
        ),
        (
            f"archive (S3, gzipped {inputs.archive_compression_ratio:g}×), GB/month",
            [f"{p.archive_gb_month:,.1f}" for p in plans],
        ),
        (
            "Firehose billed, GB/month (5 KB/record)",
            [f"{p.firehose_billed_gb_month:,.0f}" for p in plans],
        ),
        ("S3 objects/month", [f"{p.s3_objects_month:,.0f}" for p in plans]),
        ("alert emails/month", [f"{p.emails_month:,.0f}" for p in plans]),
    ]
    for name in plans[0].costs:
        rows.append((f"$ {name}", [_share(p.costs[name], p.total) for p in plans]))
    rows.append(("$ total a month", [_money(p.total) for p in plans]))
    rows.append(
        ("  (DynamoDB provisioned instead)", [_money(p.dynamodb_provisioned_month) for p in plans])
    )
    rows.append(
        ("$ per 1,000 unicorns a month", [_money(p.total / p.unicorns * 1000) for p in plans])
    )
    rows.append(
        (
            "$ the aggregate on Lambda tumbling windows",
            [_money(p.aggregate_lambda_month) for p in plans],
        )
    )
    rows.append(
        (
            "$   the same on Managed Service for Apache Flink",
            [_money(p.aggregate_flink_month) for p in plans],
        )
    )
    rows.append(
        (
            "$ the workshop's design (no status, no alerts)",
            [_money(p.workshop_month) for p in plans],
        )
    )
    width = max(len(label) for label, _ in rows)
    widths = [max(len(c), *(len(values[i]) for _, values in rows)) for i, c in enumerate(columns)]
    lines = [
        "| "
        + "unicorns".ljust(width)
        + " | "
        + " | ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True))
        + " |",
        "|" + "-" * (width + 2) + "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|",
    ]
    for label, values in rows:
        lines.append(
            "| "
            + label.ljust(width)
            + " | "
            + " | ".join(v.rjust(w) for v, w in zip(values, widths, strict=True))
            + " |"
        )
    first = plans[0]
    limits = (
        f"per raw shard: vitals keeps up with {first.vitals_unicorns_per_shard_max:,} "
        f"unicorns, aggregate's window state holds {first.state_unicorns_per_shard_max:,} "
        f"(inputs measured {inputs.measured_on})"
    )
    return "\n".join([*lines, "", limits])


def _share(value: float, total: float) -> str:
    """A service's cost with its part of the bill."""
    return f"{_money(value)} ({value / total:.0%})" if total else _money(value)


def _money(value: float) -> str:
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def what_if(
    design: Design,
    *,
    vitals_memory: int | None = None,
    status_interval: float | None = None,
    window: int | None = None,
    error: Any = None,
) -> Design:
    """The design with some settings changed, each checked against what AWS or the code allows."""

    def refuse(message: str) -> None:
        if error is None:
            raise ValueError(message)
        error(message)

    if vitals_memory is not None:
        if not 128 <= vitals_memory <= 10_240:
            refuse("--vitals-memory must be 128 to 10240 MB (Lambda's range)")
        design = replace(design, memory_mb={**design.memory_mb, "vitals": vitals_memory})
    if status_interval is not None:
        if not 0 <= status_interval <= 60:
            refuse("--status-interval must be 0 to 60 seconds (STATUS_INTERVAL's range)")
        design = replace(design, status_interval=status_interval)
    if window is not None:
        if not 1 <= window <= 900:
            refuse("--window must be 1 to 900 seconds (Lambda's tumbling window range)")
        design = replace(design, window_seconds=window)
    return design


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.plan",
        description="Capacity and monthly cost of the pipeline for a fleet of N unicorns.",
    )
    parser.add_argument(
        "--unicorns",
        type=int,
        action="append",
        help="fleet size (repeatable); default: 10, 1,000, 100,000 and 1,000,000",
    )
    parser.add_argument(
        "--stage", default="dev", help="stage whose settings to plan for (default dev)"
    )
    parser.add_argument(
        "--measure",
        action="store_true",
        help=f"measure the inputs again and rewrite {INPUTS_PATH.name}",
    )
    parser.add_argument("--json", action="store_true", help="print the plans as JSON")
    parser.add_argument(
        "--vitals-memory",
        type=int,
        metavar="MB",
        help="what if vitals had this much memory (128 to 10240)",
    )
    parser.add_argument(
        "--status-interval",
        type=float,
        metavar="SECONDS",
        help="what if STATUS_INTERVAL were set (0 to 60)",
    )
    parser.add_argument(
        "--window",
        type=int,
        metavar="SECONDS",
        help="what if aggregate's tumbling window were this long (1 to 900)",
    )
    args = parser.parse_args(argv)
    sizes = args.unicorns or list(SCALES)
    if any(n < 1 for n in sizes):
        parser.error("--unicorns must be at least 1")
    if args.measure:
        inputs = measure(progress=lambda line: print(line, file=sys.stderr))
        INPUTS_PATH.write_text(inputs.to_json())
        print(f"wrote {INPUTS_PATH}", file=sys.stderr)
    else:
        inputs = load()
    design = what_if(
        Design.of_stage(args.stage),
        vitals_memory=args.vitals_memory,
        status_interval=args.status_interval,
        window=args.window,
        error=parser.error,
    )
    plans = [plan(n, inputs, design) for n in sizes]
    if args.json:
        print(
            json.dumps(
                {
                    "inputs": asdict(inputs),
                    "design": asdict(design),
                    "plans": [asdict(p) | {"total": p.total} for p in plans],
                },
                indent=2,
            )
        )
    else:
        print(render(plans, inputs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
