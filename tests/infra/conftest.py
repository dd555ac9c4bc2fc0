"""Fixtures of the infrastructure tests: the packaged template, moto, a scratch config.

The packaged template is built once per session by the real command
(`python -m infra package`), so the tests read what a user would deploy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from infra.stages import CONFIG_PATH, PROJECT_DIR


@pytest.fixture(scope="session")
def package_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """build/dev/ of `python -m infra package --stage dev`, in a temporary directory."""
    out = tmp_path_factory.mktemp("build")
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    subprocess.run(
        [sys.executable, "-m", "infra", "package", "--stage", "dev", "--out", str(out)],
        cwd=PROJECT_DIR,
        env=env,
        check=True,
        capture_output=True,
    )
    return out / "dev"


@pytest.fixture(scope="session")
def sam(package_dir: Path) -> dict[str, Any]:
    """The single deployable template, build/dev/package/sam.json."""
    template: dict[str, Any] = json.loads((package_dir / "package" / "sam.json").read_text())
    return template


@pytest.fixture(scope="session")
def resources(sam: dict[str, Any]) -> dict[str, Any]:
    return dict(sam["Resources"])


@pytest.fixture
def aws(aws_env: None) -> Iterator[None]:
    """moto for every AWS service, with fake credentials set before it starts."""
    with mock_aws():
        yield


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """A scratch copy of `.chalice/config.json` (in its own `.chalice/`)."""
    chalice_dir = tmp_path / ".chalice"
    chalice_dir.mkdir()
    copy = chalice_dir / "config.json"
    shutil.copyfile(CONFIG_PATH, copy)
    return copy
