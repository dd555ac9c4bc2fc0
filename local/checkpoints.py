"""Durable checkpoints of the local runtime's stream readers, in the work directory.

Lambda keeps an event-source mapping's position in each shard (and, with
tumbling windows, the window's state) on its side: a function that crashes,
or a service restart, resumes after the last batch that succeeded. The local
runtime does the same with one small JSON file per reader
(`<work dir>/checkpoints/<name>.json`), replaced atomically (write, fsync,
rename) whenever a position moves, so a runtime killed at any point starts
again from its last checkpoint. Delivery stays at least once, as on AWS: a
batch whose side effects happened just before the crash is delivered again,
which the functions are built to absorb.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any


class CheckpointStore:
    """Named JSON documents, each replaced atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.writes = 0

    def _path(self, name: str) -> Path:
        return self.directory / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name) + ".json")

    def load(self, name: str) -> dict[str, Any] | None:
        """The document saved under `name`, or None if there is none (a first start)."""
        try:
            document: dict[str, Any] = json.loads(self._path(name).read_text())
        except FileNotFoundError:
            return None
        return document

    def save(self, name: str, document: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(name)
        temporary = path.with_suffix(".json.tmp")
        with temporary.open("w") as file:
            json.dump(document, file, separators=(",", ":"))
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(path)  # a reader sees the old document or the new, never half
        self.writes += 1

    def clear(self) -> None:
        """Forget every checkpoint (a fresh stack starts from its starting positions)."""
        if self.directory.exists():
            for path in self.directory.glob("*.json"):
                path.unlink()
