"""Scheduled functions in the local runtime: when they run, with what event, and failures."""

from __future__ import annotations

from typing import Any

import pytest

from local.functions import ScheduledLocalFunction
from local.invoke import FunctionSpec, Invoker
from local.schedule import Schedule, rate_seconds


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def function(handler: Any, expression: str = "rate(15 minutes)") -> ScheduledLocalFunction:
    spec = FunctionSpec(
        name="report",
        deployed_name="wildrydes-local-report",
        arn="arn:aws:lambda:us-east-1:123456789012:function:wildrydes-local-report",
        handler=handler,
    )
    return ScheduledLocalFunction(spec, expression)


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(1 minute)", 60),
        ("rate(15 minutes)", 900),
        ("rate(2 hours)", 7200),
        ("rate(1 day)", 86400),
    ],
)
def test_rates_are_read_as_eventbridge_writes_them(expression: str, seconds: int) -> None:
    assert rate_seconds(expression) == seconds


def test_a_cron_schedule_needs_an_interval_and_says_so() -> None:
    with pytest.raises(ValueError, match=r"runs rate\(\.\.\.\) schedules; give the stack"):
        rate_seconds("cron(0 12 * * ? *)")


def test_the_function_runs_once_per_interval_with_a_scheduled_event() -> None:
    events: list[dict[str, Any]] = []
    clock = Clock(1_795_000_000.0)  # 2026-11-18 11:06:40 UTC
    schedule = Schedule(
        function(lambda event, context: events.append(event) or {"ok": 1}),
        Invoker(),
        interval=60,
        clock=clock,
    )

    assert schedule.poll(clock.now) == clock.now + 60  # nothing in the first interval
    assert events == []
    assert schedule.poll(clock.now + 60) == clock.now + 120
    assert schedule.poll(clock.now + 90) == clock.now + 120
    schedule.poll(clock.now + 120)

    assert len(events) == 2 and schedule.stats() == {"runs": 2, "errors": 0}
    event = events[0]
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["time"] == "2026-11-18T11:07:40Z"
    assert event["resources"] == [
        "arn:aws:events:us-east-1:123456789012:rule/wildrydes-local-report"
    ]
    assert event["id"] != events[1]["id"]


def test_without_an_interval_the_declared_rate_is_used() -> None:
    schedule = Schedule(function(lambda e, c: None), Invoker(), clock=Clock(0.0))
    assert schedule.interval == 900 and schedule.poll(0.0) == 900


def test_a_failed_run_is_counted_and_the_next_one_still_comes() -> None:
    calls: list[float] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("archive bucket unreachable")
        return {"report": "s3://bucket/reports/latest.html"}

    schedule = Schedule(function(handler), Invoker(), interval=10, clock=Clock(0.0))
    schedule.poll(10)
    assert schedule.last is not None and not schedule.last.ok
    assert "RuntimeError: archive bucket unreachable" in (schedule.last.error or "")
    schedule.poll(20)
    assert schedule.last.ok and schedule.stats() == {"runs": 2, "errors": 1}


def test_a_non_positive_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        Schedule(function(lambda e, c: None), Invoker(), interval=0)


def test_a_run_longer_than_the_interval_does_not_start_the_next_at_once() -> None:
    clock = Clock(0.0)

    def slow(event: dict[str, Any], context: Any) -> Any:
        clock.now += 25  # the run takes 25 s of a 10 s interval
        return {}

    schedule = Schedule(function(slow), Invoker(clock=clock), interval=10, clock=clock)
    clock.now = 10
    assert schedule.poll(10) == 45  # 10 s after the run ended, at 35 s
    assert schedule.poll(clock.now) == 45 and schedule.runs == 1
