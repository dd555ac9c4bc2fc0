"""A copy of the project for tests that run its commands as a user would, in a folder of their own.

What the commands write (Chalice's deployment records, build output, the
`.wildrydes` link) then stays out of this checkout, and a file watcher on the
copy sees only what the test does. The virtual environment is linked, not
copied; requirement files keep their times, so `make` finds it up to date.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from infra.stages import PROJECT_DIR

COPIED = (
    "app.py",
    "chalicelib",
    "infra",
    "local",
    "producer",
    "requirements.txt",
    "requirements-dev.txt",
    "Makefile",
)


def copy_project(copy: Path, *, endpoint_port: int | None = None) -> Path:
    """The project's code and config in `copy`; the local stage pointed at `endpoint_port`."""
    copy.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        source = PROJECT_DIR / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, copy / name)
    shutil.copytree(
        PROJECT_DIR / ".chalice",
        copy / ".chalice",
        ignore=shutil.ignore_patterns("deployed", "deployments"),
    )
    (copy / ".venv").symlink_to(PROJECT_DIR / ".venv")
    if endpoint_port is not None:
        config_path = copy / ".chalice" / "config.json"
        config = json.loads(config_path.read_text())
        variables = config["stages"]["local"]["environment_variables"]
        variables["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{endpoint_port}"
        config_path.write_text(json.dumps(config, indent=2))
    return copy
