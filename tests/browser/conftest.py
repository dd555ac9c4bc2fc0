"""A running local stack for the operations console, and Chromium to look at it.

Once per module: the embedded endpoint, the resources and the runtime
(`LocalStack`, five-second windows so that history exists within seconds),
three producers (a fleet with unwell unicorns, a unicorn whose name is
markup, and one whose name has `#`, `/` and `?` in it) and `chalice local`
as its own process, which a test may stop and start again on the same port.
Every process is stopped by its PID when the module ends, failed or not.
Each test gets a fresh page that may only talk to the console's own origin:
anything else is blocked and reported, as are script errors, CSP violations
and dialogs.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, Route, sync_playwright

from infra.stages import PROJECT_DIR
from local.child import spawn, stop_process
from local.endpoint import HOST, client_environment, free_port
from local.stack import LocalStack, StackOptions
from local.up import start_api
from producer.fleet import Fleet, fleet_names
from tests.stages import config_with_window

WINDOW = 5  # seconds: summaries exist a few seconds after the producers start
FLEET_SIZE = 4
FLEET_UNWELL = 2
FLEET_DECLINE = 8  # alerts open after about 6 s and 16 s, each for about 12 s
# With these seeds the five courses are at least 60 degrees apart, so that the
# markers part within seconds and a click on one never lands on another.
FLEET_SEED = 25
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_DECLINE = 2  # alert from about 25 s to 45 s: covers the gap after the fleet's
HOSTILE_SEED = 21
# A name that only reaches its history when the page encodes it in the URL's path.
AWKWARD_NAME = "Nightmare #2/3?"
AWKWARD_SEED = 191
# How long a marker may take to move: vitals writes a steady unicorn's position every
# 5 s (STATUS_INTERVAL's default), the console reads it every 2 s, and a loaded machine
# runs the pipeline a few seconds behind.
MOVE_WAIT_MS = 30_000
PRODUCER_SECONDS = 1800  # outlives the module on the slowest machine; stopped at its end
SCREENSHOTS = PROJECT_DIR / "build" / "screenshots"
DOCS_SCREENSHOT = PROJECT_DIR / "docs" / "dashboard.png"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class ApiServer:
    """`chalice local` on a fixed port, as `make up` runs it; stop and start at will."""

    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        self.process = start_api("local", self.port, self.log, self.env, timeout)

    def stop(self) -> None:
        stop_process(self.process, signal.SIGTERM)
        self.process = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class Console:
    """What the tests need to know about the running console."""

    api: ApiServer
    names: list[str]  # every unicorn that reports
    unwell: set[str]  # those that fall ill

    @property
    def url(self) -> str:
        return f"{self.api.url}/"


def _fleet_unwell() -> set[str]:
    # The producer's own model with the producer's seed picks the same unicorns.
    fleet = Fleet(
        fleet_names(FLEET_SIZE),
        random.Random(FLEET_SEED),
        unwell=FLEET_UNWELL,
        decline=FLEET_DECLINE,
    )
    return {u.name for u in fleet.unwell}


def _fleet_reported(url: str, names: list[str]) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/unicorns", timeout=5) as response:
            fleet = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return sorted(u["Name"] for u in fleet["unicorns"]) == sorted(names)


def chromium_executable() -> str:
    """Debian's Chromium (never a downloaded browser); skip or fail when it is missing."""
    path = os.environ.get("WILDRYDES_CHROMIUM", "/usr/bin/chromium")
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        message = f"Chromium not found at {path}: run `make browser` to install Debian's chromium"
        if os.environ.get("WILDRYDES_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_executable()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def console(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    tmp = tmp_path_factory.mktemp("console")
    stack = LocalStack(
        StackOptions(
            stage="browser",
            port=free_port(),
            work_dir=tmp,
            config_path=config_with_window(tmp, "browser", WINDOW),
        )
    )
    producers: list[subprocess.Popen[bytes]] = []
    api: ApiServer | None = None
    stack.start()
    try:
        env = {**os.environ, **client_environment(stack.url)}
        env.pop("MAP_TILES_URL", None)  # no tiles: nothing may leave the machine
        producer = [sys.executable, "-m", "producer", "--progress", "0"]
        runs = [
            [
                *("--unicorns", str(FLEET_SIZE), "--unwell", str(FLEET_UNWELL)),
                *("--decline", str(FLEET_DECLINE), "--seed", str(FLEET_SEED)),
            ],
            [
                *("--name", HOSTILE_NAME, "--unwell", "1"),
                *("--decline", str(HOSTILE_DECLINE), "--seed", str(HOSTILE_SEED)),
            ],
            ["--name", AWKWARD_NAME, "--seed", str(AWKWARD_SEED)],
        ]
        for n, arguments in enumerate(runs):
            producers.append(
                spawn(
                    [*producer, *arguments, "--duration", str(PRODUCER_SECONDS)],
                    log=stack.logs / f"producer-{n}.log",
                    env=env,
                    cwd=PROJECT_DIR,
                )
            )
        # The API acts as its function's role, as `make up` runs it.
        api = ApiServer(free_port(), {**env, **stack.api_environment()}, stack.logs / "api.log")
        api.start()
        names = [*fleet_names(FLEET_SIZE), HOSTILE_NAME, AWKWARD_NAME]
        deadline = time.monotonic() + 60
        while not _fleet_reported(api.url, names):
            assert time.monotonic() < deadline, f"the fleet did not report; see {stack.logs}"
            assert all(p.poll() is None for p in producers), f"a producer died; see {stack.logs}"
            time.sleep(0.5)
        yield Console(api, names, _fleet_unwell() | {HOSTILE_NAME})
    finally:
        for process in producers:
            stop_process(process, signal.SIGINT)
        if api is not None:
            api.stop()
        stack.stop()


@dataclass
class Watch:
    """What a page did that it must not: leave its origin, fail, open a dialog."""

    origin: str
    foreign: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    def route(self, route: Route) -> None:
        url = route.request.url
        if url == self.origin or url.startswith(self.origin + "/") or url.startswith("data:"):
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()

    def dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.violations.append(message.text)


@pytest.fixture
def watch(console: Console) -> Watch:
    return Watch(console.api.url)


@pytest.fixture
def page(browser: Browser, console: Console, watch: Watch) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(20_000)
    context.route("**/*", watch.route)
    opened = context.new_page()
    opened.on("dialog", watch.dialog)
    opened.on("pageerror", lambda error: watch.errors.append(str(error)))
    opened.on("console", watch.console)
    try:
        yield opened
    finally:
        context.close()
    assert watch.foreign == [], "the page asked for something outside its origin"
    assert watch.errors == [], "the page's script failed"
    assert watch.violations == [], "the page broke its Content-Security-Policy"
    assert watch.dialogs == [], "the page opened a dialog"


def screenshot(page: Page, name: str, **options: Any) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), **options)
    return path
