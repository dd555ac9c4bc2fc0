"""A copy of the project's Chalice config with one more stage, for runs with short windows."""

from __future__ import annotations

import json
from pathlib import Path

from infra.stages import CONFIG_PATH


def config_with_window(directory: Path, stage: str, seconds: int) -> Path:
    """`directory/config.json`: the project's config plus `stage`, whose aggregate
    windows last `seconds`; pass it as the stack's or command's config."""
    config = json.loads(CONFIG_PATH.read_text())
    config["stages"][stage] = {
        "lambda_functions": {"aggregate": {"event_source": {"TumblingWindowInSeconds": seconds}}}
    }
    path = directory / "config.json"
    path.write_text(json.dumps(config))
    return path
