"""The embedded AWS endpoint: moto's server in a child process on loopback.

A child process rather than a thread, so that the endpoint has a core of its
own while the runtime invokes handlers, and so that the stock AWS CLI and
`chalice local` can reach it like any endpoint. The child is tied to this
process: stopped on exit and on Ctrl-C, and killed by the kernel if this
process dies first.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from local.child import spawn, stop_process

HOST = "127.0.0.1"
DEFAULT_PORT = 4566
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's account
# Credentials the endpoint accepts; they only have to be present.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
# The file the endpoint records each call IAM refused in (local.moto_iam), a JSON line each.
DENIALS_VARIABLE = "WILDRYDES_IAM_DENIALS"
# Seconds the endpoint's streams keep their records, when shorter than a stream's own
# retention (24 h at least on AWS): what lets a long `make up` hold its memory.
RETENTION_VARIABLE = "WILDRYDES_RECORD_RETENTION"


class EndpointError(Exception):
    """The endpoint could not be started; the message says why and what to do."""


def port_free(port: int, host: str = HOST) -> bool:
    """No one listens on `port`. Bound as the servers bind (SO_REUSEADDR), so that
    connections still in TIME-WAIT from a previous run do not count."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def client_environment(url: str) -> dict[str, str]:
    """What a process needs in its environment to use the endpoint: the account's own
    credentials, and no session token a shell may hold (with one, the endpoint would take
    the call for a role session's)."""
    return {
        "AWS_ENDPOINT_URL": url,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        **CREDENTIALS,
        "AWS_SESSION_TOKEN": "",
        "AWS_SECURITY_TOKEN": "",
    }


class Endpoint:
    """moto server on `HOST:port`, started and stopped with this object."""

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        log_path: Path | None = None,
        denials_path: Path | None = None,
        record_retention: float | None = None,
    ) -> None:
        self.port = port
        self.log_path = log_path
        self.denials_path = denials_path  # one JSON line per call IAM refused (local.moto_iam)
        # Seconds a stream keeps its records, if shorter than its own retention.
        self.record_retention = record_retention
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        if not port_free(self.port):
            raise EndpointError(
                f"port {self.port} on {HOST} is in use (another `make up` or `make demo`?); "
                "stop it or choose another with PORT=..."
            )
        self.process = spawn(
            [sys.executable, "-m", "local.moto_server", "-H", HOST, "-p", str(self.port)],
            log=self.log_path or Path(os.devnull),
            env={
                **os.environ,
                "PYTHONUNBUFFERED": "1",
                DENIALS_VARIABLE: str(self.denials_path or ""),
                RETENTION_VARIABLE: ""
                if self.record_retention is None
                else f"{self.record_retention:g}",
            },
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EndpointError(
                    f"moto server exited at start (code {self.process.returncode}); "
                    f"see {self.log_path}"
                )
            if self._ready():
                return
            time.sleep(0.1)
        self.stop()
        raise EndpointError(f"moto server did not answer on {self.url} within {timeout:.0f} s")

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/moto-api/data.json", timeout=1):
                return True
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_process(process, signal.SIGTERM, timeout=5)
