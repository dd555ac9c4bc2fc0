"""The bench's figures as the table `make bench` prints."""

from __future__ import annotations

from typing import Any

from bench import soak

Figures = dict[str, Any]


def render(results: Figures) -> str:
    meta = results.get("meta", {})
    lines = [
        f"Wild Rydes bench ({'quick' if meta.get('quick') else 'full'} run, "
        f"{meta.get('seconds', 0):.0f} s, Python {meta.get('python')}, {meta.get('cpus')} CPUs)"
    ]
    sections = (
        ("aggregate", _aggregate),
        ("aws_calls", _calls),
        ("latency", _latency),
        ("throughput", _throughput),
        ("cold_start", _cold_start),
        ("soak", _soak),
    )
    for number, (name, show) in enumerate(sections, start=1):
        figures = results.get(name)
        if figures is None:
            continue
        lines.append("")
        if "error" in figures:
            lines.append(f"{number}. {name}: FAILED: {figures['error']}")
        else:
            lines.extend(show(number, figures))
    return "\n".join(lines)


def _aggregate(n: int, f: Figures) -> list[str]:
    lines = [
        f"{n}. aggregate's per-record path ({f['records']:,}-record window batch, "
        f"{f['unicorns']} unicorns; median of {f['rounds']})",
        f"   {'app.aggregate':34} {f['aggregate_us_per_record']:6.2f} µs/record"
        f"   {f['aggregate_records_per_s']:,} records/s",
        f"   {'decode floor, stdlib json':34} {f['floor_stdlib_us_per_record']:6.2f} µs/record"
        f"   ratio {f['ratio_to_stdlib_floor']:.2f} (target ≥ {f['target_ratio']}; "
        f"{f['ratio_of_fastest']:.2f} between the fastest rounds)",
        f"   {'json.loads(b64decode(data))':34} "
        f"{f['floor_json_loads_us_per_record']:6.2f} µs/record"
        f"   ratio {f['ratio_to_json_loads_floor']:.2f} (the floor first measured)",
    ]
    if f.get("floor_orjson_us_per_record") is not None:
        lines.append(
            f"   {'orjson (dev env only)':34} {f['floor_orjson_us_per_record']:6.2f} µs/record"
            f"   ratio {f['ratio_to_orjson_floor']:.2f} (not in the Lambda package)"
        )
    return lines


def _calls(n: int, f: Figures) -> list[str]:
    lines = [
        f"{n}. AWS calls per 1,000 raw records ({f['unicorns']} unicorns, {f['seconds']} s, "
        f"{f['window_seconds']} s windows; real handlers under moto)",
        f"   {'function':10} {'call':28} {'calls':>8} {'items':>8} {'floor':>8}  floor is",
    ]
    for row in f["rows"]:
        floor = row["floor_items_per_1000_records"]
        lines.append(
            f"   {row['function']:10} {row['service'] + ' ' + row['operation']:28} "
            f"{row['calls_per_1000_records']:8.2f} {row['items_per_1000_records']:8.2f} "
            f"{'' if floor is None else f'{floor:.2f}':>8}  {row['floor']}"
        )
    writes = ", ".join(
        f"{name.replace('_writes', '')} {count:g}"
        for name, count in f["write_calls_per_1000_records"].items()
    )
    lines.append(f"   write calls per 1,000 records: {writes}")
    budget = f.get("status_writes_budget_per_unicorn_second")
    if "status_writes_per_unicorn_second" in f:
        lines.append(
            f"   vitals status writes per unicorn-second: "
            f"{f['status_writes_per_unicorn_second']:.3f} "
            + (
                f"(budget ≤ {budget:.3f}: STATUS_INTERVAL {f['status_interval']:g} s)"
                if budget is not None
                else "(STATUS_INTERVAL 0: a write in every batch)"
            )
        )
    return lines


def _latency(n: int, f: Figures) -> list[str]:
    lines = [
        f"{n}. end-to-end latency on the embedded pipeline ({f['unicorns']} unicorns, "
        f"{f['seconds']} s, {f['window_seconds']} s windows)"
    ]
    for key, label in (
        ("produced_to_email", "produced → alert email"),
        ("produced_to_status", "produced → status in the API"),
        ("status_age", "age of the status when read"),
        ("window_end_to_summary", "window end → summary in DynamoDB"),
    ):
        p = f[key]
        if not p["n"]:
            lines.append(f"   {label:34} no samples")
            continue
        lines.append(
            f"   {label:34} p50 {p['p50_s']:6.2f} s   p99 {p['p99_s']:6.2f} s   (n {p['n']})"
        )
    return lines


def _throughput(n: int, f: Figures) -> list[str]:
    lines = [
        f"{n}. producer rate the embedded pipeline sustains ({f['unicorns']} unicorns, "
        f"{f['step_seconds']:g} s a step; sustained: lag < {f['max_lag_s']:g} s, not growing)",
    ]
    two = f.get("two_shards")
    if two is None:
        return lines + _steps(f)
    lines += ["   the raw stream in one shard:", *_steps(f), "   in two shards:"]
    return lines + ([f"   FAILED: {two['error']}"] if "error" in two else _steps(two))


def _steps(f: Figures) -> list[str]:
    lines = [f"   {'asked':>7} {'achieved':>9} {'max lag':>8}  {'by function':40} sustained"]
    for step in f["steps"]:
        if "skipped" in step:
            lines.append(f"   {step['rate']:>5}/s  skipped: {step['skipped']}")
            continue
        by = ", ".join(f"{k} {v:.1f}" for k, v in step["max_lag_by_function_s"].items())
        lines.append(
            f"   {step['rate']:>5}/s {step['achieved_rate']:>7.0f}/s {step['max_lag_s']:>6.1f} s"
            f"  {by:40} {'yes' if step['sustained'] else 'no'}"
        )
    lines.append(f"   highest sustained: {f['highest_sustained_rate']} records/s")
    return lines


def _cold_start(n: int, f: Figures) -> list[str]:
    heaviest = ", ".join(f"{k} {v:.1f}" for k, v in f["heaviest_modules_ms"].items())
    return [
        f"{n}. cold start proxy (fresh interpreters in the unzipped package; "
        f"median of {f['runs']})",
        f"   {'import chalice, boto3':34} {f['import_chalice_boto3_ms']:6.0f} ms",
        f"   {'import app':34} {f['import_app_ms']:6.0f} ms"
        f"   ratio {f['ratio']:.2f} (target ≤ {f['target_ratio']}; "
        f"{f['ratio_of_fastest']:.2f} between the fastest runs)",
        *(
            f"   {'+ ' + name + ' first call':34} {ms:6.0f} ms"
            f"   ratio {f['function_ratio'][name]:.2f}"
            for name, ms in f["function_ms"].items()
        ),
        f"   heaviest first call: {f['heaviest_function']}, "
        f"ratio {f['heaviest_function_ratio']:.2f}",
        f"   {f['beyond_chalice_boto3_modules']} more modules, "
        f"{f['beyond_chalice_boto3_ms']:.0f} ms of their own; the most: {heaviest}",
        f"   {'deployment.zip':34} {f['package_bytes'] / 1024:6.1f} KiB"
        f"   ({f['package_files']} files, {f['package_unpacked_bytes'] / 1024:.0f} KiB unpacked)",
    ]


def _soak(n: int, f: Figures) -> list[str]:
    if "missing" in f:
        return [f"{n}. memory under make up: {f['missing']}"]
    return [f"{n}. memory under make up (the last make soak: {soak.heading(f)})", *soak.rows(f)]
