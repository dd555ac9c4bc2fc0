"""Running the `chalice` command line for the steps Chalice performs itself.

Chalice is run as a program, as a user would, rather than through its
internal API: `package`, `deploy` and `delete` then behave exactly as
documented, but for the Lambda runtime, which is the stage's rather than this
interpreter's (`infra.chalice_main`). Its output goes to stderr with the rest
of infra's progress, so stdout stays free for what a command prints on purpose.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import boto3

from infra.chalice_main import RUNTIME_VARIABLE
from infra.errors import InfraError
from infra.runtimes import Platform
from infra.stages import PROJECT_DIR

# `chalice package` needs a region even offline; this one is used when
# neither the environment nor the AWS config names one.
DEFAULT_REGION = "us-east-1"

# Runs `chalice <arguments>`; raises InfraError if it fails.
ChaliceRunner = Callable[[Sequence[str]], None]


def region() -> str:
    """The region boto3 would use, or DEFAULT_REGION when none is configured."""
    return boto3.session.Session().region_name or DEFAULT_REGION


def chalice_runner(platform: Platform, project_dir: Path = PROJECT_DIR) -> ChaliceRunner:
    """A runner of Chalice, installed beside this Python, on `project_dir`, whose
    functions run on `platform`'s runtime (its architecture is Chalice's own setting)."""
    if importlib.util.find_spec("chalice") is None:
        raise InfraError("chalice is not installed; run `make venv`")
    command = [sys.executable, "-m", "infra.chalice_main", "--project-dir", str(project_dir)]

    def run(arguments: Sequence[str]) -> None:
        # This project's root on the path, for `-m infra.chalice_main` from any directory.
        path = os.pathsep.join(filter(None, [str(PROJECT_DIR), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, RUNTIME_VARIABLE: platform.runtime, "PYTHONPATH": path}
        env.setdefault("AWS_DEFAULT_REGION", region())
        print(f"$ chalice {' '.join(arguments)}", file=sys.stderr, flush=True)
        result = subprocess.run([*command, *arguments], env=env, stdout=sys.stderr, check=False)
        if result.returncode != 0:
            raise InfraError(
                f"`chalice {' '.join(arguments)}` failed (exit {result.returncode}); "
                "its output is above"
            )

    return run
