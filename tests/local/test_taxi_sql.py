"""The taxi trips' SQL over an archive in moto's S3: named queries on DuckDB, Athena's call.

Four hours of the producer's taxi day, written under `trips/` as Firehose
writes them (hourly keys by arrival, several objects an hour, one malformed
line), beside a unicorn reading under `raw/`; each named query's rows are
checked against the same answer computed in Python from the trips.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from chalicelib import names
from chalicelib.taxi.records import Trip, encode_trip
from chalicelib.unicorns.records import Reading, encode_reading
from infra import names as infra_names
from infra.named_queries import named_queries
from local.sql import (
    QueryResult,
    Sources,
    SqlError,
    archive_table,
    archive_tables,
    run_named,
    run_query,
)
from tests.local.conftest import BUCKET
from tests.local.sql_cli import run_cli
from tests.taxi_events import DAY, day_trips

ZONE = 161
# A trip of no distance: its fare counts in the average, not in the fare per mile.
STANDING = Trip(
    "stood-1",
    "2026-11-23 08:20:00.000",
    "2026-11-23 08:25:00.000",
    ZONE,
    ZONE,
    0.0,
    55.5,
    0.0,
    1,
    "cash",
)
# Picked up the day before, dropped off on DAY: not one of DAY's pickups.
OVERNIGHT = Trip(
    "night-1",
    "2026-11-22 23:50:00.000",
    "2026-11-23 00:10:00.000",
    ZONE,
    132,
    17.0,
    61.25,
    12.0,
    2,
    "card",
)
MALFORMED = b'{"TripId":"cut-1","PickupTime":"2026-11-23 07:\n'


def trips() -> list[Trip]:
    return [*day_trips(6 * 3600, 10 * 3600, per_day=4000), STANDING, OVERNIGHT]


def write_archive(s3: Any, data: list[Trip]) -> None:
    """The trips as Firehose objects, filed by the hour they ended (arrived), two an hour."""
    objects: dict[str, list[bytes]] = defaultdict(list)
    for n, trip in enumerate(data):
        hour = trip.dropoff_time[:13].replace("-", "/").replace(" ", "/")
        key = (
            f"{names.TRIP_ARCHIVE_PREFIX}{hour}/taxi-trips-1-{hour.replace('/', '-')}-00-0{n % 2}"
        )
        objects[key].append(encode_trip(trip))
    objects[min(objects)].insert(1, MALFORMED)
    for key, lines in objects.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"".join(lines))
    reading = Reading("Shadowfax", "2026-11-23 08:00:00.000", 40.7, -73.9, 30.0, 150, 150)
    s3.put_object(
        Bucket=BUCKET, Key="raw/2026/11/23/08/wildrydes-1-x", Body=encode_reading(reading)
    )


@pytest.fixture
def sources(session: boto3.session.Session, tmp_path: Path) -> Sources:
    """Both tables over an archive written as Firehose writes it, cached in tmp_path."""
    s3 = session.client("s3")
    write_archive(s3, trips())
    return Sources(tables=archive_tables(BUCKET), cache_dir=tmp_path / "archive", s3=s3)


def moment(status_time: str) -> datetime:
    return datetime.fromisoformat(status_time)


# --- The table, from the description the Glue table is rendered from -----------------


def test_the_trip_table_comes_from_the_templates_glue_table() -> None:
    table = archive_table(BUCKET, infra_names.TRIP_GLUE_TABLE)

    assert (table.name, table.database) == ("taxi_trips", infra_names.GLUE_DATABASE)
    assert (table.bucket, table.prefix) == (BUCKET, "trips/")
    assert (table.partition_key, table.partition_format) == ("dt", "yyyy/MM/dd/HH")
    assert [(c.name, c.duckdb_type) for c in table.columns] == [
        ("tripid", "VARCHAR"),
        ("pickuptime", "TIMESTAMP"),
        ("dropofftime", "TIMESTAMP"),
        ("pickupzone", "INTEGER"),
        ("dropoffzone", "INTEGER"),
        ("distance", "DOUBLE"),
        ("fare", "DOUBLE"),
        ("tip", "DOUBLE"),
        ("passengers", "INTEGER"),
        ("paymenttype", "VARCHAR"),
    ]
    assert [t.name for t in archive_tables(BUCKET)] == ["wildrydes", "taxi_trips"]


def test_every_trip_reads_back_with_its_values_and_hour(sources: Sources) -> None:
    result = run_query(
        "SELECT tripid, pickuptime, pickupzone, distance, fare, tip, paymenttype, dt "
        "FROM taxi_trips ORDER BY tripid",
        sources=sources,
    )

    expected = sorted(
        (
            t.trip_id,
            moment(t.pickup_time),
            t.pickup_zone,
            t.distance,
            t.fare,
            t.tip,
            t.payment_type,
            t.dropoff_time[:13].replace("-", "/").replace(" ", "/"),
        )
        for t in trips()
    )
    assert list(result.rows) == expected  # the malformed line skipped, doubles exact


def test_the_two_tables_read_their_own_prefixes(sources: Sources) -> None:
    result = run_query(
        "SELECT (SELECT count(*) FROM wildrydes), (SELECT count(*) FROM taxi_trips)",
        sources=sources,
    )

    assert result.rows == ((1, len(trips())),)


# --- The named queries on DuckDB -----------------------------------------------------


def test_peak_hours_are_a_days_trips_and_revenue_per_pickup_hour_busiest_first(
    sources: Sources,
) -> None:
    result = run_named("peak_hours", [DAY.isoformat()], sources=sources)

    hours: dict[int, list[Trip]] = defaultdict(list)
    for trip in trips():
        if trip.pickup_time.startswith(DAY.isoformat()):
            hours[moment(trip.pickup_time).hour].append(trip)
    expected = sorted(
        ((hour, len(ts), round(sum(t.fare for t in ts), 2)) for hour, ts in hours.items()),
        key=lambda row: (-row[1], row[0]),
    )
    assert result.columns == ("pickup_hour", "trips", "revenue")
    assert [row[:2] for row in result.rows] == [row[:2] for row in expected]
    assert [row[2] for row in result.rows] == pytest.approx([row[2] for row in expected])
    assert len(result.rows) >= 4 and result.rows[0][1] > result.rows[-1][1]
    assert sum(row[1] for row in result.rows) == len(trips()) - 1  # not OVERNIGHT


def test_peak_hours_of_another_day_count_only_its_pickups(sources: Sources) -> None:
    result = run_named("peak_hours", ["2026-11-22"], sources=sources)

    assert result.rows == ((23, 1, OVERNIGHT.fare),)


def test_fare_trends_are_one_zones_fares_hour_by_hour(sources: Sources) -> None:
    result = run_named("fare_trends", [ZONE], sources=sources)

    hours: dict[datetime, list[Trip]] = defaultdict(list)
    for trip in trips():
        if trip.pickup_zone == ZONE:
            hours[moment(trip.pickup_time).replace(minute=0, second=0, microsecond=0)].append(trip)
    expected = []
    for hour, ts in sorted(hours.items()):
        moving = [t for t in ts if t.distance > 0]
        per_mile = sum(t.fare for t in moving) / sum(t.distance for t in moving)
        expected.append((hour, len(ts), sum(t.fare for t in ts) / len(ts), per_mile))
    assert result.columns == ("pickup_hour", "trips", "average_fare", "fare_per_mile")
    assert [row[:2] for row in result.rows] == [row[:2] for row in expected]
    for row, want in zip(result.rows, expected, strict=True):
        # Rounded to the cent by the query.
        assert row[2:] == pytest.approx(want[2:], abs=0.005 + 1e-9), row
    # The standing trip's fare is in its hour's average, not in its fare per mile.
    (eight,) = [row for row in result.rows if row[0] == datetime(2026, 11, 23, 8)]
    at_eight = hours[datetime(2026, 11, 23, 8)]
    assert STANDING in at_eight
    unfiltered = sum(t.fare for t in at_eight) / sum(t.distance for t in at_eight)
    assert eight[3] != pytest.approx(unfiltered, abs=0.01)


def test_fare_trends_of_a_zone_without_trips_are_empty(sources: Sources) -> None:
    assert run_named("fare_trends", [1], sources=sources) == QueryResult(
        ("pickup_hour", "trips", "average_fare", "fare_per_mile"), ()
    )


def test_the_taxi_queries_are_named_with_their_parameters() -> None:
    taxi = named_queries(infra_names.TRIP_GLUE_TABLE)

    assert [(q.name, q.parameters) for q in taxi] == [("peak_hours", 1), ("fare_trends", 1)]
    for query in taxi:
        assert query.sql.startswith("--") and "FROM taxi_trips" in query.sql


def test_a_taxi_query_on_sources_without_its_table_names_the_table(sources: Sources) -> None:
    unicorns_only = Sources(
        table=archive_table(BUCKET), cache_dir=sources.cache_dir, s3=sources.s3
    )

    with pytest.raises(SqlError, match=r"peak_hours reads table taxi_trips.*\(wildrydes\)"):
        run_named("peak_hours", [DAY.isoformat()], sources=unicorns_only)


def test_sources_refuse_tables_of_two_databases() -> None:
    (raw, taxi) = archive_tables(BUCKET)

    with pytest.raises(SqlError, match="more than one database"):
        Sources(tables=(raw, replace(taxi, database="elsewhere")))


# --- Athena (moto answers every query with no rows) ----------------------------------


def test_athena_gets_a_taxi_query_unchanged_with_its_parameter(
    session: boto3.session.Session, tmp_path: Path
) -> None:
    athena = session.client("athena")
    athena.create_work_group(Name=infra_names.ATHENA_WORKGROUP)
    sources = Sources(tables=archive_tables(BUCKET), cache_dir=tmp_path, athena=athena)

    run_named("fare_trends", [ZONE], sources=sources, engine="athena")

    (query_id,) = athena.list_query_executions(WorkGroup=infra_names.ATHENA_WORKGROUP)[
        "QueryExecutionIds"
    ]
    execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
    (fare_trends,) = [q for q in named_queries() if q.name == "fare_trends"]
    assert execution["Query"] == fare_trends.sql
    assert execution["QueryExecutionContext"] == {"Database": infra_names.GLUE_DATABASE}
    assert execution["ExecutionParameters"] == ["161"]


# --- The command line ----------------------------------------------------------------


def test_cli_runs_peak_hours_for_a_day(sources: Sources) -> None:
    status, out, err = run_cli(["--named", "peak_hours", "--param", DAY.isoformat()], sources)

    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["pickup_hour", "trips", "revenue"]
    expected = run_named("peak_hours", [DAY.isoformat()], sources=sources)
    assert lines[-1] == f"({len(expected.rows)} rows)"
    assert lines[2].split()[:2] == [str(v) for v in expected.rows[0][:2]]


def test_cli_lists_the_taxi_queries_with_their_table_and_says_so_in_its_help(
    sources: Sources,
) -> None:
    _, listed, _ = run_cli(["--list"], sources)
    _, helped, _ = run_cli(["--help"], sources)

    assert "q5 peak_hours (taxi_trips, 1 parameter): Trips and fare revenue" in listed
    assert "q6 fare_trends (taxi_trips, 1 parameter)" in listed
    assert "tables wildrydes, taxi_trips" in helped
    assert "--named peak_hours --param 2026-11-23" in helped
