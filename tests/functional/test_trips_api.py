"""`POST /trips` under moto: per-trip answers, the stream holding each accepted trip once."""

from __future__ import annotations

import json
from typing import Any

from chalice.test import Client

from chalicelib import bootstrap, names
from chalicelib.taxi.intake import MAX_TRIPS
from chalicelib.taxi.records import Trip, parse_trip
from tests.faults import fail_calls, refuse_kinesis_entries
from tests.functional.conftest import Aws
from tests.taxi_events import day_trips

HEADERS = {"Content-Type": "application/json"}


def trips(count: int) -> list[Trip]:
    return day_trips(8 * 3600, 9 * 3600)[:count]


def post(client: Client, body: Any) -> tuple[int, dict[str, Any]]:
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
    response = client.http.post("/trips", headers=HEADERS, body=raw)
    return response.status_code, json.loads(response.body)


def on_stream(aws: Aws) -> list[Trip]:
    return [parse_trip(r["Data"]) for r in aws.stream_records(names.TRIP_STREAM)]


def statuses(answer: dict[str, Any]) -> list[str]:
    return [r["status"] for r in answer["results"]]


def test_valid_trips_are_accepted_onto_the_stream_keyed_by_pickup_zone(
    client: Client, aws: Aws
) -> None:
    sent = trips(20)

    status, answer = post(client, {"trips": [t.to_json() for t in sent]})

    assert status == 200
    assert answer["accepted"] == 20
    assert statuses(answer) == ["accepted"] * 20
    assert [r["tripId"] for r in answer["results"]] == [t.trip_id for t in sent]
    assert on_stream(aws) == sent
    keys = [r["PartitionKey"] for r in aws.stream_records(names.TRIP_STREAM)]
    assert keys == [str(t.pickup_zone) for t in sent]


def test_sending_the_same_trips_again_puts_nothing_twice(client: Client, aws: Aws) -> None:
    body = {"trips": [t.to_json() for t in trips(10)]}
    post(client, body)

    status, answer = post(client, body)

    assert status == 200
    assert (answer["accepted"], answer["duplicate"]) == (0, 10)
    assert len(on_stream(aws)) == 10


def test_each_bad_trip_is_rejected_with_its_reason_and_the_good_ones_accepted(
    client: Client, aws: Aws
) -> None:
    good, other, earlier = trips(3)
    post(client, {"trips": [earlier.to_json()]})
    crowded = {**good.to_json(), "TripId": "crowded-1", "Passengers": 12}
    changed = {**earlier.to_json(), "Fare": earlier.fare + 1}

    status, answer = post(
        client,
        {"trips": [good.to_json(), crowded, "a string", other.to_json(), good.to_json(), changed]},
    )

    assert status == 200
    assert statuses(answer) == [
        "accepted",
        "rejected",
        "rejected",
        "accepted",
        "rejected",
        "rejected",
    ]
    reasons = [r.get("reason") for r in answer["results"]]
    assert "Passengers must be an integer from 0 to 9" in reasons[1]
    assert reasons[1].endswith("got integer 12")
    assert reasons[2] == "a trip must be a JSON object, got string"
    assert reasons[4] == "TripId repeats trip 0 of the request"
    assert reasons[5] == "TripId was accepted before with different content"
    assert answer["results"][1]["tripId"] == "crowded-1"
    assert (answer["accepted"], answer["rejected"]) == (2, 4)
    assert on_stream(aws) == [earlier, good, other]


def test_trips_the_stream_refused_are_named_and_a_retry_sends_only_those(
    client: Client, aws: Aws
) -> None:
    sent = trips(6)
    refused_ids = {sent[1].trip_id, sent[4].trip_id}
    kinesis = bootstrap.services().clients.get("kinesis")
    refuse_kinesis_entries(kinesis, lambda e: any(i.encode() in e["Data"] for i in refused_ids))
    body = {"trips": [t.to_json() for t in sent]}

    status, answer = post(client, body)

    assert status == 503
    assert statuses(answer) == ["accepted", "failed", "accepted", "accepted", "failed", "accepted"]
    assert answer["results"][1]["reason"] == "the stream did not take it; send it again"
    bootstrap.reset()  # fresh clients, without the refusing hooks

    status, answer = post(client, body)

    assert status == 200
    assert statuses(answer) == [
        "duplicate",
        "accepted",
        "duplicate",
        "duplicate",
        "accepted",
        "duplicate",
    ]
    assert sorted(t.trip_id for t in on_stream(aws)) == sorted(t.trip_id for t in sent)


def test_when_the_ledger_cannot_be_read_nothing_is_put(client: Client, aws: Aws) -> None:
    fail_calls(
        bootstrap.services().clients.get("dynamodb"),
        "dynamodb.BatchGetItem",
        "InternalServerError",
    )

    response = client.http.post(
        "/trips", headers=HEADERS, body=json.dumps({"trips": [t.to_json() for t in trips(3)]})
    )

    assert response.status_code == 503
    assert "send the request again" in json.loads(response.body)["Message"]
    assert on_stream(aws) == []


def test_requests_that_are_not_a_batch_of_trips_are_refused_whole(
    client: Client, aws: Aws
) -> None:
    one = trips(1)[0].to_json()
    for body, message in [
        ("", 'body: must be a JSON object {"trips": [...]}, got nothing'),
        ("{not json", "body: must be a JSON object"),
        ("[]", "body: must be a JSON object"),
        ({"trip": [one]}, 'a list "trips"'),
        ({"trips": [one], "extra": 1}, "unknown field 'extra'"),
        ({"trips": []}, f"send 1 to {MAX_TRIPS} trips a request, got 0"),
        ({"trips": [one] * (MAX_TRIPS + 1)}, f"got {MAX_TRIPS + 1}"),
    ]:
        status, answer = post(client, body)
        assert status == 400, body
        assert answer["Code"] == "InvalidParameter"
        assert message in answer["Message"], (body, answer)
    assert on_stream(aws) == []
