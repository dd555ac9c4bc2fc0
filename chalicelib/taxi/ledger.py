"""The trip ids `POST /trips` accepted (`TaxiTripIds`), so that a client's retry is put once.

Each id is kept with a digest of the trip accepted under it for a week, after
which DynamoDB's TTL drops it (see `chalicelib.taxi.intake`). Its own module,
so that the API's cold start for `POST /trips` loads only this table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.adapters.dynamo import Table

REMEMBER_SECONDS = 7 * 24 * 3600


class TripLedger:
    """Accepted trip ids and the digest of what was accepted under each."""

    def __init__(self, client: Any, table_name: str, **options: Any) -> None:
        self.table = Table(client, table_name, **options)

    def digests(self, trip_ids: Iterable[str]) -> dict[str, str]:
        items = self.table.batch_get([{"TripId": {"S": i}} for i in trip_ids])
        return {item["TripId"]["S"]: item["Digest"]["S"] for item in items}

    def remember(self, accepted: Mapping[str, str], now: float) -> list[str]:
        """Record the trip ids with their digests; returns the ids not recorded."""
        expires = str(int(now) + REMEMBER_SECONDS)
        items = [
            {
                "TripId": {"S": trip_id},
                "Digest": {"S": digest},
                "AcceptedAt": {"N": str(int(now))},
                "ExpiresAt": {"N": expires},
            }
            for trip_id, digest in accepted.items()
        ]
        return [item["TripId"]["S"] for item in self.table.batch_put(items)]
