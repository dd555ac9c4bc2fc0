"""DynamoDB storage of summaries (`UnicornSensorData`) and latest statuses (`UnicornStatus`).

Both stores take a low-level DynamoDB client and a table name, speak the
core's types (Summary, Status) and raise StoreError, never botocore errors.

Summary writes are batched with BatchWriteItem after reading what is stored
with BatchGetItem and merging (summaries.merge). That read-merge-write is safe
because one unicorn's summaries have one writer at a time: the summary stream
is partitioned by Name and Lambda keeps one batch in flight per shard.

Status writes are conditional on the version read, because the alert state is
decided by whoever wins that write (see vitals_monitor.VitalsMonitor).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.alerts import Notification
from chalicelib.errors import StoreError
from chalicelib.params import SummaryQuery
from chalicelib.streams import backoff_delay
from chalicelib.summaries import Summary, SummaryKey, summary_from_row
from chalicelib.vitals import Incident, Status

log = logging.getLogger(__name__)

BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


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
        table_name: str,
        *,
        attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.client = client
        self.table_name = table_name
        self.attempts = attempts
        self.sleep = sleep
        self.rand = rand

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(self.client, operation)(**kwargs)
        except ClientError as err:
            error = err.response.get("Error", {})
            raise StoreError(
                f"{operation} on table {self.table_name!r} failed: "
                f"{error.get('Code')}: {error.get('Message')}",
                code=error.get("Code"),
            ) from None
        except BotoCoreError as err:
            raise StoreError(f"{operation} on table {self.table_name!r} failed: {err}") from None
        return result

    def _pause(self, attempt: int) -> None:
        self.sleep(backoff_delay(attempt, 0.05, 2.0, self.rand))

    def batch_get(self, keys: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Items for `keys` (missing ones are absent), read consistently."""
        items: list[dict[str, Any]] = []
        for start in range(0, len(keys), BATCH_GET_LIMIT):
            request = {
                self.table_name: {
                    "Keys": list(keys[start : start + BATCH_GET_LIMIT]),
                    "ConsistentRead": True,
                }
            }
            for attempt in range(1, self.attempts + 1):
                response = self._call("batch_get_item", RequestItems=request)
                items.extend(response.get("Responses", {}).get(self.table_name, []))
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                self._pause(attempt)
            if request:
                raise StoreError(
                    f"BatchGetItem on {self.table_name!r} left keys unprocessed "
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
                    response = self._call(
                        "batch_write_item", RequestItems={self.table_name: requests}
                    )
                    requests = response.get("UnprocessedItems", {}).get(self.table_name, [])
                    if not requests:
                        break
                    log.info(
                        "%d items unprocessed by %s; retrying", len(requests), self.table_name
                    )
                    self._pause(attempt)
            except StoreError as err:
                log.error("%s; %d items not written", err, len(requests))
            failed.extend(r["PutRequest"]["Item"] for r in requests)
        return failed


class SummaryStore(Table):
    """Per-unicorn, per-minute summaries keyed by (Name, StatusTime)."""

    def get_many(self, keys: Iterable[SummaryKey]) -> dict[SummaryKey, Summary]:
        wanted = [{"Name": {"S": n}, "StatusTime": {"S": t}} for n, t in keys]
        found = {}
        for item in self.batch_get(wanted):
            summary = _summary_from_item(item)
            found[summary.key] = summary
        return found

    def put_many(self, summaries: Sequence[Summary]) -> list[SummaryKey]:
        """Write the summaries; returns the keys of those not written."""
        failed = self.batch_put([_summary_to_item(s) for s in summaries])
        return [(item["Name"]["S"], item["StatusTime"]["S"]) for item in failed]

    def query(self, query: SummaryQuery) -> tuple[list[Summary], bool]:
        """A page of one unicorn's summaries in time order, and whether more follow."""
        names = {"#n": "Name", "#t": "StatusTime"}
        values: dict[str, Any] = {":n": {"S": query.name}}
        condition = "#n = :n"
        low = query.start
        if query.after is not None and (low is None or query.after >= low):
            low = query.after + "\x00"  # strictly after the last row returned
        if low is not None and query.end is not None and low > query.end:
            return [], False
        if low is not None and query.end is not None:
            condition += " AND #t BETWEEN :low AND :high"
            values.update({":low": {"S": low}, ":high": {"S": query.end}})
        elif low is not None:
            condition += " AND #t >= :low"
            values[":low"] = {"S": low}
        elif query.end is not None:
            condition += " AND #t <= :high"
            values[":high"] = {"S": query.end}
        if "#t" not in condition:
            del names["#t"]  # DynamoDB refuses names an expression does not use
        rows: list[Summary] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            # One more than asked for tells whether another page exists.
            "Limit": query.limit + 1,
        }
        while len(rows) <= query.limit:
            response = self._call("query", **kwargs)
            rows.extend(_summary_from_item(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return rows[: query.limit], len(rows) > query.limit


def _summary_to_item(summary: Summary) -> dict[str, Any]:
    item = to_attributes(summary.to_row())
    item["SummaryIds"] = {"SS": sorted(summary.summary_ids)}
    return item


def _summary_from_item(item: dict[str, Any]) -> Summary:
    row = from_attributes(item)
    return summary_from_row(row, row.pop("SummaryIds", []))


@dataclass(frozen=True)
class Pending:
    """A notification waiting in a status item's outbox, and when it was last claimed."""

    notification: Notification
    claimed_at: float


@dataclass(frozen=True)
class StatusRecord:
    """A stored status with its version and outbox."""

    status: Status
    version: int
    outbox: dict[str, Pending] = field(default_factory=dict)


class StatusStore(Table):
    """Each unicorn's latest status, alert state and undelivered notifications."""

    def get_many(self, names: Iterable[str]) -> dict[str, StatusRecord]:
        records = [
            _status_from_item(i) for i in self.batch_get([{"Name": {"S": n}} for n in names])
        ]
        return {r.status.name: r for r in records}

    def get(self, name: str) -> StatusRecord | None:
        response = self._call(
            "get_item", TableName=self.table_name, Key={"Name": {"S": name}}, ConsistentRead=True
        )
        item = response.get("Item")
        return _status_from_item(item) if item else None

    def save(
        self, status: Status, outbox: dict[str, Pending], expected_version: int | None
    ) -> bool:
        """Write `status` if the stored version is still `expected_version`.

        None means "only if no item exists yet". Returns False when another
        writer got there first; the caller re-reads and decides again.
        """
        item = _status_to_item(status, outbox, (expected_version or 0) + 1)
        if expected_version is None:
            condition = "attribute_not_exists(#n)"
            names = {"#n": "Name"}
            values = None
        else:
            condition = "#v = :v"
            names = {"#v": "Version"}
            values = {":v": {"N": str(expected_version)}}
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": item,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
        }
        if values:
            kwargs["ExpressionAttributeValues"] = values
        try:
            self._call("put_item", **kwargs)
        except StoreError as err:
            if err.code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def remove_from_outbox(self, name: str, notification_ids: Sequence[str]) -> None:
        """Forget delivered notifications.

        The version goes up too: a writer that read the item before this
        removal must fail its conditional write and read again, or it would
        put the delivered notifications back and they would be sent twice.
        """
        names = {
            "#o": "Outbox",
            "#v": "Version",
            **{f"#i{n}": i for n, i in enumerate(notification_ids)},
        }
        removals = ", ".join(f"#o.#i{n}" for n in range(len(notification_ids)))
        try:
            self._call(
                "update_item",
                TableName=self.table_name,
                Key={"Name": {"S": name}},
                UpdateExpression=f"REMOVE {removals} SET #v = #v + :one",
                # Without it, updating a deleted item would create an empty one.
                ConditionExpression="attribute_exists(#o)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
        except StoreError as err:
            if err.code != "ConditionalCheckFailedException":
                raise

    def scan(self, alerting_only: bool = False) -> list[Status]:
        """Every stored status (the fleet is small: one item per unicorn)."""
        kwargs: dict[str, Any] = {"TableName": self.table_name}
        if alerting_only:
            kwargs["FilterExpression"] = "#a = :a"
            kwargs["ExpressionAttributeNames"] = {"#a": "AlertState"}
            kwargs["ExpressionAttributeValues"] = {":a": {"S": "alert"}}
        statuses: list[Status] = []
        while True:
            response = self._call("scan", **kwargs)
            statuses.extend(_status_from_item(i).status for i in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return statuses
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _status_to_item(status: Status, outbox: dict[str, Pending], version: int) -> dict[str, Any]:
    row = status.to_row()
    row["Version"] = version
    row["Outbox"] = {
        key: {
            "Subject": p.notification.subject,
            "Message": p.notification.message,
            "Attributes": p.notification.attributes,
            "At": p.notification.at,
            "ClaimedAt": p.claimed_at,
        }
        for key, p in outbox.items()
    }
    return to_attributes(row)


def _status_from_item(item: dict[str, Any]) -> StatusRecord:
    row = from_attributes(item)
    incident = row.get("Incident")
    status = Status(
        name=row["Name"],
        status_time=row["StatusTime"],
        latitude=float(row["Latitude"]),
        longitude=float(row["Longitude"]),
        distance=float(row["Distance"]),
        health=int(row["HealthPoints"]),
        magic=int(row["MagicPoints"]),
        low_vitals=tuple(row.get("LowVitals", ())),
        incident=None
        if not incident
        else Incident(incident["Id"], incident["StartedAt"], tuple(incident["Vitals"])),
        seen_at=float(row.get("SeenAt", 0)),
    )
    outbox = {
        key: Pending(
            Notification(
                id=key,
                subject=entry["Subject"],
                message=entry["Message"],
                attributes=entry["Attributes"],
                at=entry["At"],
            ),
            float(entry["ClaimedAt"]),
        )
        for key, entry in (row.get("Outbox") or {}).items()
    }
    return StatusRecord(status, int(row.get("Version", 0)), outbox)
