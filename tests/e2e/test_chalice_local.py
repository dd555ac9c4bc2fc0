"""`chalice local --stage local` as a Chalice user runs it: bare, autoreload on, beside `make up`.

Both run in a copy of the project (tests/project_copy.py) whose local stage
points at a free port, so the copy's file watcher sees exactly what the
running stack writes into the project: nothing, since its state lives in a
directory of its own (local/state.py), here under a temporary XDG_STATE_HOME.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from chalicelib.taxi.records import encode_trip
from local.endpoint import free_port
from local.state import LINK_NAME
from producer.taxi import TaxiDay
from tests.project_copy import copy_project
from tests.routes import DATA_ROUTES

pytestmark = pytest.mark.slow

WATCHED_SECONDS = 32.0
SERVING = "Serving on"
RESTARTING = "Restarting local dev server."

# Any valid trip: the request must reach the trip ledger.
TRIP = json.loads(
    encode_trip(TaxiDay(date(2026, 11, 23), 20_000, seed=3).trips(36_000, 36_600)[0])
)
# One request of every data route (tests/routes.py); Shadowfax is in make up's fleet.
REQUESTS = {
    "/unicorns": ("GET", "/unicorns", None),
    "/unicorns/{name}": ("GET", "/unicorns/Shadowfax", None),
    "/unicorns/{name}/summaries": ("GET", "/unicorns/Shadowfax/summaries", None),
    "/alerts": ("GET", "/alerts", None),
    "/trips": ("POST", "/trips", {"trips": [TRIP]}),
    "/taxi/peaks": ("GET", "/taxi/peaks", None),
    "/taxi/fares": ("GET", "/taxi/fares?zone=161", None),
    "/taxi/zones": ("GET", "/taxi/zones", None),
    "/taxi/alerts": ("GET", "/taxi/alerts", None),
}


def user_environment(state_home: Path) -> dict[str, str]:
    """A shell with no AWS settings at all: the stage must carry what it needs. Python
    writes no bytecode (as docs/LOCAL.md suggests): Chalice's watcher sees every file under
    the project, a rewritten `.pyc` too, which would restart it once more after an edit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {
        **env,
        "XDG_STATE_HOME": str(state_home),
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


@contextmanager
def running(
    command: list[str], cwd: Path, env: dict[str, str], log: Path, stop: int = signal.SIGINT
) -> Iterator[subprocess.Popen[bytes]]:
    """`command` in its own process group, its output in `log`; always stopped at the end."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, stop)
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def wait_for(condition: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


def request(url: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    call = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(call, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def chalice_local(port: int, *extra: str) -> list[str]:
    chalice = str(Path(sys.executable).with_name("chalice"))
    return [chalice, "local", "--stage", "local", "--port", str(port), *extra]


def test_chalice_local_serves_beside_make_up_and_restarts_only_when_the_app_changes(
    tmp_path: Path,
) -> None:
    endpoint_port, api_port = free_port(), free_port()
    project = copy_project(tmp_path / "project", endpoint_port=endpoint_port)
    env = user_environment(tmp_path / "state")
    stack_log, api_log = tmp_path / "up.log", tmp_path / "chalice-local.log"
    up = [sys.executable, "-m", "local", "up", "--no-api", "--port", str(endpoint_port)]

    with running([*up, "--unicorns", "2"], project, env, stack_log):
        wait_for(lambda: "Ctrl-C stops everything" in stack_log.read_text(), "make up")
        with running(chalice_local(api_port), project, env, api_log, signal.SIGTERM):
            url = f"http://127.0.0.1:{api_port}"
            wait_for(lambda: SERVING in api_log.read_text(), "chalice local")
            answers, fleet, started = [], [], time.monotonic()
            while time.monotonic() - started < WATCHED_SECONDS:
                status, body = request(f"{url}/unicorns")
                answers.append(status)
                fleet = [u["Name"] for u in body.get("unicorns", [])]
                time.sleep(2)
            output = api_log.read_text()
            assert set(answers) == {200}, output
            assert sorted(fleet) == ["Rocinante", "Shadowfax"]
            for route, (method, path, body) in REQUESTS.items():  # every data route
                assert request(f"{url}{path}", method, body)[0] == 200, route
            output = api_log.read_text()
            assert output.count(SERVING) == 1, output  # the start, no restart
            assert RESTARTING not in output

            # An edit of the app, then of a module it uses: one restart each, then quiet.
            for served, edited in enumerate(("app.py", "chalicelib/unicorns/view.py"), start=2):
                path = project / edited
                path.write_text(path.read_text() + "\n# edited\n")
                wait_for(lambda: api_log.read_text().count(SERVING) == served, "the restart", 30)  # noqa: B023
                time.sleep(3)
                assert api_log.read_text().count(RESTARTING) == served - 1, edited
                assert request(f"{url}/unicorns")[0] == 200

    link = project / LINK_NAME
    assert link.is_symlink()
    state = link.resolve()
    assert state.is_relative_to(tmp_path / "state" / "wildrydes")
    assert (state / "logs" / "functions.log").exists()
    assert (state / "env").read_text().count(f"127.0.0.1:{endpoint_port}") == 1


def test_with_the_endpoint_down_every_data_route_says_where_it_looked_and_what_to_run(
    tmp_path: Path,
) -> None:
    assert set(REQUESTS) == DATA_ROUTES
    endpoint_port, api_port = free_port(), free_port()
    project = copy_project(tmp_path / "project", endpoint_port=endpoint_port)
    env = user_environment(tmp_path / "state")
    log = tmp_path / "chalice-local.log"
    with running(chalice_local(api_port, "--no-autoreload"), project, env, log):
        wait_for(lambda: SERVING in log.read_text(), "chalice local")
        url = f"http://127.0.0.1:{api_port}"
        for route, (method, path, body) in REQUESTS.items():
            status, answer = request(f"{url}{path}", method, body)
            assert status == 503, (route, answer)
            assert answer["Code"] == "ServiceUnavailable", route
            assert (
                f"no answer from the AWS endpoint http://127.0.0.1:{endpoint_port}"
                in (answer["Message"])
            ), route
            assert "`make up` starts it" in answer["Message"], route
        assert request(f"{url}/health") == (200, {"status": "ok"})
    assert "Traceback" not in log.read_text()
