"""The read API through Chalice: fleet, one unicorn, its history by page, alerts, errors."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import bootstrap, names
from chalicelib.unicorns.records import encode_reading
from chalicelib.unicorns.summaries import Summary
from tests.functional.conftest import Aws
from tests.lambda_events import kinesis_event, kinesis_record
from tests.readings import minute_summary, reading

MINUTE_ZERO = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
# After the readings' StatusTimes: one stamped more than 5 minutes after its arrival is refused.
ARRIVAL = datetime(2026, 11, 22, 14, 10, tzinfo=UTC).timestamp()


def get(client: Client, path: str) -> tuple[int, dict[str, Any]]:
    response = client.http.get(path)
    return response.status_code, json.loads(response.body)


def report(*readings: Any) -> dict[str, Any]:
    return kinesis_event(
        [
            kinesis_record(encode_reading(r), str(n + 1), r.name, ARRIVAL + n)
            for n, r in enumerate(readings)
        ]
    )


def minutes(name: str, count: int) -> list[Summary]:
    return [
        minute_summary(name, MINUTE_ZERO + timedelta(minutes=n), n, distance=1800.0 + n)
        for n in range(count)
    ]


@pytest.fixture
def fleet(client: Client, aws: Aws) -> Client:
    client.lambda_.invoke(
        "vitals",
        report(
            reading("Shadowfax", "2026-11-22 14:05:00.000", health=150),
            reading("Rocinante", "2026-11-22 14:05:00.100", magic=97),
            reading("Pegasus", "2026-11-22 14:05:00.200"),
        ),
    )
    store = bootstrap.services().summary_store
    assert store.put_many(minutes("Shadowfax", 150) + minutes("Rocinante", 3)) == []
    aws.emails()
    return client


def test_health(client: Client) -> None:
    assert get(client, "/health") == (200, {"status": "ok"})


def test_the_fleet_lists_every_unicorn_with_its_alert_state(fleet: Client) -> None:
    status, body = get(fleet, "/unicorns")
    assert status == 200
    assert body["count"] == 3
    assert [(u["Name"], u["AlertState"]) for u in body["unicorns"]] == [
        ("Pegasus", "ok"),
        ("Rocinante", "alert"),
        ("Shadowfax", "ok"),
    ]
    rocinante = body["unicorns"][1]
    assert rocinante["MagicPoints"] == 97 and rocinante["LowVitals"] == ["MagicPoints"]
    assert rocinante["Incident"]["StartedAt"] == "2026-11-22 14:05:00.100"
    assert "Outbox" not in rocinante and "Version" not in rocinante


def test_one_unicorn_and_404_for_an_unknown_one(fleet: Client) -> None:
    status, body = get(fleet, "/unicorns/Shadowfax")
    assert status == 200
    assert (body["Name"], body["HealthPoints"], body["StatusTime"]) == (
        "Shadowfax",
        150,
        "2026-11-22 14:05:00.000",
    )
    status, body = get(fleet, "/unicorns/Glue%20Factory")
    assert status == 404
    assert body == {
        "Code": "UnicornNotFound",
        "Message": "no unicorn named 'Glue Factory' has reported",
    }


def test_summaries_page_through_in_time_order_with_an_opaque_token(fleet: Client) -> None:
    seen: list[str] = []
    path = "/unicorns/Shadowfax/summaries?limit=60"
    pages = 0
    while path:
        status, body = get(fleet, path)
        assert status == 200
        pages += 1
        seen.extend(row["StatusTime"] for row in body["summaries"])
        path = body["next"] and f"/unicorns/Shadowfax/summaries?limit=60&next={body['next']}"
    assert pages == 3
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 150
    assert seen[0] == "2026-11-22 12:00:00.000"


def test_summaries_between_two_times(fleet: Client) -> None:
    status, body = get(
        fleet,
        "/unicorns/Shadowfax/summaries?from=2026-11-22T13:00:00Z&to=2026-11-22%2013:05:00.000",
    )
    assert status == 200
    assert [row["StatusTime"][11:16] for row in body["summaries"]] == [
        "13:00",
        "13:01",
        "13:02",
        "13:03",
        "13:04",
    ]
    assert body["summaries"][0]["Distance"] == 1860.0
    assert body["next"] is None


def test_a_known_unicorn_without_summaries_has_an_empty_history(fleet: Client) -> None:
    assert get(fleet, "/unicorns/Pegasus/summaries") == (
        200,
        {"unicorn": "Pegasus", "summaries": [], "count": 0, "next": None},
    )
    assert get(fleet, "/unicorns/Nobody/summaries")[0] == 404


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("from=last%20tuesday", "from"),
        ("limit=5000", "limit"),
        ("next=bm90LWEtdG9rZW4", "next"),
        ("from=2026-11-22T14:00Z&to=2026-11-22T13:00Z", "to"),
        ("since=2026-11-22", "since"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(fleet: Client, query: str, parameter: str) -> None:
    status, body = get(fleet, f"/unicorns/Shadowfax/summaries?{query}")
    assert status == 400
    assert body["Code"] == "InvalidParameter"
    assert body["Message"].startswith(f"{parameter}: ")


def test_open_alerts_are_the_unicorns_in_an_incident(fleet: Client) -> None:
    status, body = get(fleet, "/alerts")
    assert status == 200
    assert [a["Name"] for a in body["alerts"]] == ["Rocinante"]
    fleet.lambda_.invoke(
        "vitals", report(reading("Rocinante", "2026-11-22 14:05:09.000", magic=120))
    )
    assert get(fleet, "/alerts")[1] == {"alerts": [], "count": 0}


def test_an_unreachable_table_is_a_503_without_a_stack_trace(client: Client, aws: Aws) -> None:
    aws.client("dynamodb").delete_table(TableName=names.STATUS_TABLE)
    response = client.http.get("/unicorns")
    assert response.status_code == 503
    body = json.loads(response.body)
    assert body == {
        "Code": "ServiceUnavailable",
        "Message": "the fleet data is not reachable right now (ResourceNotFoundException)",
    }


def test_an_unexpected_error_is_a_500_without_a_stack_trace(client: Client, aws: Aws) -> None:
    bootstrap.services().fleet.summaries_store = None  # type: ignore[assignment]  # a bug
    response = client.http.get("/unicorns/Shadowfax/summaries")
    assert response.status_code == 500
    assert b"Traceback" not in response.body
    assert json.loads(response.body)["Code"] == "InternalServerError"


def test_summaries_survive_a_round_trip_through_the_api(fleet: Client) -> None:
    expected = replace(minutes("Rocinante", 1)[0]).to_row()
    status, body = get(fleet, "/unicorns/Rocinante/summaries?limit=1")
    assert status == 200
    assert body["summaries"] == [expected]
    assert body["next"] is not None
