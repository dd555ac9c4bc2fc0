"""Cold start proxy: importing the deployed `app.py` against chalice and boto3 alone.

The app is packaged with `chalice package` and unzipped, and each import runs
in a fresh interpreter from there with `-B`: as in Lambda, whose code
directory is read-only, the package's modules (the app, chalicelib and
Chalice's own `chalice/app.py`) are compiled on every cold start, while boto3
comes precompiled with the runtime. The import is timed inside the child, so
interpreter start-up is left out; medians of N runs, alternating.

A function's cold start is `import app` plus the modules its first call
imports (each service imports its own where it is built). Which modules
those are is found by building the function's service in an untimed child;
the timed child then imports the app and exactly those. The target is on
importing app.py; the heaviest function's first call is reported beside it.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from infra.stages import PROJECT_DIR

TARGET_RATIO = 1.2
STAGE = "dev"
TIMED = "import time; t = time.perf_counter(); {imports}; print(time.perf_counter() - t)"
APP = "import app"
BASELINE = "import chalice, boto3"
# Function -> how its first call builds what it uses (the API's routes use
# the fleet view, and the console's page and files).
FIRST_CALL = {
    "aggregate": "services().aggregator",
    "persist": "services().persister",
    "vitals": "services().vitals",
    "report": "services().reporter",
    "api_handler": "services().fleet; import chalicelib.console",
}
PROBE = """
import sys
import app
from chalicelib.bootstrap import services
before = set(sys.modules)
{first_call}
print(" ".join(sorted(m for m in set(sys.modules) - before if m.split(".")[0] == "chalicelib")))
"""


def run(*, quick: bool = False) -> dict[str, Any]:
    runs = 5 if quick else 15
    with tempfile.TemporaryDirectory() as directory:
        package = Path(directory) / "package"
        subprocess.run(
            [
                str(Path(sys.executable).parent / "chalice"),
                "package",
                "--stage",
                STAGE,
                str(package),
            ],
            cwd=PROJECT_DIR,
            env={
                **os.environ,
                "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            },
            check=True,
            capture_output=True,
        )
        deployment = package / "deployment.zip"
        code = Path(directory) / "code"
        with zipfile.ZipFile(deployment) as archive:
            archive.extractall(code)
            unpacked = sum(info.file_size for info in archive.infolist())
            files = len(archive.infolist())
        imports = {APP: APP} | {
            function: f"{APP}; "
            + ", ".join(["import chalicelib", *_first_call_modules(call, code)])
            for function, call in FIRST_CALL.items()
        }
        timings: dict[str, list[float]] = {name: [] for name in imports}
        baseline = []
        for _ in range(runs):
            for name, statement in imports.items():
                timings[name].append(_timed(statement, code))
            baseline.append(_timed(BASELINE, code))
        own = _own_imports(code)
        size = deployment.stat().st_size
    baseline_ms = statistics.median(baseline) * 1000
    per_function = {name: round(statistics.median(timings[name]) * 1000, 1) for name in FIRST_CALL}
    worst = max(per_function, key=lambda name: per_function[name])
    app_ms = statistics.median(timings[APP]) * 1000
    return {
        "runs": runs,
        "import_app_ms": round(app_ms, 1),
        "import_chalice_boto3_ms": round(baseline_ms, 1),
        "function_ms": per_function,
        "function_ratio": {k: round(v / baseline_ms, 3) for k, v in per_function.items()},
        "heaviest_function": worst,
        "heaviest_function_ratio": round(per_function[worst] / baseline_ms, 3),
        # The target's measure: importing app.py, as Lambda does before any call.
        "ratio": round(app_ms / baseline_ms, 3),
        "ratio_of_fastest": round(min(timings[APP]) / min(baseline), 3),
        "target_ratio": TARGET_RATIO,
        "beyond_chalice_boto3_ms": round(sum(own.values()), 1),
        "beyond_chalice_boto3_modules": len(own),
        "heaviest_modules_ms": dict(sorted(own.items(), key=lambda i: -i[1])[:5]),
        "package_bytes": size,
        "package_unpacked_bytes": unpacked,
        "package_files": files,
    }


def _timed(imports: str, code: Path) -> float:
    result = subprocess.run(
        [sys.executable, "-B", "-c", TIMED.format(imports=imports)],
        cwd=code,
        env=_clean_environment(),
        check=True,
        capture_output=True,
        text=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


def _first_call_modules(first_call: str, code: Path) -> list[str]:
    """The chalicelib modules a function's first call imports beyond `import app`."""
    env = {
        **_clean_environment(),
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:bench",
        "ARCHIVE_BUCKET": "bench",
    }
    result = subprocess.run(
        [sys.executable, "-B", "-c", PROBE.format(first_call=first_call)],
        cwd=code,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.split()


def _own_imports(code: Path) -> dict[str, float]:
    """Modules `import app` loads beyond chalice and boto3, and their own import ms."""
    app, baseline = _import_times(APP, code), _import_times(BASELINE, code)
    return {name: ms for name, ms in app.items() if name not in baseline}


def _import_times(imports: str, code: Path) -> dict[str, float]:
    """Module -> its own import time in ms (-X importtime's "self" column)."""
    result = subprocess.run(
        [sys.executable, "-B", "-X", "importtime", "-c", imports],
        cwd=code,
        env=_clean_environment(),
        check=True,
        capture_output=True,
        text=True,
    )
    found = {}
    for line in result.stderr.splitlines():
        matched = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if matched:
            found[matched.group(2)] = round(int(matched.group(1)) / 1000, 1)
    return found


def _clean_environment() -> dict[str, str]:
    # The working tree must not shadow the package: only the unpacked code is on the path.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["AWS_DEFAULT_REGION"] = env.get("AWS_DEFAULT_REGION", "us-east-1")
    return env
