"""What the functions tell CloudWatch: one JSON object per log line, and EMF metrics.

In Lambda every line a function writes to stdout goes to its log group. A
log line rendered by `JsonFormatter` can be searched by field in Logs
Insights; a line in embedded metric format (`Metrics.flush`) is also turned
into CloudWatch metrics by Lambda, with no PutMetricData call and no extra
permission. `bind` records the invocation's request id and function name,
which both carry.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

LOGGER = "chalicelib"  # every function logs through this logger's children
DEFAULT_NAMESPACE = "WildRydes"
DIMENSION = "Function"

Unit = Literal["Count", "Milliseconds", "Bytes"]

# What every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


@dataclass(frozen=True)
class Invocation:
    request_id: str | None
    function_name: str | None


_invocation: ContextVar[Invocation | None] = ContextVar("invocation", default=None)


def current() -> Invocation | None:
    """The invocation bound by `bind`, if any."""
    return _invocation.get()


@contextmanager
def bind(context: object) -> Iterator[Invocation]:
    """For the duration, log lines and metrics name the invocation of this Lambda context."""
    invocation = Invocation(
        _text(getattr(context, "aws_request_id", None)),
        _text(getattr(context, "function_name", None)),
    )
    token = _invocation.set(invocation)
    try:
        yield invocation
    finally:
        _invocation.reset(token)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON: level, message, logger, time, invocation, extras."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "time": _iso_time(record.created),
        }
        invocation = current()
        if invocation is not None:
            if invocation.request_id:
                document["request_id"] = invocation.request_id
            if invocation.function_name:
                document["function"] = invocation.function_name
        if record.exc_info:
            document["exception"] = "".join(traceback.format_exception(*record.exc_info))
        elif record.exc_text:
            document["exception"] = record.exc_text
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in document:
                document[key] = _json_safe(value)
        # json.dumps escapes newlines: a traceback stays on the one line.
        return json.dumps(document, separators=(",", ":"))


def _iso_time(created: float) -> str:
    moment = datetime.fromtimestamp(created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _json_safe(value: object) -> object:
    try:
        json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        return repr(value)  # a log call must never fail because of what it carries
    return value


class JsonHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler `configure_logging` adds; its class marks it as ours."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)
        self.setFormatter(JsonFormatter())


def configure_logging(log_format: str) -> None:
    """Render the functions' log lines as JSON when `log_format` is "json".

    Lambda's runtime puts a handler of its own on the root logger. Ours goes
    on the `chalicelib` logger, which then stops propagating, so each record
    is written once, by ours, and Lambda's text handler keeps the lines of
    other libraries. If someone else has put a handler on that logger (the
    local runtime writes `functions.log` so), it is left as it is.
    """
    logger = logging.getLogger(LOGGER)
    ours = [h for h in logger.handlers if isinstance(h, JsonHandler)]
    others = [h for h in logger.handlers if not isinstance(h, JsonHandler)]
    if log_format == "json" and not others:
        if not ours:
            logger.addHandler(JsonHandler())
        logger.propagate = False
        return
    for handler in ours:
        logger.removeHandler(handler)
    if ours and not others:
        logger.propagate = True


_METRIC_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,254}")


class Metrics:
    """One invocation's metrics, written by `flush` as one line in embedded metric format."""

    def __init__(
        self,
        function: str,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        enabled: bool = True,
        clock: Callable[[], float] = time.time,
        write: Callable[[str], None] | None = None,
    ) -> None:
        self.function = function  # the dimension's value unless an invocation is bound
        self.namespace = namespace
        self.enabled = enabled
        self.clock = clock
        self.write = write or _print
        self.values: dict[str, tuple[float, Unit]] = {}
        self._lock = threading.Lock()

    def count(self, name: str, value: int = 1) -> None:
        """Add `value` to the counter `name` (a Count); safe from several threads."""
        with self._lock:
            previous = self.values.get(name, (0, "Count"))[0]
            self.put(name, previous + value, "Count")

    def put(self, name: str, value: float, unit: Unit) -> None:
        if _METRIC_NAME.fullmatch(name) is None or name == DIMENSION:
            raise ValueError(f"{name!r} cannot be a metric name")
        self.values[name] = (value, unit)

    def iterator_lag(self, newest_arrival: float) -> None:
        """How far behind the stream the function is: now − the newest record's arrival."""
        lag = max(0, round((self.clock() - newest_arrival) * 1000))
        self.put("IteratorLagMs", lag, "Milliseconds")

    def document(self) -> dict[str, Any]:
        """The EMF document of the values so far."""
        invocation = current()
        function = (invocation.function_name if invocation else None) or self.function
        return {
            "_aws": {
                "Timestamp": int(self.clock() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": self.namespace,
                        "Dimensions": [[DIMENSION]],
                        "Metrics": [
                            {"Name": name, "Unit": unit} for name, (_, unit) in self.values.items()
                        ],
                    }
                ],
            },
            DIMENSION: function,
            **{name: value for name, (value, _) in self.values.items()},
        }

    def flush(self) -> None:
        """Write the values (if enabled and there are any), then forget them."""
        if self.enabled and self.values:
            self.write(json.dumps(self.document(), separators=(",", ":")))
        self.values.clear()


def _print(line: str) -> None:
    print(line, flush=True)


MetricsFactory = Callable[[str], Metrics]


def no_metrics(function: str) -> Metrics:
    """Metrics that are never written: the default where none are wired."""
    return Metrics(function, enabled=False)
