"""Scheduled functions in the local runtime: an EventBridge rule, as a component.

On AWS an `@app.schedule` function runs when its rule fires. Locally the
runtime polls a `Schedule` like any other component: when the interval has
passed it invokes the function with the event EventBridge sends for a
scheduled rule (`detail-type` "Scheduled Event", `time` the moment it fired).
The interval is the declared rate unless the stack overrides it (reports
every 15 minutes are too slow to watch on a laptop). A failed run is logged
and counted; like EventBridge, the next one comes at the next interval.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from local.endpoint import ACCOUNT, REGION
from local.functions import ScheduledLocalFunction
from local.invoke import Invoker, Outcome

log = logging.getLogger(__name__)

UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def rate_seconds(expression: str) -> float:
    """Seconds between runs of `rate(N unit)`; ValueError for anything else (cron included)."""
    match = re.fullmatch(r"rate\((\d+) (minutes?|hours?|days?)\)", expression.strip())
    if not match:
        raise ValueError(
            f"{expression!r}: the local runtime runs rate(...) schedules; "
            "give the stack an interval to run others"
        )
    return int(match.group(1)) * UNITS[match.group(2)]


def scheduled_event(rule_name: str, at: float) -> dict[str, Any]:
    """The event EventBridge delivers when a scheduled rule fires at `at` (epoch seconds)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at)),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule_name}"],
        "detail": {},
    }


class Schedule:
    """Runs one scheduled function every `interval` seconds, the first run one interval in."""

    def __init__(
        self,
        function: ScheduledLocalFunction,
        invoker: Invoker,
        *,
        interval: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.function = function
        self.invoker = invoker
        self.interval = interval if interval is not None else rate_seconds(function.expression)
        if self.interval <= 0:
            raise ValueError(f"schedule interval must be positive, got {self.interval}")
        self.name = f"{function.spec.name} (every {self.interval:g} s)"
        self.clock = clock
        self.due = clock() + self.interval
        self.runs = 0
        self.errors = 0
        self.last: Outcome | None = None

    def poll(self, now: float) -> float:
        if now >= self.due:
            self.run(now)
            # From the run's end: a run longer than the interval must not start
            # the next at once and hold the runtime's one thread for good.
            self.due = max(now, self.clock()) + self.interval
        return self.due

    def run(self, now: float) -> Outcome:
        """Invoke the function once, as its rule firing at `now` would."""
        event = scheduled_event(self.function.spec.deployed_name, now)
        outcome = self.invoker.invoke(self.function.spec, event)
        self.runs += 1
        self.last = outcome
        if outcome.ok:
            log.info("%s ran: %s", self.function.spec.deployed_name, outcome.payload)
        else:
            self.errors += 1
            log.error("%s failed: %s", self.function.spec.deployed_name, outcome.error)
        return outcome

    def drain(self, now: float) -> bool:
        return True  # nothing buffered: a run is whole or not at all

    def stats(self) -> dict[str, int]:
        return {"runs": self.runs, "errors": self.errors}
