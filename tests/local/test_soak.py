"""`make soak`: `make up` run for a while, each process's memory read, everything stopped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.soak import resident_mib
from infra.stages import PROJECT_DIR


def test_a_short_soak_reports_each_process_of_make_up_and_leaves_none_running(
    tmp_path: Path,
) -> None:
    output = tmp_path / "soak.json"
    command = ["-m", "bench.soak", "--minutes", "0.4", "--every", "2", "--json", str(output)]
    run = subprocess.run(
        [sys.executable, *command],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(output.read_text())
    roles = {p["role"] for p in report["processes"]}
    assert {
        "endpoint (moto server)",
        "runtime (python -m local up)",
        "API (chalice local)",
        "producer unicorns",
    } <= roles
    for process in report["processes"]:
        assert process["end_mib"] > 0
        assert resident_mib(process["pid"]) is None, f"{process['role']} is still running"
    assert report["stopped"]
    assert "MiB/hour" in run.stdout and "endpoint (moto server)" in run.stdout
