"""The project's own exceptions, so that no raw botocore error leaks upward.

The API ones derive from Chalice's view errors: Chalice turns them into a JSON
body `{"Code": ..., "Message": ...}` with their status code and never a trace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

from chalice.app import BadRequestError, ChaliceViewError, NotFoundError

T = TypeVar("T")

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class ConfigurationError(Exception):
    """A setting is missing or malformed; the message names it."""


class AwsError(Exception):
    """An AWS call failed after retries; `code` is AWS's error code if any, `unreachable`
    the endpoint URL if nothing answered there."""

    def __init__(
        self, message: str, code: str | None = None, *, unreachable: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.unreachable = unreachable


class StoreError(AwsError):
    """DynamoDB could not be read or written."""


class DeliveryError(AwsError):
    """Records could not be put on a stream; `failed` counts those not delivered.

    `undelivered` holds them (data, partition key) when the writer knows which
    they are; the others of the same `put` are on the stream.
    """

    def __init__(
        self,
        message: str,
        failed: int,
        code: str | None = None,
        undelivered: list[tuple[bytes, str]] | None = None,
    ) -> None:
        super().__init__(message, code)
        self.failed = failed
        self.undelivered = undelivered if undelivered is not None else []


class PublishError(AwsError):
    """A notification could not be published."""


class DeadLetterError(AwsError):
    """Rejected records could not be kept; the batch must be retried."""


class ArchiveError(AwsError):
    """The archive bucket could not be read or a report could not be written to it."""


class InvalidParameter(BadRequestError):
    """A query or path parameter of an API request is malformed (HTTP 400)."""

    def __init__(self, parameter: str, problem: str) -> None:
        super().__init__(f"{parameter}: {problem}")
        self.parameter = parameter


class UnicornNotFound(NotFoundError):
    """No unicorn by that name has reported (HTTP 404)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no unicorn named {name!r} has reported")


class ServiceUnavailable(ChaliceViewError):
    """A backing store is not reachable right now (HTTP 503)."""

    STATUS_CODE = 503


def unavailable(data: str, err: AwsError, then: str = "") -> ServiceUnavailable:
    """The 503 of a request that needed `data` and met `err`; `then` says what to do next.

    No answer from an endpoint on this machine is the local stack not running:
    the message says where it looked and how to start it.
    """
    if err.unreachable:
        reason = f": no answer from the AWS endpoint {err.unreachable}"
        if urlsplit(err.unreachable).hostname in LOOPBACK:
            reason += " (the local stack: is it running? `make up` starts it)"
    else:
        reason = f" ({err.code})" if err.code else ""
    return ServiceUnavailable(f"{data} is not reachable right now{reason}{then}")


def available(read: Callable[[], T], data: str) -> T:
    """What `read()` returns; a StoreError from it becomes ServiceUnavailable naming `data`."""
    try:
        return read()
    except StoreError as err:
        raise unavailable(data, err) from None
