"""Invoking a function's handler in-process, the way Lambda would.

The handler is the module attribute Lambda would call (`app.aggregate` is
Chalice's wrapper around the decorated function). Each call gets a realistic
context (function name and ARN, request id, memory, remaining time), runs
with the function's own environment variables, and its result is judged as
Lambda judges it: an exception is a function error (logged with its
traceback), a run past the timeout is a timeout, and a result that is not
JSON is a marshalling error.
"""

from __future__ import annotations

import json
import logging
import os
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass(frozen=True)
class FunctionSpec:
    """A deployed function as the runtime sees it."""

    name: str  # the app's name for it, e.g. "aggregate"
    deployed_name: str  # what Lambda calls it, e.g. "wildrydes-local-aggregate"
    arn: str
    handler: Handler
    environment: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 60.0
    memory: int = 128
    role_arn: str = ""


class LambdaContext:
    """The context object a Python handler receives."""

    def __init__(self, spec: FunctionSpec, request_id: str, clock: Callable[[], float]) -> None:
        self.function_name = spec.deployed_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        self.memory_limit_in_mb = spec.memory
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{spec.deployed_name}"
        self.log_stream_name = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{request_id[:32]}"
        self._deadline = clock() + spec.timeout
        self._clock = clock

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self._clock()) * 1000))


@dataclass(frozen=True)
class Outcome:
    """What one invocation came to."""

    request_id: str
    payload: Any  # the handler's result when `error` is None
    error: str | None  # Lambda's view of the failure, e.g. "Unhandled: ValueError: ..."
    duration: float

    @property
    def ok(self) -> bool:
        return self.error is None


@contextmanager
def environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Run with `variables` set in os.environ, restoring it afterwards.

    Safe because the runtime invokes one handler at a time on one thread.
    """
    saved = {key: os.environ.get(key) for key in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class Invoker:
    """Calls handlers and reports outcomes; counts what it did.

    `prepare`, if given, is called with the spec in the function's environment
    just before its handler (the stack gives each function its own clients there).
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        prepare: Callable[[FunctionSpec], None] | None = None,
    ) -> None:
        self.clock = clock
        self.prepare = prepare
        self.invocations = 0
        self.errors = 0

    def invoke(self, spec: FunctionSpec, event: dict[str, Any]) -> Outcome:
        request_id = str(uuid.uuid4())
        context = LambdaContext(spec, request_id, self.clock)
        started = self.clock()
        self.invocations += 1
        error = None
        payload: Any = None
        with environment(spec.environment):
            try:
                if self.prepare is not None:
                    self.prepare(spec)
                payload = spec.handler(event, context)
            except Exception as err:  # noqa: BLE001 - any exception is a function error
                error = f"Unhandled: {type(err).__name__}: {err}"
                log.error(
                    "%s %s failed:\n%s",
                    spec.deployed_name,
                    request_id,
                    "".join(traceback.format_exception(err)).rstrip(),
                )
        duration = self.clock() - started
        if error is None and duration > spec.timeout:
            error = f"Task timed out after {spec.timeout:.2f} seconds"
            log.error("%s %s: %s", spec.deployed_name, request_id, error)
        if error is None:
            try:
                json.dumps(payload)
            except (TypeError, ValueError) as err:
                error = f"Runtime.MarshalError: the response is not JSON ({err})"
                log.error("%s %s: %s", spec.deployed_name, request_id, error)
        if error is not None:
            self.errors += 1
        return Outcome(request_id, payload, error, duration)
