"""`make up`: the local stack, the query API and producers, running until Ctrl-C.

The query API is `chalice local` on 127.0.0.1:8000, pointed at the embedded
endpoint; the stock AWS CLI reaches the endpoint on its port. Two producers
feed it: the unicorn fleet, and today's taxi trips from 06:00 at 60 times
their pace. Progress (records per second through each stage, lag of each
mapping) is printed every few seconds. Ctrl-C stops the producers, the API,
the runtime and the endpoint, in that order.
"""

from __future__ import annotations

import compileall
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from chalicelib import names
from infra.resources import ARCHIVE_BUCKET_OUTPUT
from infra.stages import PROJECT_DIR
from local.child import spawn, stop_process
from local.endpoint import HOST, EndpointError, client_environment, port_free
from local.stack import API_PORT, LocalStack, StackOptions
from local.state import LINK_NAME, shown

PROGRESS_SECONDS = 5.0
TAXI_PRODUCER = ("--dataset", "taxi", "--start", "06:00", "--speed", "60", "--progress", "0")


@dataclass
class UpOptions:
    stack: StackOptions
    api_port: int = API_PORT
    unicorns: int = 5
    produce: bool = True
    serve_api: bool = True  # False leaves the port to the user's own `chalice local`


def _child(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return spawn(command, log=log, env=env, cwd=PROJECT_DIR)


def start_api(
    stage: str, port: int, log: Path, env: dict[str, str], timeout: float = 30.0
) -> subprocess.Popen[bytes]:
    """`chalice local` for `stage` on 127.0.0.1:`port`, once it answers `/health`; its AWS
    clients use the endpoint and credentials in `env`, whatever the stage's settings say.

    EndpointError if it exits or stays silent; the process is stopped then.
    """
    # `chalice local`, its clients on the endpoint and credentials in `env` (local/api.py).
    api = _child([sys.executable, "-m", "local.api", stage, HOST, str(port)], log, env)
    url = f"http://{HOST}:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if api.poll() is not None:
            raise EndpointError(f"chalice local exited (code {api.returncode}); see {log}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1):
                return api
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    stop_process(api)
    raise EndpointError(f"chalice local did not answer on {url} within {timeout:.0f} s")


def compile_app(project: Path = PROJECT_DIR) -> None:
    """Compile the app's modules now: Python writes bytecode beside them on first import,
    and a new file under the project restarts a `chalice local` that is watching it."""
    compileall.compile_file(project / "app.py", quiet=1)
    compileall.compile_dir(project / "chalicelib", quiet=1)


def run_up(options: UpOptions, *, out: TextIO = sys.stdout) -> int:
    started = time.monotonic()

    def say(text: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s] {text}", file=out, flush=True)

    if options.serve_api and not port_free(options.api_port):
        raise EndpointError(
            f"port {options.api_port} on {HOST} is in use; stop what holds it or pass API_PORT=..."
        )
    compile_app()
    api_url = f"http://{HOST}:{options.api_port}"
    options.stack.api_url = api_url
    stack = LocalStack(options.stack)
    api = producer = taxi = None
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        say(f"starting the embedded AWS endpoint on {stack.url} ...")
        stack.start()
        env = {**os.environ, **client_environment(stack.url)}
        if options.serve_api:
            # The API acts as its function's role, as deployed.
            api_env = {**os.environ, **stack.api_environment()}
            api = start_api(options.stack.stage, options.api_port, stack.logs / "api.log", api_env)
        if options.produce:
            producer = _child(
                [sys.executable, "-m", "producer", "--unicorns", str(options.unicorns)],
                stack.logs / "producer.log",
                env,
            )
            # Today's taxi trips from 06:00, a minute of the day a second: the
            # morning peak is on the console's taxi tab within three minutes.
            taxi = _child(
                [sys.executable, "-m", "producer", *TAXI_PRODUCER],
                stack.logs / "taxi-producer.log",
                env,
            )
        _banner(stack, api_url, options)
        previous_counts: dict[str, int] = {}
        last = time.monotonic()
        while True:
            time.sleep(PROGRESS_SECONDS)
            now = time.monotonic()
            counts = {
                name: stats.get("records", stats.get("emails", 0))
                for name, stats in stack.stats().items()
                if "runs" not in stats  # scheduled functions have runs, not a rate
            }
            elapsed = now - last
            rates = [
                f"{name.split(' ')[0]} {(count - previous_counts.get(name, 0)) / elapsed:.1f}/s"
                for name, count in counts.items()
            ]
            lags = " ".join(f"{f} {lag:.1f}s" for f, lag in stack.lag().items())
            say(" · ".join(rates) + f" · lag {lags}")
            previous_counts, last = counts, now
            if producer is not None and producer.poll() is not None:
                say(f"the producer stopped (code {producer.returncode}); see {stack.logs}")
                producer = None
            if taxi is not None and taxi.poll() is not None:
                say(f"the taxi producer stopped (code {taxi.returncode}); see {stack.logs}")
                taxi = None
    except KeyboardInterrupt:
        say("stopping: producer, API, runtime, endpoint ...")
        return 0
    finally:
        stop_process(producer, signal.SIGINT)
        stop_process(taxi, signal.SIGINT)
        stop_process(api, signal.SIGTERM)
        stack.stop()
        signal.signal(signal.SIGTERM, previous)
        say("stopped")


def _banner(stack: LocalStack, api_url: str, options: UpOptions) -> None:
    env_file = stack.options.work_dir / "env"
    env_file.write_text(
        "".join(f"export {k}={v}\n" for k, v in client_environment(stack.url).items())
    )
    if options.serve_api:
        api_lines = [
            f"embedded AWS: {stack.url}   query API: {api_url}   stage {options.stack.stage}",
            f"operations console: {api_url}/   (open it in a browser)",
            "try, in another terminal:",
            f"  curl {api_url}/unicorns",
            f"  curl {api_url}/alerts",
            f"  curl {api_url}/taxi/peaks   # today's taxi trips, replayed from 06:00 at 60x",
        ]
    else:
        api_lines = [
            f"embedded AWS: {stack.url}   no API of its own (--no-api)   stage "
            f"{options.stack.stage}",
            "in another terminal, from the project's folder:",
            f"  .venv/bin/chalice local --stage {options.stack.stage}   # the API and console on "
            "http://127.0.0.1:8000, restarting when you edit app.py",
        ]
    lines = [
        *api_lines,
        f"  source {shown(env_file)}   # endpoint, region and credentials for the commands below",
        f"  .venv/bin/aws --endpoint-url {stack.url} dynamodb scan --table-name UnicornSensorData",
        "  .venv/bin/python -m producer --name Shadowfax   # one more producer",
        '  make sql Q="SELECT name, count(*) AS n FROM wildrydes GROUP BY name"',
        *_report_lines(stack),
        f"logs in {shown(stack.logs)}; alert emails in {shown(stack.mail)}"
        + (f" ({LINK_NAME} is {stack.options.work_dir})" if _linked(stack) else ""),
        "Ctrl-C stops everything.",
    ]
    for line in lines:
        print(line, flush=True)


def _linked(stack: LocalStack) -> bool:
    return shown(stack.options.work_dir) != str(stack.options.work_dir)


def _report_lines(stack: LocalStack) -> list[str]:
    if not stack.schedules or stack.provisioned is None:
        return []
    bucket = stack.provisioned.outputs[ARCHIVE_BUCKET_OUTPUT]
    every = min(s.interval for s in stack.schedules)
    return [
        f"the fleet report is rendered every {every:g} s; fetch the latest with",
        f"  .venv/bin/aws --endpoint-url {stack.url} s3 cp "
        f"s3://{bucket}/{names.LATEST_REPORT} report.html",
    ]


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
