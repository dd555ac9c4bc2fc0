"""DynamoDB storage of summaries (`UnicornSensorData`) and latest statuses (`UnicornStatus`).

Both stores take a low-level DynamoDB client and a table name, speak the
core's types (Summary, Status) and raise StoreError, never botocore errors.

Summary writes are batched with BatchWriteItem after reading what is stored
with BatchGetItem and merging (summaries.merge). That read-merge-write is safe
because one unicorn's summaries have one writer at a time: the summary stream
is partitioned by Name and Lambda keeps one batch in flight per shard.

Status writes are conditional on the version read, because the alert state is
decided by whoever wins that write (see chalicelib.pipeline.incidents).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from chalicelib.adapters.dynamo import Table, from_attributes, to_attributes
from chalicelib.adapters.versioned import VersionedStore
from chalicelib.unicorns.params import SummaryQuery
from chalicelib.unicorns.summaries import Summary, SummaryKey, summary_from_row
from chalicelib.unicorns.vitals import Incident, Status


class SummaryStore:
    """Per-unicorn, per-minute summaries keyed by (Name, StatusTime)."""

    def __init__(self, client: Any, table_name: str, **options: Any) -> None:
        self.table = Table(client, table_name, **options)

    def get_many(self, keys: Iterable[SummaryKey]) -> dict[SummaryKey, Summary]:
        wanted = [{"Name": {"S": n}, "StatusTime": {"S": t}} for n, t in keys]
        found = {}
        for item in self.table.batch_get(wanted):
            summary = _summary_from_item(item)
            found[summary.key] = summary
        return found

    def put_many(self, summaries: Sequence[Summary]) -> list[SummaryKey]:
        """Write the summaries; returns the keys of those not written."""
        failed = self.table.batch_put([_summary_to_item(s) for s in summaries])
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
            "TableName": self.table.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            # One more than asked for tells whether another page exists.
            "Limit": query.limit + 1,
        }
        while len(rows) <= query.limit:
            response = self.table.call("query", **kwargs)
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


class StatusStore(VersionedStore[Status]):
    """Each unicorn's latest status, alert state and undelivered notifications."""

    def __init__(self, client: Any, table_name: str, **options: Any) -> None:
        super().__init__(
            client,
            table_name,
            key="Name",
            to_row=Status.to_row,
            from_row=_status_from_row,
            **options,
        )


def _status_from_row(row: dict[str, Any]) -> Status:
    incident = row.get("Incident")
    return Status(
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
