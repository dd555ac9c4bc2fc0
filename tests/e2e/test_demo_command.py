"""`python -m local demo` as a command: its JSON report, and a clean stop on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infra.stages import PROJECT_DIR
from local.endpoint import free_port, port_free
from tests.processes import alive, descendants
from tests.stages import config_with_window

pytestmark = pytest.mark.slow


def demo(tmp: Path, port: int, *arguments: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local",
            "demo",
            "--port",
            str(port),
            "--work-dir",
            str(tmp / "work"),
            "--config",
            str(config_with_window(tmp, "quick", 3)),
            "--stage",
            "quick",
            *arguments,
        ],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
    )


def test_json_prints_the_whole_report_as_one_object_on_the_last_line(tmp_path: Path) -> None:
    process = demo(
        tmp_path,
        free_port(),
        "--duration",
        "6",
        "--unicorns",
        "2",
        "--schedule-every",
        "2",
        "--json",
    )
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output

    report = json.loads(output.strip().splitlines()[-1])
    assert report["produced"]["sent"] == 12
    assert report["stages"]["aggregate ← wildrydes"]["records"] == 12
    assert report["stages"]["firehose wildrydes"]["records"] == 12
    assert sum(row["SampleCount"] for row in report["summaries"]) == 12
    assert [q["name"] for q in report["questions"]] == [
        "trip_positions",
        "points_after",
        "distance_per_unicorn",
        "low_vitals",
    ]
    assert all(q["error"] is None for q in report["questions"])
    assert report["errors"] == []
    assert report["roles"] == 8 and report["denied"] == []  # IAM enforced, nothing refused
    # The report function ran on its (shortened) schedule, and once more at the end.
    assert report["stages"]["report (every 2 s)"]["runs"] >= 2
    fleet = report["fleet_report"]
    assert fleet["latest"].endswith("/reports/latest.html") and fleet["unicorns"] == 2
    page = (PROJECT_DIR / fleet["copy"]).read_text()
    assert page.startswith("<!doctype html>") and page.count("<polyline ") == 2


def test_the_taxi_demo_accounts_for_every_trip_and_reports_the_fare_spike(
    tmp_path: Path,
) -> None:
    # Two hours of the morning (07:00 to 09:00) in 30 s: the spike at 08:00-08:30 and after.
    process = demo(tmp_path, free_port(), "--dataset", "taxi", "--duration", "30", "--json")
    output, _ = process.communicate(timeout=180)
    assert process.returncode == 0, output

    report = json.loads(output.strip().splitlines()[-1])
    sent = report["produced"]["sent"]
    assert sent > 1000
    assert report["stages"]["aggregate_trips ← taxi-trips"]["records"] == sent
    assert report["trips_counted"] + report["dead_lettered"] == sent
    assert report["peaks"]["trips"] == report["trips_counted"]
    assert report["zones"][0]["trips"] >= report["zones"][-1]["trips"]
    spiked = [e for e in report["emails"] if e["unicorn"] == "161"]
    assert [e["kind"] for e in spiked] == ["alert", "recovery"]
    assert report["stages"]["firehose taxi-trips"]["records"] == sent
    assert report["archive_objects"]
    assert [q["name"] for q in report["questions"]] == ["peak_hours", "fare_trends"]
    assert all(q["error"] is None and q["total"] > 0 for q in report["questions"])
    assert report["errors"] == [] and report["denied"] == []


def test_ctrl_c_leaves_no_process_running_and_no_port_bound(tmp_path: Path) -> None:
    port = free_port()
    process = demo(tmp_path, port, "--duration", "60")
    assert process.stdout is not None
    seen = []
    deadline = time.monotonic() + 60
    for line in process.stdout:
        seen.append(line)
        if "producing:" in line or time.monotonic() > deadline:
            break
    time.sleep(2)  # the runtime is invoking handlers, the producer is sending
    children = descendants(process.pid)
    assert len(children) >= 2, seen  # the endpoint and the producer at least
    assert not port_free(port)

    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=60)

    assert process.returncode == 130, "".join(seen) + rest
    assert "interrupted: stopping everything" in rest
    assert [pid for pid in children if alive(pid)] == []
    assert port_free(port)
