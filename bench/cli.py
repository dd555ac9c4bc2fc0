"""`python -m bench`: run every section, print one table, write the same figures as JSON.

Sections run one after another: cold start first, while nothing else is
loaded, the embedded pipeline last. A section that fails is reported with its
error and the rest still run; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import calls, coldstart, hotpath, latency, soak, throughput
from bench.localrun import local_stack
from bench.table import render
from infra.stages import PROJECT_DIR

DEFAULT_JSON = PROJECT_DIR / "build" / "bench.json"
SECTIONS = ("cold_start", "aggregate", "aws_calls", "latency", "throughput")

Figures = dict[str, Any]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    chosen = args.only or list(SECTIONS)
    started = time.monotonic()
    results: Figures = {
        "meta": {
            "quick": args.quick,
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        }
    }
    quick = args.quick
    runners: dict[str, Callable[[], Figures]] = {
        "cold_start": lambda: coldstart.run(quick=quick),
        "aggregate": lambda: hotpath.run(quick=quick),
        "aws_calls": lambda: calls.run(quick=quick),
    }
    for name, run in runners.items():
        if name in chosen:
            results[name] = _guarded(name, run)
    on_pipeline = [name for name in ("latency", "throughput") if name in chosen]
    if on_pipeline:
        results.update(_on_pipeline(on_pipeline, quick))
    # The soak takes half an hour: its own target. The table shows its last run's figures.
    results["soak"] = soak.last() or {"missing": "no run yet: make soak MINUTES=30"}
    results["meta"]["seconds"] = round(time.monotonic() - started, 1)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(render(results))
    print(f"\nThe same figures: {_shown(args.json)}")
    failed = [name for name, figures in results.items() if "error" in figures]
    return 1 if failed else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure the pipeline: aggregate's hot path, AWS calls per record, "
        "end-to-end latency, sustained throughput and cold start. Figures are reported, "
        "never asserted.",
    )
    parser.add_argument("--quick", action="store_true", help="a short run (under a minute)")
    parser.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_JSON,
        metavar="PATH",
        help="where to write the figures (default build/bench.json)",
    )
    parser.add_argument(
        "--only", choices=SECTIONS, action="append", help="run only this section (repeatable)"
    )
    return parser


def _on_pipeline(names: list[str], quick: bool) -> dict[str, Figures]:
    """Latency and throughput on one embedded pipeline, started once."""
    runners: dict[str, Callable[[Any], Figures]] = {
        "latency": lambda stack: latency.run(stack, quick=quick),
        "throughput": lambda stack: throughput.run(stack, quick=quick),
    }
    found: dict[str, Figures] = {}
    try:
        with (
            tempfile.TemporaryDirectory(prefix="wildrydes-bench-") as directory,
            local_stack(Path(directory), window=5 if quick else 10) as stack,
        ):
            for name in names:
                found[name] = _guarded(name, _bound(runners[name], stack))
    except Exception as err:  # noqa: BLE001 - the stack itself failed: every section says so
        error = _error("pipeline", err)
        for name in names:
            found.setdefault(name, error)
    if "throughput" in names and not quick and "error" not in found["throughput"]:
        # The same steps with the raw stream in two shards, on a stack of its own.
        try:
            with (
                tempfile.TemporaryDirectory(prefix="wildrydes-bench-") as directory,
                local_stack(Path(directory), window=10, shards=2) as stack,
            ):
                two = _guarded("throughput on two shards", _bound(runners["throughput"], stack))
        except Exception as err:  # noqa: BLE001 - reported beside the one-shard figures
            two = _error("pipeline on two shards", err)
        found["throughput"]["two_shards"] = two
    return found


def _bound(run: Callable[[Any], Figures], stack: Any) -> Callable[[], Figures]:
    return lambda: run(stack)


def _guarded(name: str, run: Callable[[], Figures]) -> Figures:
    print(f"bench: {name} ...", file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        figures = run()
    except Exception as err:  # noqa: BLE001 - one section's failure must not lose the others
        return _error(name, err)
    figures["elapsed_s"] = round(time.monotonic() - started, 1)
    return figures


def _error(name: str, err: Exception) -> Figures:
    traceback.print_exception(err, file=sys.stderr)
    return {"error": f"{type(err).__name__}: {err}"}


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
