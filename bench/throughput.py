"""The highest producer rate the embedded pipeline sustains with bounded lag.

The producer steps its rate up (100 unicorns, one PutRecords call per tick);
during each step the lag of every mapping (`LocalStack.lag()`: the age of
the oldest record read and not yet done) is sampled twice a second. A step is
sustained when the achieved put rate is within 10 % of the one asked for and
the largest lag stayed under MAX_LAG and did not grow: its largest value in
the second half of the step is at most GROWTH seconds above the first half's.
Between steps the pipeline drains; after a step that is not sustained the
higher ones are skipped.
"""

from __future__ import annotations

import time
from typing import Any

from bench.localrun import Producer
from local.stack import LocalStack

UNICORNS = 100
MAX_LAG = 10.0
GROWTH = 2.0
SAMPLE_EVERY = 0.5
DRAIN_TIMEOUT = 30.0
OVERRUN = 5.0  # seconds a step may run past its length before the producer is stopped


def run(stack: LocalStack, *, quick: bool = False) -> dict[str, Any]:
    rates = (500, 1000) if quick else (250, 500, 1000, 2000)
    seconds = 6.0 if quick else 20.0
    steps: list[dict[str, Any]] = []
    for rate in rates:
        if steps and not steps[-1]["sustained"]:
            steps.append({"rate": rate, "skipped": f"{steps[-1]['rate']}/s was not sustained"})
            continue
        steps.append(_step(stack, rate, seconds))
        if steps[-1]["sustained"] and not _drained(stack):
            steps[-1]["sustained"] = False  # it left a backlog the next step would inherit
    sustained = [s["rate"] for s in steps if s.get("sustained")]
    return {
        "unicorns": UNICORNS,
        "step_seconds": seconds,
        "max_lag_s": MAX_LAG,
        "steps": steps,
        "highest_sustained_rate": max(sustained, default=0),
    }


def _step(stack: LocalStack, rate: int, seconds: float) -> dict[str, Any]:
    producer = Producer(
        stack,
        stack.logs / f"producer-{rate}.log",
        unicorns=UNICORNS,
        rate=rate / UNICORNS,
        seconds=seconds,
        seed=rate,
    )
    started = time.monotonic()
    samples: list[tuple[float, dict[str, float]]] = []
    while producer.running() and time.monotonic() - started < seconds + OVERRUN:
        samples.append((time.monotonic() - started, stack.lag()))
        time.sleep(SAMPLE_EVERY)
    produced = producer.stop()  # one that cannot keep up is stopped, with its summary
    functions = sorted({f for _, lags in samples for f in lags})
    worst = {
        f: round(max((lags.get(f, 0.0) for _, lags in samples), default=0.0), 2) for f in functions
    }
    half = seconds / 2
    first = max((max(lags.values(), default=0.0) for t, lags in samples if t < half), default=0.0)
    second = max(
        (max(lags.values(), default=0.0) for t, lags in samples if t >= half), default=0.0
    )
    max_lag = max(worst.values(), default=0.0)
    sustained = (
        produced.exit == 0
        and produced.rate >= 0.9 * rate
        and max_lag < MAX_LAG
        and second <= first + GROWTH
    )
    return {
        "rate": rate,
        "achieved_rate": round(produced.rate, 1),
        "sent": produced.sent,
        "max_lag_s": round(max_lag, 2),
        "max_lag_by_function_s": worst,
        "lag_first_half_s": round(first, 2),
        "lag_second_half_s": round(second, 2),
        "sustained": sustained,
    }


def _drained(stack: LocalStack) -> bool:
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while time.monotonic() < deadline:
        if max(stack.lag().values(), default=0.0) == 0.0:
            time.sleep(1.0)  # and once more: a poller may not have read the last records yet
            if max(stack.lag().values(), default=0.0) == 0.0:
                return True
        time.sleep(SAMPLE_EVERY)
    return False
