"""Running the `chalice` command line for the steps Chalice performs itself.

Chalice is run as a program, as a user would, rather than through its
internal API: `package`, `deploy` and `delete` then behave exactly as
documented. Its output goes to stderr with the rest of infra's progress, so
stdout stays free for what a command prints on purpose.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import boto3

from infra.errors import InfraError
from infra.stages import PROJECT_DIR

# `chalice package` needs a region even offline; this one is used when
# neither the environment nor the AWS config names one.
DEFAULT_REGION = "us-east-1"

# Runs `chalice <arguments>`; raises InfraError if it fails.
ChaliceRunner = Callable[[Sequence[str]], None]


def region() -> str:
    """The region boto3 would use, or DEFAULT_REGION when none is configured."""
    return boto3.session.Session().region_name or DEFAULT_REGION


def chalice_runner(project_dir: Path = PROJECT_DIR) -> ChaliceRunner:
    """A runner of the `chalice` installed beside this Python, on `project_dir`."""
    beside = Path(sys.executable).with_name("chalice")
    program = str(beside) if beside.exists() else shutil.which("chalice")
    if program is None:
        raise InfraError("the chalice command is not installed; run `make venv`")
    command = [program, "--project-dir", str(project_dir)]

    def run(arguments: Sequence[str]) -> None:
        env = dict(os.environ)
        env.setdefault("AWS_DEFAULT_REGION", region())
        print(f"$ chalice {' '.join(arguments)}", file=sys.stderr, flush=True)
        result = subprocess.run([*command, *arguments], env=env, stdout=sys.stderr, check=False)
        if result.returncode != 0:
            raise InfraError(
                f"`chalice {' '.join(arguments)}` failed (exit {result.returncode}); "
                "its output is above"
            )

    return run
