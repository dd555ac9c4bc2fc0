"""A copy of the project's Chalice config with one more stage, for runs with short windows."""

from __future__ import annotations

import json
from pathlib import Path

from infra.event_sources import window_stage
from infra.stages import CONFIG_PATH


def config_with_window(directory: Path, stage: str, seconds: int) -> Path:
    """`directory/config.json`: the project's config plus `stage`, whose tumbling
    windows (every data set's aggregate) last `seconds`; pass it as the stack's
    or command's config."""
    config = json.loads(CONFIG_PATH.read_text())
    config["stages"][stage] = window_stage(seconds)
    path = directory / "config.json"
    path.write_text(json.dumps(config))
    return path
