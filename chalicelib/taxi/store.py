"""The taxi data set's DynamoDB tables behind its functions: insights and fare alerts.

Insights, one item per pickup zone and window, are keyed by `Zone` (a
number) and `WindowStart`, so a zone's fare trend is one query; the `ByDay`
index (`Day`, `WindowStart`) holds every zone's windows of a day, so a day's
peaks are one query too. Items keep the sums and the ids of the partials they
hold (`Parts`), which is what makes merging idempotent.

Fare alerts (`TaxiFareAlerts`) hold each zone's state as the fare watch
left it, written conditionally (see `chalicelib.pipeline.incidents`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from chalicelib import names
from chalicelib.adapters.dynamo import Table, from_attributes, to_attributes
from chalicelib.adapters.versioned import VersionedStore
from chalicelib.taxi.fares import ZoneFares, zone_fares_from_row
from chalicelib.taxi.summaries import SUMS, ZoneWindow

# A query's longest answer: 96 windows a day of every one of 265 zones.
MAX_ITEMS = 96 * 265

ZoneWindowKey = tuple[int, str]


def _key(zone: int, start: str) -> dict[str, Any]:
    return {"Zone": {"N": str(zone)}, "WindowStart": {"S": start}}


def to_item(window: ZoneWindow) -> dict[str, Any]:
    row: dict[str, Any] = {
        "Zone": window.zone,
        "WindowStart": window.window_start,
        "Day": window.window_start[:10],
    }
    row.update({name: getattr(window, attribute) for name, attribute in SUMS.items()})
    item = to_attributes(row)
    item["Parts"] = {"SS": sorted(window.parts)}
    return item


def from_item(item: dict[str, Any]) -> ZoneWindow:
    row = from_attributes(item)
    return ZoneWindow(
        zone=int(row["Zone"]),
        window_start=row["WindowStart"],
        parts=frozenset(row.get("Parts", ())),
        **{attribute: int(row.get(name, 0)) for name, attribute in SUMS.items()},
    )


class ZoneWindowStore:
    """Taxi insights keyed by (Zone, WindowStart), with a by-day index."""

    def __init__(self, client: Any, table_name: str, **options: Any) -> None:
        self.table = Table(client, table_name, **options)

    def get_many(self, keys: Iterable[ZoneWindowKey]) -> dict[ZoneWindowKey, ZoneWindow]:
        found = {}
        for item in self.table.batch_get([_key(zone, start) for zone, start in keys]):
            window = from_item(item)
            found[window.key] = window
        return found

    def put_many(self, windows: Sequence[ZoneWindow]) -> list[ZoneWindowKey]:
        """Write the windows; returns the keys of those not written."""
        failed = self.table.batch_put([to_item(w) for w in windows])
        return [(int(item["Zone"]["N"]), item["WindowStart"]["S"]) for item in failed]

    def zone(self, zone: int, start: str, end: str) -> list[ZoneWindow]:
        """A zone's windows starting from `start` up to `end` (inclusive), in time order."""
        return self._query(
            ConsistentRead=True,  # the fare watch reads what persist_insights just wrote
            KeyConditionExpression="#z = :z AND #t BETWEEN :low AND :high",
            ExpressionAttributeNames={"#z": "Zone", "#t": "WindowStart"},
            ExpressionAttributeValues={
                ":z": {"N": str(zone)},
                ":low": {"S": start},
                ":high": {"S": end},
            },
        )

    def day(self, day: str) -> list[ZoneWindow]:
        """Every zone's windows of a day (YYYY-MM-DD), in time order."""
        return self._query(
            IndexName=names.INSIGHT_BY_DAY_INDEX,
            KeyConditionExpression="#d = :d",
            ExpressionAttributeNames={"#d": "Day"},
            ExpressionAttributeValues={":d": {"S": day}},
        )

    def _query(self, **kwargs: Any) -> list[ZoneWindow]:
        kwargs["TableName"] = self.table.name
        windows: list[ZoneWindow] = []
        while len(windows) < MAX_ITEMS:
            response = self.table.call("query", **kwargs)
            windows.extend(from_item(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return windows[:MAX_ITEMS]


class FareAlertStore(VersionedStore[ZoneFares]):
    """Each zone's fare baseline, alert state and undelivered notifications (`TaxiFareAlerts`)."""

    def __init__(self, client: Any, table_name: str, **options: Any) -> None:
        super().__init__(
            client,
            table_name,
            key="Zone",
            to_row=ZoneFares.to_row,
            from_row=zone_fares_from_row,
            **options,
        )
