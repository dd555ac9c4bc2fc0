"""Fixtures shared by every kind of test."""

from __future__ import annotations

import os
import signal

import pytest

REGION = "us-east-1"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a region, and no profile or endpoint: safe to start moto."""
    for name in (
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_KINESIS",
        "AWS_REGION",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)


def pytest_configure() -> None:
    """Ctrl-C works in the processes the tests start, wherever pytest was started.

    A shell starts a background job (`make test &`, `nohup`) with SIGINT ignored,
    and every process it starts inherits that, so a test pressing Ctrl-C on a
    child would wait for nothing. A Python handler is not inherited: with one
    here, each child starts with Ctrl-C as a terminal gives it.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under `make mutate`, a mutant's quickest tests first.

    mutmut hands pytest the tests that reach a mutant in no particular order and
    stops at the first failure, so a mutant the quickest test kills should not wait
    for a 20-second one first. Outside a mutant's run this does nothing.
    """
    if "__mutmut_" not in os.environ.get("MUTANT_UNDER_TEST", ""):
        return
    from mutmut.state import state

    durations = state().duration_by_test
    items.sort(key=lambda item: durations.get(item.nodeid, 0.0))
