"""`make soak MINUTES=30`: the memory of each process of `make up`, over a long run.

Starts `python -m local up` (the embedded endpoint, the runtime, the API and the
default producers, as `make up` does) on free ports in a work folder of its own,
reads every process's resident memory (`/proc/<pid>/status`, VmRSS) every
`--every` seconds, and stops the stack with Ctrl-C's signal at the end. The
figure is each process's growth per hour after the warm-up (the first ten
minutes, or a third of a shorter run): the slope of a least-squares line
through its samples, so one garbage collection does not decide it. Target:
under 20 MB an hour for each.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local.endpoint import free_port

PROJECT_DIR = Path(__file__).resolve().parent.parent
OUTPUT = PROJECT_DIR / "build" / "soak.json"
TARGET_MB_PER_HOUR = 20.0
WARM_UP_SECONDS = 600.0
MIB = 1024 * 1024


@dataclass
class Process:
    """One process of the stack and its memory over the run."""

    pid: int
    role: str
    samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds in, MiB)

    def after(self, warm_up: float) -> list[tuple[float, float]]:
        return [s for s in self.samples if s[0] >= warm_up]

    def summary(self, warm_up: float) -> dict[str, Any]:
        steady = self.after(warm_up)
        return {
            "pid": self.pid,
            "role": self.role,
            "start_mib": round(self.samples[0][1], 1) if self.samples else None,
            "after_warm_up_mib": round(steady[0][1], 1) if steady else None,
            "end_mib": round(self.samples[-1][1], 1) if self.samples else None,
            "growth_mib_per_hour": None if len(steady) < 3 else round(slope(steady) * 3600, 1),
        }


def slope(points: Sequence[tuple[float, float]]) -> float:
    """The least-squares slope of `points` (MiB per second)."""
    try:
        return statistics.linear_regression(*zip(*points, strict=True)).slope
    except statistics.StatisticsError:  # every sample at one instant
        return 0.0


def resident_mib(pid: int) -> float | None:
    """VmRSS of `pid` in MiB; None once it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / MIB
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return None


def descendants(root: int) -> list[int]:
    """`root` and every process under it (by parent PID, from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        # The command may hold spaces and parentheses: the fields follow the last ")".
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue.extend(children.get(pid, []))
    return found


def role_of(pid: int, root: int) -> str | None:
    """What a process of the stack is, from its command line; None for a launcher."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (FileNotFoundError, ProcessLookupError):
        return None
    text = " ".join(part.decode(errors="replace") for part in command if part)
    if pid == root:
        return "runtime (python -m local up)"
    if "local.moto_server" in text:
        return "endpoint (moto server)"
    if "local.api" in text or "chalice" in text:
        return "API (chalice local)"
    if "-m producer" in text:
        return "producer " + ("taxi" if "taxi" in text else "unicorns")
    return None


def soak(minutes: float, every: float, work_dir: Path, progress: Any = print) -> dict[str, Any]:
    duration = minutes * 60
    warm_up = min(WARM_UP_SECONDS, duration / 3)
    port, api_port = free_port(), free_port()
    command = [
        sys.executable,
        "-m",
        "local",
        "up",
        *("--port", str(port), "--api-port", str(api_port), "--work-dir", str(work_dir)),
    ]
    log = (work_dir / "soak.log").open("wb")
    up = subprocess.Popen(command, cwd=PROJECT_DIR, stdout=log, stderr=subprocess.STDOUT)
    processes: dict[int, Process] = {}
    started = time.monotonic()
    try:
        next_report = 0.0
        while (elapsed := time.monotonic() - started) < duration:
            if up.poll() is not None:
                raise RuntimeError(f"make up stopped (exit {up.returncode}); see {log.name}")
            for pid in descendants(up.pid):
                role = processes[pid].role if pid in processes else role_of(pid, up.pid)
                size = resident_mib(pid) if role else None
                if role and size is not None:
                    processes.setdefault(pid, Process(pid, role)).samples.append((elapsed, size))
            if elapsed >= next_report:
                total = sum(p.samples[-1][1] for p in processes.values() if p.samples)
                progress(f"[{elapsed / 60:5.1f} min] {len(processes)} processes, {total:.0f} MiB")
                next_report += 60
            time.sleep(every)
    finally:
        up.send_signal(signal.SIGINT)  # what Ctrl-C does: the stack stops its children
        try:
            up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            up.kill()
            up.wait()
        log.close()
    report = {
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "minutes": minutes,
        "warm_up_minutes": round(warm_up / 60, 2),
        "sample_every_s": every,
        "target_mib_per_hour": TARGET_MB_PER_HOUR,
        "processes": [
            p.summary(warm_up) for p in sorted(processes.values(), key=lambda p: (p.role, p.pid))
        ],
        "stopped": up.returncode is not None,
    }
    return report


def last(path: Path = OUTPUT) -> dict[str, Any] | None:
    """The figures of the last `make soak`, with when it ran; None if there is none."""
    try:
        report: dict[str, Any] = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return report


def rows(report: dict[str, Any]) -> list[str]:
    """A line per process: its memory after the warm-up and at the end, and its growth."""
    lines = []
    for p in report["processes"]:
        growth = p["growth_mib_per_hour"]
        lines.append(
            f"   {p['role']:32} {p['after_warm_up_mib'] or 0:7.1f} → {p['end_mib']:7.1f} MiB"
            f"   {'-' if growth is None else f'{growth:+.1f}'} MiB/hour"
        )
    return lines


def heading(report: dict[str, Any]) -> str:
    return (
        f"{report['minutes']:g} min of make up, finished {report.get('finished', '?')}; growth an"
        f" hour after the first {report['warm_up_minutes']:g} min, target < "
        f"{report['target_mib_per_hour']:g} MiB"
    )


def render(report: dict[str, Any]) -> str:
    return "\n".join([f"soak: {heading(report)}", *rows(report)])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak",
        description="Run `make up` for a while and report each process's memory growth.",
    )
    parser.add_argument("--minutes", type=float, default=30.0, help="how long (default 30)")
    parser.add_argument(
        "--every", type=float, default=10.0, help="seconds between samples (default 10)"
    )
    parser.add_argument("--json", type=Path, default=OUTPUT, help=f"default {OUTPUT}")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.every <= 0:
        parser.error("--minutes and --every must be more than 0")
    with tempfile.TemporaryDirectory(prefix="wildrydes-soak-") as work:
        report = soak(
            args.minutes, args.every, Path(work), progress=lambda s: print(s, file=sys.stderr)
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(render(report))
    print(f"\nThe same figures: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
