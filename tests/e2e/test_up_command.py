"""`python -m local up`: the API and the stock AWS CLI against a running stack, and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from infra.stages import PROJECT_DIR
from infra.system import TABLE_KEYS
from local.endpoint import client_environment, free_port, port_free
from tests.processes import alive, descendants

pytestmark = pytest.mark.slow


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_up_serves_the_api_answers_the_aws_cli_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port, api_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local",
            "up",
            "--port",
            str(port),
            "--api-port",
            str(api_port),
            "--work-dir",
            str(tmp_path),
            "--unicorns",
            "2",
        ],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
    )
    assert process.stdout is not None
    try:
        banner = []
        for line in process.stdout:
            banner.append(line)
            if "Ctrl-C stops everything" in line:
                break
        api = f"http://127.0.0.1:{api_port}"
        assert get(f"{api}/health") == {"status": "ok"}, banner
        fleet: dict[str, Any] = {"count": 0}
        deadline = time.monotonic() + 30
        while fleet["count"] < 2 and time.monotonic() < deadline:
            time.sleep(1)
            fleet = get(f"{api}/unicorns")
        assert sorted(u["Name"] for u in fleet["unicorns"]) == ["Rocinante", "Shadowfax"]
        assert any(f"operations console: {api}/" in line for line in banner)
        with urllib.request.urlopen(f"{api}/", timeout=5) as response:
            assert response.headers["Content-Type"].startswith("text/html")
            assert b"<title>Wild Rydes" in response.read()

        aws = subprocess.run(
            [
                str(Path(sys.executable).with_name("aws")),
                "--endpoint-url",
                f"http://127.0.0.1:{port}",
                "dynamodb",
                "list-tables",
                "--output",
                "json",
            ],
            env={**os.environ, **client_environment(f"http://127.0.0.1:{port}")},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert sorted(json.loads(aws.stdout)["TableNames"]) == sorted(TABLE_KEYS)
        exported = (tmp_path / "env").read_text()
        assert exported.count("export ") == len(client_environment(f"http://127.0.0.1:{port}"))
        assert "export AWS_SESSION_TOKEN=\n" in exported  # a shell's own token would not do
        # The API acted as its own role, like every function: nothing refused.
        assert get(f"{api}/taxi/zones")["count"] >= 0
        assert not (tmp_path / "logs" / "iam-denials.jsonl").exists()
    finally:
        children = descendants(process.pid)
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)

    assert process.returncode == 0, "".join(banner) + rest
    assert "stopped" in rest
    assert len(children) >= 3  # endpoint, API, producer
    assert [pid for pid in children if alive(pid)] == []
    assert port_free(port) and port_free(api_port)
