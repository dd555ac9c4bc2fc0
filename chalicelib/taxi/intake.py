"""`POST /trips`: taxi trips in over HTTP, checked one by one, onto `taxi-trips`, once each.

A request carries up to 500 trips (`{"trips": [...]}`, each as on the
stream, see `chalicelib.taxi.records`). Every trip gets its own answer:

- `accepted`: valid, new, and now on the stream;
- `duplicate`: this trip id was accepted before with the same content (a
  client's retry): nothing is put again, so it is counted once;
- `rejected`: invalid, or a trip id already accepted with other content, or
  repeated within the request; `reason` says which;
- `failed`: valid, but the stream did not take it after retries; sending it
  again is safe.

Idempotence rests on `TaxiTripIds`, which remembers each accepted trip id
with a digest of the trip for a week (DynamoDB's TTL then drops it). A trip
is remembered after the stream took it, so a retry of a request that failed
half-way puts only what is not on the stream yet. What this cannot promise:
two requests carrying the same new trip at the same moment may both put it,
and a trip is forgotten after a week.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.adapters.streams import KinesisWriter
from chalicelib.errors import DeliveryError, InvalidParameter, StoreError, unavailable
from chalicelib.pipeline.events import Entry
from chalicelib.pipeline.jsonrecords import InvalidRecord, decode_object, kind
from chalicelib.taxi.ledger import TripLedger
from chalicelib.taxi.records import Trip, encode_trip, trip_from_json

log = logging.getLogger(__name__)

MAX_TRIPS = 500
MAX_BODY_BYTES = 1024 * 1024


@dataclass
class _Checked:
    index: int
    trip: Trip
    data: bytes
    digest: str


class TripIntake:
    """Checks a request's trips, puts the new valid ones on the stream, answers for each."""

    def __init__(
        self, ledger: TripLedger, stream: KinesisWriter, clock: Callable[[], float]
    ) -> None:
        self.ledger = ledger
        self.stream = stream
        self.clock = clock

    def post(self, body: str | bytes | None) -> tuple[int, dict[str, Any]]:
        """The HTTP status and body answering a `POST /trips` with `body`."""
        items = _trips_of(body)
        results: list[dict[str, Any]] = [{} for _ in items]
        checked: list[_Checked] = []
        first_seen: dict[str, int] = {}
        for index, item in enumerate(items):
            trip_id = item.get("TripId") if isinstance(item, dict) else None
            result = results[index]
            result.update(
                {"index": index, "tripId": trip_id if isinstance(trip_id, str) else None}
            )
            try:
                if not isinstance(item, dict):
                    raise InvalidRecord(f"a trip must be a JSON object, got {kind(item)}")
                trip = trip_from_json(item)
            except InvalidRecord as err:
                result.update({"status": "rejected", "reason": err.reason})
                continue
            if trip.trip_id in first_seen:
                result.update(
                    {
                        "status": "rejected",
                        "reason": f"TripId repeats trip {first_seen[trip.trip_id]} of the request",
                    }
                )
                continue
            first_seen[trip.trip_id] = index
            data = encode_trip(trip)
            checked.append(_Checked(index, trip, data, hashlib.sha256(data).hexdigest()))

        known = self._known([c.trip.trip_id for c in checked])
        new = []
        for c in checked:
            digest = known.get(c.trip.trip_id)
            if digest is None:
                new.append(c)
            elif digest == c.digest:
                results[c.index]["status"] = "duplicate"
            else:
                results[c.index].update(
                    {
                        "status": "rejected",
                        "reason": "TripId was accepted before with different content",
                    }
                )
        delivered = self._put(new)
        for c in new:
            if c.trip.trip_id in delivered:
                results[c.index]["status"] = "accepted"
            else:
                results[c.index].update(
                    {"status": "failed", "reason": "the stream did not take it; send it again"}
                )
        self._remember({c.trip.trip_id: c.digest for c in new if c.trip.trip_id in delivered})

        counts = dict.fromkeys(("accepted", "duplicate", "rejected", "failed"), 0)
        for result in results:
            counts[result["status"]] += 1
        log.info(
            "POST /trips: %d trips, %d accepted, %d duplicates, %d rejected, %d failed",
            len(items),
            *counts.values(),
        )
        status = 503 if counts["failed"] else 200
        return status, {**counts, "results": results}

    def _known(self, trip_ids: Sequence[str]) -> dict[str, str]:
        if not trip_ids:
            return {}
        try:
            return self.ledger.digests(trip_ids)
        except StoreError as err:
            # Nothing is put unless it is known to be new.
            then = "; nothing was accepted, send the request again"
            raise unavailable("the trip ledger", err, then) from None

    def _put(self, new: list[_Checked]) -> set[str]:
        """The trip ids of `new` that are on the stream now."""
        entries: list[Entry] = [(c.data, str(c.trip.pickup_zone)) for c in new]
        try:
            self.stream.put(entries)
        except DeliveryError as err:
            log.warning("POST /trips: %s", err)
            undelivered = {data for data, _ in err.undelivered}
            return {c.trip.trip_id for c in new if c.data not in undelivered}
        return {c.trip.trip_id for c in new}

    def _remember(self, accepted: dict[str, str]) -> None:
        if not accepted:
            return
        try:
            missed = self.ledger.remember(accepted, self.clock())
        except StoreError as err:
            missed = list(accepted)
            log.warning("POST /trips: %s", err)
        if missed:
            # They are on the stream and answered as accepted; only a retry of
            # them would now be counted twice.
            log.warning(
                "POST /trips: %d accepted trips not remembered (a retry would count them "
                "again): %s",
                len(missed),
                ", ".join(missed[:10]),
            )


def _trips_of(body: str | bytes | None) -> list[Any]:
    """The request's list of trips; InvalidParameter("body", ...) (HTTP 400) if there is none."""
    if isinstance(body, str):
        body = body.encode()
    if not body:
        raise InvalidParameter("body", 'must be a JSON object {"trips": [...]}, got nothing')
    if len(body) > MAX_BODY_BYTES:
        raise InvalidParameter("body", f"must be at most {MAX_BODY_BYTES} bytes")
    try:
        document = decode_object(body)
    except InvalidRecord as err:
        raise InvalidParameter(
            "body", f'must be a JSON object {{"trips": [...]}}, got {err.reason}'
        ) from None
    if not isinstance(document.get("trips"), list):
        raise InvalidParameter("body", 'must be a JSON object with a list "trips"')
    unknown = sorted(set(document) - {"trips"})
    if unknown:
        raise InvalidParameter("body", f'unknown field {unknown[0]!r}; it has only "trips"')
    trips: list[Any] = document["trips"]
    if not 1 <= len(trips) <= MAX_TRIPS:
        raise InvalidParameter("body", f"send 1 to {MAX_TRIPS} trips a request, got {len(trips)}")
    return trips
