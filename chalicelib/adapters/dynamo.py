"""DynamoDB through a low-level client: plain values in and out, batched calls retried.

What every store shares (each data set's `store`, `taxi.ledger`, `adapters.versioned`):
attribute values to and from plain Python (floats as exact decimals), and a
table whose batched reads and writes retry what DynamoDB leaves unprocessed,
raising StoreError, never botocore's errors.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError
from botocore.exceptions import ConnectionError as NoConnection

from chalicelib.adapters.backoff import backoff_delay
from chalicelib.errors import StoreError

log = logging.getLogger(__name__)

BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def unreachable_endpoint(err: BotoCoreError) -> str | None:
    """The endpoint URL of a connection that could not be made (or was lost), else None."""
    if isinstance(err, NoConnection):
        url = err.kwargs.get("endpoint_url")
        return str(url) if url else None
    return None


def to_attributes(value: dict[str, Any]) -> dict[str, Any]:
    """A plain dict as DynamoDB attribute values (floats become exact decimals)."""
    return {k: _serializer.serialize(_to_dynamo(v)) for k, v in value.items()}


def from_attributes(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values as plain Python: ints, floats, lists, dicts."""
    return {k: _from_dynamo(_deserializer.deserialize(v)) for k, v in item.items()}


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, set)):
        return [_from_dynamo(v) for v in value]
    return value


class Table:
    """Batched reads and writes with retries of what DynamoDB leaves unprocessed."""

    def __init__(
        self,
        client: Any,
        name: str,
        *,
        attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.client = client
        self.name = name
        self.attempts = attempts
        self.sleep = sleep
        self.rand = rand

    def call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(self.client, operation)(**kwargs)
        except ClientError as err:
            error = err.response.get("Error", {})
            raise StoreError(
                f"{operation} on table {self.name!r} failed: "
                f"{error.get('Code')}: {error.get('Message')}",
                code=error.get("Code"),
            ) from None
        except BotoCoreError as err:
            raise StoreError(
                f"{operation} on table {self.name!r} failed: {err}",
                unreachable=unreachable_endpoint(err),
            ) from None
        return result

    def _pause(self, attempt: int) -> None:
        self.sleep(backoff_delay(attempt, 0.05, 2.0, self.rand))

    def batch_get(self, keys: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Items for `keys` (missing ones are absent), read consistently."""
        items: list[dict[str, Any]] = []
        for start in range(0, len(keys), BATCH_GET_LIMIT):
            request = {
                self.name: {
                    "Keys": list(keys[start : start + BATCH_GET_LIMIT]),
                    "ConsistentRead": True,
                }
            }
            for attempt in range(1, self.attempts + 1):
                if attempt > 1:  # a pause before each retry, none after the last attempt
                    self._pause(attempt - 1)
                response = self.call("batch_get_item", RequestItems=request)
                items.extend(response.get("Responses", {}).get(self.name, []))
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
            if request:
                raise StoreError(
                    f"BatchGetItem on {self.name!r} left keys unprocessed "
                    f"after {self.attempts} attempts",
                    code="Unprocessed",
                )
        return items

    def batch_put(self, items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Write `items`; returns those that could not be written."""
        failed: list[dict[str, Any]] = []
        for start in range(0, len(items), BATCH_WRITE_LIMIT):
            chunk = list(items[start : start + BATCH_WRITE_LIMIT])
            requests = [{"PutRequest": {"Item": item}} for item in chunk]
            try:
                for attempt in range(1, self.attempts + 1):
                    if attempt > 1:  # a pause before each retry, none after the last attempt
                        log.info("%d items unprocessed by %s; retrying", len(requests), self.name)
                        self._pause(attempt - 1)
                    response = self.call("batch_write_item", RequestItems={self.name: requests})
                    requests = response.get("UnprocessedItems", {}).get(self.name, [])
                    if not requests:
                        break
            except StoreError as err:
                log.error("%s; %d items not written", err, len(requests))
            failed.extend(r["PutRequest"]["Item"] for r in requests)
        return failed
