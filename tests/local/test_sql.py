"""The workshop's SQL over an archive in moto's S3: DuckDB locally, Athena's calls on moto.

The archive is written as Firehose writes it (hourly keys, newline-delimited
JSON, several objects an hour, one malformed line); each named query's rows
are checked against the same answer computed in Python from the readings.
"""

from __future__ import annotations

import gzip
import json
import struct
import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.stub import Stubber
from moto import mock_aws

from chalicelib.unicorns.records import Reading, encode_reading
from infra import names as infra_names
from infra import resources, system
from infra.named_queries import named_queries
from local.endpoint import free_port
from local.sql import (
    ArchiveTable,
    AthenaEngine,
    Column,
    QueryError,
    QueryResult,
    Sources,
    SqlError,
    archive_table,
    athena_literal,
    cli_param,
    duckdb_type,
    format_table,
    run_named,
    run_query,
    sync_archive,
)
from tests.lambda_events import ACCOUNT, REGION
from tests.local.conftest import BUCKET
from tests.local.sql_cli import run_cli

UNICORNS = ("Shadowfax", "Bucephalus", "Rocinante")
# The Glue table's columns, in order.
COLUMNS = (
    "name",
    "statustime",
    "latitude",
    "longitude",
    "distance",
    "healthpoints",
    "magicpoints",
)
LOWER_CASE_KEYS = "Pegasus"  # written with lower-case JSON keys: the SerDe ignores case
MALFORMED = b'{"Name":"Glitch","StatusTime":"2026-11-22 14:0\n'


def readings() -> list[Reading]:
    """Three unicorns over two hours, Rocinante unwell in the second."""
    found = []
    for n, name in enumerate(UNICORNS):
        for hour, count in ((14, 12), (15, 8)):
            for i in range(count):
                second = 5 * i + n
                unwell = name == "Rocinante" and hour == 15
                found.append(
                    Reading(
                        name=name,
                        status_time=f"2026-11-22 {hour}:05:{second:02d}.{100 * n + i:03d}",
                        latitude=round(40.749167 + 0.0001 * i + 0.01 * n, 6),
                        longitude=round(-73.985184 - 0.0001 * i, 6),
                        distance=29.0 + (i % 3) + 0.25 * n,
                        health=98 - i if unwell else 150 - i,
                        magic=150 if unwell else 101 - i % 3,
                    )
                )
    found.append(Reading(LOWER_CASE_KEYS, "2026-11-22 15:30:00.000", 41.0, -74.0, 30.5, 97, 150))
    return found


def firehose_key(hour: int, minute: int, suffix: str) -> str:
    return (
        f"raw/2026/11/22/{hour}/wildrydes-1-2026-11-22-{hour}-{minute:02d}-00-"
        f"0b9a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c{suffix}"
    )


def write_archive(s3: Any, data: list[Reading]) -> None:
    """The readings as Firehose objects: two an hour, one holding a malformed line.

    Half are gzipped (`.gz`), as Firehose writes them now; the others are as it wrote
    them before the archive was compressed: queries read both alike.
    """
    objects: dict[str, list[bytes]] = {}
    for n, reading in enumerate(data):
        hour = int(reading.status_time[11:13])
        if reading.name == LOWER_CASE_KEYS:
            line = json.dumps({k.lower(): v for k, v in reading.to_json().items()}).encode()
            objects.setdefault(firehose_key(hour, 31, "03"), []).append(line + b"\n")
            continue
        key = firehose_key(hour, 5 + n % 2, f"{n % 2:02d}")
        objects.setdefault(key, []).append(encode_reading(reading))
    objects[firehose_key(14, 5, "00")].insert(3, MALFORMED)
    for key, lines in objects.items():
        body = b"".join(lines)
        if key.endswith("01"):
            key, body = key + ".gz", gzip.compress(body)
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    # Not the table's: other prefixes of the same bucket.
    s3.put_object(
        Bucket=BUCKET, Key="dead-letter/2026/11/22/14/batch", Body=encode_reading(data[0])
    )
    s3.put_object(Bucket=BUCKET, Key="athena-results/abc.csv", Body=b'"name"\n"x"\n')


def f32(value: float) -> float:
    """`value` as a 32-bit float, as a FLOAT column holds it."""
    return float(struct.unpack("f", struct.pack("f", value))[0])


def as_float32(rows: tuple[tuple[Any, ...], ...] | list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [tuple(f32(v) if isinstance(v, float) else v for v in row) for row in rows]


def moment(status_time: str) -> datetime:
    return datetime.fromisoformat(status_time)


@pytest.fixture
def table() -> ArchiveTable:
    return archive_table(BUCKET)


@pytest.fixture
def sources(session: boto3.session.Session, table: ArchiveTable, tmp_path: Path) -> Sources:
    """An archive written as Firehose writes it, queried through a cache in tmp_path."""
    s3 = session.client("s3")
    write_archive(s3, readings())
    return Sources(table=table, cache_dir=tmp_path / "archive", s3=s3)


# --- The table, from the description the Glue table is rendered from ----------------


def test_table_comes_from_the_templates_glue_table(table: ArchiveTable) -> None:
    assert table.name == infra_names.GLUE_TABLE
    assert table.database == infra_names.GLUE_DATABASE
    assert (table.bucket, table.prefix) == (BUCKET, "raw/")
    assert (table.partition_key, table.partition_format) == ("dt", "yyyy/MM/dd/HH")
    assert [(c.name, c.duckdb_type) for c in table.columns] == [
        ("name", "VARCHAR"),
        ("statustime", "TIMESTAMP"),
        ("latitude", "FLOAT"),
        ("longitude", "FLOAT"),
        ("distance", "FLOAT"),
        ("healthpoints", "INTEGER"),
        ("magicpoints", "INTEGER"),
    ]


def test_duckdb_reads_the_same_table_the_deployed_glue_table_describes(
    table: ArchiveTable,
) -> None:
    glue = resources.supporting_resources("dev")["Resources"][system.GLUE_TABLE_ID]["Properties"]
    deployed = glue["TableInput"]
    key = table.partition_key
    assert deployed["Name"] == table.name
    assert [(c["Name"], c["Type"]) for c in deployed["StorageDescriptor"]["Columns"]] == [
        (c.name, c.hive_type) for c in table.columns
    ]
    assert deployed["PartitionKeys"] == [{"Name": key, "Type": "string"}]
    assert deployed["Parameters"][f"projection.{key}.format"] == table.partition_format
    # The bucket is the one thing only a deployment knows: a ${ArchiveBucket} there.
    location = deployed["Parameters"]["storage.location.template"]["Fn::Sub"]
    assert location.replace("${ArchiveBucket}", table.bucket) == (
        f"s3://{table.bucket}/{table.prefix}${{!{key}}}/"
    )


@pytest.mark.parametrize(
    ("hive", "duckdb"),
    [
        ("string", "VARCHAR"),
        ("timestamp", "TIMESTAMP"),
        ("float", "FLOAT"),
        ("double", "DOUBLE"),
        ("int", "INTEGER"),
        ("bigint", "BIGINT"),
        ("boolean", "BOOLEAN"),
        ("varchar(64)", "VARCHAR"),
        ("decimal(9, 2)", "DECIMAL(9,2)"),
    ],
)
def test_hive_types_map_to_duckdb(hive: str, duckdb: str) -> None:
    assert duckdb_type(hive) == duckdb


def test_an_unknown_hive_type_is_named() -> None:
    with pytest.raises(SqlError, match="array<string>"):
        Column("tags", "array<string>").duckdb_type  # noqa: B018 - the property raises


# --- Syncing the archive -------------------------------------------------------------


def test_sync_mirrors_the_tables_objects_once(sources: Sources, table: ArchiveTable) -> None:
    first = sync_archive(sources.s3, table, sources.cache_dir)
    again = sync_archive(sources.s3, table, sources.cache_dir)

    cached = sorted(
        str(p.relative_to(sources.cache_dir / BUCKET))
        for p in (sources.cache_dir / BUCKET).rglob("*")
        if p.is_file()
    )
    assert cached == sorted(
        o["Key"] for o in sources.s3.list_objects_v2(Bucket=BUCKET, Prefix="raw/")["Contents"]
    )
    assert (first.downloaded, first.present) == (5, 0)
    assert (again.downloaded, again.present, again.removed) == (0, 5, 0)


def test_sync_fetches_new_objects_and_drops_those_gone(
    sources: Sources, table: ArchiveTable
) -> None:
    sync_archive(sources.s3, table, sources.cache_dir)
    gone = firehose_key(15, 6, "01") + ".gz"  # a gzipped object, as Firehose writes them
    sources.s3.delete_object(Bucket=BUCKET, Key=gone)
    new = firehose_key(16, 0, "09")
    sources.s3.put_object(Bucket=BUCKET, Key=new, Body=encode_reading(readings()[0]))

    report = sync_archive(sources.s3, table, sources.cache_dir)

    assert (report.downloaded, report.present, report.removed) == (1, 4, 1)
    assert (sources.cache_dir / BUCKET / new).is_file()
    assert not (sources.cache_dir / BUCKET / gone).exists()


def test_sync_of_a_missing_bucket_is_one_line(sources: Sources, table: ArchiveTable) -> None:
    elsewhere = replace(table, bucket="no-such-bucket")
    with pytest.raises(SqlError, match=r"no-such-bucket.*NoSuchBucket"):
        sync_archive(sources.s3, elsewhere, sources.cache_dir)


# --- The four questions on DuckDB ----------------------------------------------------


def test_q1_trip_positions_of_one_unicorn_in_time_order(sources: Sources) -> None:
    result = run_named("trip_positions", ["Rocinante"], sources=sources)

    expected = sorted(
        (moment(r.status_time), r.latitude, r.longitude)
        for r in readings()
        if r.name == "Rocinante"
    )
    assert result.columns == ("statustime", "latitude", "longitude")
    assert as_float32(result.rows) == as_float32(expected)
    assert len(result.rows) == 20


def test_q2_points_after_a_timestamp(sources: Sources) -> None:
    after = "2026-11-22 14:05:30"
    result = run_named("points_after", [after], sources=sources)

    expected = sorted(
        (
            r.name,
            moment(r.status_time),
            r.latitude,
            r.longitude,
            r.distance,
            r.health,
            r.magic,
        )
        for r in readings()
        if moment(r.status_time) > moment(after)
    )
    expected.sort(key=lambda row: (row[1], row[0]))
    assert result.columns == COLUMNS
    assert as_float32(result.rows) == as_float32(expected)


def test_q3_total_distance_per_unicorn(sources: Sources) -> None:
    result = run_named("distance_per_unicorn", sources=sources)

    totals: dict[str, float] = {}
    for r in readings():
        totals[r.name] = totals.get(r.name, 0.0) + r.distance
    assert result.columns == ("name", "total_distance")
    assert [name for name, _ in result.rows] == sorted(totals)
    assert dict(result.rows) == pytest.approx(totals, rel=1e-6)


def test_q4_points_with_a_vital_below_100(sources: Sources) -> None:
    result = run_named("low_vitals", sources=sources)

    expected = sorted(
        (
            (r.name, moment(r.status_time), r.health, r.magic, r.latitude, r.longitude)
            for r in readings()
            if r.health < 100 or r.magic < 100
        ),
        key=lambda row: (row[1], row[0]),
    )
    assert {row[0] for row in expected} == {"Shadowfax", "Bucephalus", "Rocinante", "Pegasus"}
    assert as_float32(result.rows) == as_float32(expected)


def test_a_users_query_sees_the_dt_partition(sources: Sources) -> None:
    result = run_query(
        "SELECT dt, count(*) AS points FROM wildrydes GROUP BY dt ORDER BY dt", sources=sources
    )

    assert result == QueryResult(("dt", "points"), (("2026/11/22/14", 36), ("2026/11/22/15", 25)))


def test_the_malformed_line_and_other_prefixes_are_not_read(sources: Sources) -> None:
    result = run_query(
        "SELECT count(*), count(DISTINCT name), count(statustime) FROM wildrydes",
        sources=sources,
    )

    assert result.rows == ((len(readings()), len(UNICORNS) + 1, len(readings())),)


def test_parameters_bind_numbers_and_text(sources: Sources) -> None:
    result = run_query(
        "SELECT name, count(*) FROM wildrydes WHERE healthpoints < ? AND name <> ? "
        "GROUP BY name ORDER BY name",
        [cli_param("100"), cli_param("Pegasus")],
        sources=sources,
    )

    assert result.rows == (("Rocinante", 8),)


def test_later_objects_show_up_in_the_next_query(sources: Sources) -> None:
    before = run_query("SELECT count(*) FROM wildrydes", sources=sources).rows[0][0]
    late = Reading("Shadowfax", "2026-11-22 16:00:00.000", 40.0, -74.0, 30.0, 150, 150)
    sources.s3.put_object(Bucket=BUCKET, Key=firehose_key(16, 0, "07"), Body=encode_reading(late))

    after = run_query("SELECT count(*) FROM wildrydes", sources=sources).rows[0][0]

    assert after == before + 1


def test_an_empty_archive_gives_no_rows_with_the_tables_columns(
    session: boto3.session.Session, table: ArchiveTable, tmp_path: Path
) -> None:
    sources = Sources(table=table, cache_dir=tmp_path, s3=session.client("s3"))

    everything = run_query("SELECT * FROM wildrydes", sources=sources)
    question = run_named("low_vitals", sources=sources)

    assert everything == QueryResult((*COLUMNS, "dt"), ())
    assert question.rows == ()


def test_bad_sql_is_one_line_naming_the_query(sources: Sources) -> None:
    with pytest.raises(QueryError) as caught:
        run_query("SELECT nosuchcolumn FROM wildrydes", sources=sources, label="mine")

    message = str(caught.value)
    assert message.startswith("mine: Binder Error:")
    assert "nosuchcolumn" in message
    assert "\n" not in message


def test_a_named_query_without_its_parameter_says_what_it_needs(sources: Sources) -> None:
    with pytest.raises(SqlError, match=r"points_after takes 1 parameter.*UTC timestamp"):
        run_named("points_after", [], sources=sources)


def test_an_unknown_named_query_lists_the_known_ones(sources: Sources) -> None:
    with pytest.raises(SqlError, match="trip_positions, points_after"):
        run_named("nope", sources=sources)


# --- The dialect ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trino", "answer"),
    [
        ("approx_distinct(x)", 3),
        ("arbitrary(x) IN (1, 2, 3)", True),
        ("approx_percentile(x, 0.5)", 2),
        ("date_diff('hour', TIMESTAMP '2026-11-22 14:59:00', max(t))", 0),  # not a full hour
        ("date_diff('minute', TIMESTAMP '2026-11-22 14:59:00', max(t))", 11),
        ("date_add('minute', -5, max(t))", datetime(2026, 11, 22, 15, 5)),
        ("date_format(max(t), '%Y-%m-%d %H:%i')", "2026-11-22 15:10"),
        (
            "date_parse('2026-11-22 15:10:09', '%Y-%m-%d %H:%i:%s')",
            datetime(2026, 11, 22, 15, 10, 9),
        ),
        ("day_of_week(max(t))", 7),  # a Sunday: Trino counts Monday as 1
        ("element_at(array_agg(x ORDER BY x), 2)", 2),
        ("array_join(array_agg(CAST(x AS varchar) ORDER BY x), ',')", "1,2,3"),
        ("regexp_like('Rocinante', '^Ro')", True),
        ("json_extract_scalar('{\"a\": {\"b\": 7}}', '$.a.b')", "7"),
        ("from_iso8601_date('2026-11-22')", date(2026, 11, 22)),
        ("'approx_distinct(x)'", "approx_distinct(x)"),  # a string stays a string
    ],
)
def test_athena_functions_give_athenas_answers_on_duckdb(
    sources: Sources, trino: str, answer: Any
) -> None:
    result = run_query(
        f"SELECT DISTINCT {trino} FROM (VALUES (1, TIMESTAMP '2026-11-22 15:10:00'), "
        "(2, NULL), (3, NULL)) AS v (x, t)",
        sources=sources,
    )

    assert result.rows == ((answer,),)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "SELECT approx_distinct(name, 0.01) FROM wildrydes",
            "mine: cannot run on DuckDB: Argument 'accuracy' is not supported for expression "
            "'ApproxDistinct' when targeting DuckDB.",
        ),
        ("SELECT 'Shadowfax FROM wildrydes", "mine: not Athena SQL: Error tokenizing "),
    ],
)
def test_what_cannot_be_carried_over_is_refused_by_name_not_run_otherwise(
    sources: Sources, sql: str, message: str
) -> None:
    with pytest.raises(QueryError) as caught:
        run_query(sql, sources=sources, label="mine")

    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_sql_that_is_not_athenas_is_one_line_saying_where(sources: Sources) -> None:
    with pytest.raises(QueryError) as caught:
        run_query("SELECT name FROM wildrydes WHERE (name = 'x'", sources=sources, label="mine")

    assert str(caught.value) == (
        "mine: not Athena SQL at line 1, column 44 (near \"'x'\"): Expecting )"
    )


def test_translated_trino_functions_give_trinos_answers(sources: Sources) -> None:
    result = run_query(
        "SELECT approx_distinct(name), "
        "date_diff('hour', TIMESTAMP '2026-11-22 14:59:00', TIMESTAMP '2026-11-22 15:10:00'), "
        "date_add('hour', 2, TIMESTAMP '2026-11-22 14:00:00'), "
        "from_iso8601_timestamp('2026-11-22T15:00:00+01:00'), "
        "7 / 2, "
        "to_unixtime(from_unixtime(1795356000)) "
        "FROM wildrydes",
        sources=sources,
    )

    assert result.rows == (
        (
            len(UNICORNS) + 1,
            0,  # not a full hour, whatever the boundary crossed
            datetime(2026, 11, 22, 16),
            datetime(2026, 11, 22, 14),
            3,
            1795356000.0,
        ),
    )


# --- Athena (moto answers every query with no rows) ----------------------------------


@pytest.fixture
def athena(session: boto3.session.Session) -> Any:
    client = session.client("athena")
    client.create_work_group(Name=infra_names.ATHENA_WORKGROUP)
    return client


def test_athena_runs_a_named_query_in_the_workgroup_with_its_parameter(
    athena: Any, table: ArchiveTable, tmp_path: Path
) -> None:
    pauses: list[float] = []
    sources = Sources(table=table, cache_dir=tmp_path, athena=athena, sleep=pauses.append)

    result = run_named("trip_positions", ["Rocinante"], sources=sources, engine="athena")

    assert result == QueryResult((), ())
    (query_id,) = athena.list_query_executions(WorkGroup=infra_names.ATHENA_WORKGROUP)[
        "QueryExecutionIds"
    ]
    execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
    assert execution["Query"] == named_queries()[0].sql
    assert execution["QueryExecutionContext"] == {"Database": infra_names.GLUE_DATABASE}
    assert execution["ExecutionParameters"] == ["'Rocinante'"]
    assert execution["Status"]["State"] == "SUCCEEDED"
    assert not list((tmp_path).iterdir())  # Athena reads S3 itself: nothing cached


def test_athena_results_skip_the_header_row_and_are_typed(athena: Any) -> None:
    column_info = [
        {"Name": "name", "Label": "name", "Type": "varchar"},
        {"Name": "statustime", "Label": "statustime", "Type": "timestamp"},
        {"Name": "latitude", "Label": "latitude", "Type": "float"},
        {"Name": "healthpoints", "Label": "healthpoints", "Type": "integer"},
    ]

    def row(*values: str | None) -> dict[str, Any]:
        return {"Data": [{} if v is None else {"VarCharValue": v} for v in values]}

    seeded = requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/athena/query-results",
        json={
            "account_id": ACCOUNT,
            "region": REGION,
            "results": [
                {
                    "rows": [
                        row("name", "statustime", "latitude", "healthpoints"),
                        row("Rocinante", "2026-11-22 15:05:02.200", "40.769167", "98"),
                        row("Rocinante", "2026-11-22 15:05:07.201", None, "97"),
                    ],
                    "column_info": column_info,
                }
            ],
        },
        timeout=5,
    )
    assert seeded.status_code == 201
    engine = AthenaEngine(athena, sleep=lambda seconds: None)

    result = engine.run("SELECT ...", [100], "seeded")

    assert result == QueryResult(
        ("name", "statustime", "latitude", "healthpoints"),
        (
            ("Rocinante", datetime(2026, 11, 22, 15, 5, 2, 200000), 40.769167, 98),
            ("Rocinante", datetime(2026, 11, 22, 15, 5, 7, 201000), None, 97),
        ),
    )


def test_athena_without_the_workgroup_is_one_line(aws_env: None) -> None:
    with mock_aws():
        engine = AthenaEngine(boto3.client("athena"), sleep=lambda seconds: None)
        with pytest.raises(QueryError, match=r"^q: Athena: InvalidRequestException: WorkGroup"):
            engine.run("SELECT 1", [], "q")


def stubbed_athena(states: list[dict[str, Any]]) -> tuple[Any, Stubber]:
    """An Athena client answering with `states` in turn: states moto never reaches."""
    client = boto3.client("athena", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_response("start_query_execution", {"QueryExecutionId": "q-1"})
    for status in states:
        stubber.add_response(
            "get_query_execution",
            {"QueryExecution": {"QueryExecutionId": "q-1", "Status": status}},
            {"QueryExecutionId": "q-1"},
        )
    return client, stubber


def test_a_failed_athena_query_gives_athenas_reason(aws_env: None) -> None:
    client, stubber = stubbed_athena(
        [
            {"State": "RUNNING"},
            {
                "State": "FAILED",
                "StateChangeReason": "line 1:8: Column 'nosuch' cannot be resolved",
                "AthenaError": {"ErrorMessage": "COLUMN_NOT_FOUND: line 1:8: Column 'nosuch'"},
            },
        ]
    )
    pauses: list[float] = []
    with stubber, pytest.raises(QueryError) as caught:
        AthenaEngine(client, sleep=pauses.append).run("SELECT nosuch", [], "mine")

    assert (
        str(caught.value)
        == "mine: Athena query FAILED: COLUMN_NOT_FOUND: line 1:8: Column 'nosuch'"
    )
    assert len(pauses) == 1
    stubber.assert_no_pending_responses()


def test_athena_results_are_read_page_by_page(aws_env: None) -> None:
    client, stubber = stubbed_athena([{"State": "SUCCEEDED"}])
    info = {"ColumnInfo": [{"Name": "dt", "Label": "dt", "Type": "varchar"}]}
    pages = [
        (["dt", "2026/11/22/14"], "token-2"),
        (["2026/11/22/15"], None),
    ]
    for values, token in pages:
        page: dict[str, Any] = {
            "ResultSet": {
                "Rows": [{"Data": [{"VarCharValue": v}]} for v in values],
                "ResultSetMetadata": info,
            }
        }
        if token:
            page["NextToken"] = token
        stubber.add_response("get_query_results", page)

    with stubber:
        result = AthenaEngine(client, sleep=lambda seconds: None).run("SELECT dt", [], "q")

    assert result == QueryResult(("dt",), (("2026/11/22/14",), ("2026/11/22/15",)))
    stubber.assert_no_pending_responses()


def test_an_athena_query_that_never_ends_is_stopped(aws_env: None) -> None:
    client, stubber = stubbed_athena([{"State": "RUNNING"}] * 4)
    stubber.add_response("stop_query_execution", {}, {"QueryExecutionId": "q-1"})
    pauses: list[float] = []
    engine = AthenaEngine(client, sleep=pauses.append, timeout_seconds=1.0)

    with stubber, pytest.raises(QueryError, match=r"still RUNNING after 1\.75 s; stopped"):
        engine.run("SELECT 1", [], "slow")

    assert pauses == [0.25, 0.5, 1.0]
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("Shadowfax", "'Shadowfax'"),
        ("O'Brien", "'O''Brien'"),
        (100, "100"),
        (99.5, "99.5"),
        (True, "true"),
        (None, "NULL"),
        (datetime(2026, 11, 22, 14), "TIMESTAMP '2026-11-22 14:00:00.000'"),
    ],
)
def test_athena_parameters_are_sql_literals(value: Any, literal: str) -> None:
    assert athena_literal(value) == literal


# --- Output and the command line -----------------------------------------------------


def test_format_table_aligns_and_cuts() -> None:
    result = QueryResult(
        ("name", "total_distance", "seen"),
        (
            ("Bucephalus", 612.5, datetime(2026, 11, 22, 14, 5, 1, 100000)),
            ("Rocinante", 607.1000001, None),
            ("Shadowfax", 597.0, datetime(2026, 11, 22, 14, 5)),
        ),
    )

    assert format_table(result, max_rows=2).splitlines() == [
        "name        total_distance  seen",
        "----------  --------------  -----------------------",
        "Bucephalus           612.5  2026-11-22 14:05:01.100",
        "Rocinante            607.1  NULL",
        "… and 1 more",
    ]
    assert format_table(result).splitlines()[-1] == "(3 rows)"
    assert format_table(QueryResult(("a",), ())).splitlines() == ["a", "-", "(no rows)"]


@pytest.mark.parametrize(
    ("text", "value"),
    [("100", 100), ("-1.5", -1.5), ("007", "007"), ("Shadowfax", "Shadowfax"), ("1e3", "1e3")],
)
def test_command_line_parameters_are_numbers_only_when_plainly_numbers(
    text: str, value: Any
) -> None:
    assert cli_param(text) == value


def test_cli_runs_a_named_query(sources: Sources) -> None:
    status, out, err = run_cli(
        ["--named", "points_after", "--param", "2026-11-22 15:05:30", "--max-rows", "2"],
        sources,
    )

    assert (status, err) == (0, "")
    assert out.splitlines()[0].split() == [
        "name",
        "statustime",
        "latitude",
        "longitude",
        "distance",
        "healthpoints",
        "magicpoints",
    ]
    assert out.splitlines()[2].startswith("Shadowfax   2026-11-22 15:05:30.006")
    assert out.splitlines()[-1] == "… and 5 more"


def test_cli_without_sync_reads_only_the_cache(sources: Sources) -> None:
    status, out, _ = run_cli(["SELECT count(*) AS n FROM wildrydes", "--no-sync"], sources)
    assert (status, out.splitlines()[2].strip()) == (0, "0")

    run_cli(["SELECT 1"], sources)
    status, out, _ = run_cli(["SELECT count(*) AS n FROM wildrydes", "--no-sync"], sources)
    assert (status, out.splitlines()[2].strip()) == (0, str(len(readings())))


def test_cli_reports_bad_sql_in_one_line(sources: Sources) -> None:
    status, out, err = run_cli(["SELEC 1"], sources)

    assert (status, out) == (1, "")
    assert err.startswith("error: query: not Athena SQL at line 1, column 7 (near '1'): ")
    assert err.count("\n") == 1


def test_a_usage_error_is_status_2_naming_the_conflict(sources: Sources) -> None:
    status, out, err = run_cli(["SELECT 1", "--named", "low_vitals"], sources)

    assert (status, out) == (2, "")
    assert "not allowed with argument" in err


def test_cli_lists_the_named_queries(sources: Sources) -> None:
    status, out, _ = run_cli(["--list"], sources)

    assert status == 0
    assert [line.split()[1] for line in out.splitlines()] == [q.name for q in named_queries()]


def _typed(*argv: str, work_dir: Path) -> subprocess.CompletedProcess[str]:
    """`python -m local sql ...` as `make sql` runs it, with no endpoint on its port."""
    return subprocess.run(
        [sys.executable, "-m", "local", "sql", "--port", str(free_port()), "--work-dir",
         str(work_dir), *argv],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip


def test_the_command_before_any_run_says_what_to_run_first(tmp_path: Path) -> None:
    typed = _typed("SELECT 1", work_dir=tmp_path)
    listed = _typed("--list", work_dir=tmp_path)  # needs no archive

    assert (typed.returncode, typed.stdout) == (1, "")
    assert typed.stderr == (
        "local sql: no archive yet: run `make demo` (or keep `make up` running) first\n"
    )
    assert (listed.returncode, listed.stderr) == (0, "")
    assert listed.stdout.startswith("q1 trip_positions (wildrydes, 1 parameter): ")


def test_the_command_queries_the_last_runs_copy_and_refuses_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "archive").mkdir()

    counted = _typed("SELECT count(*) AS n FROM wildrydes", work_dir=tmp_path)
    unknown = _typed("--named", "nope", work_dir=tmp_path)
    both = _typed("SELECT 1", "--named", "low_vitals", work_dir=tmp_path)

    assert (counted.returncode, counted.stderr) == (0, "")
    assert counted.stdout.split("\n") == ["n", "-", "0", "(1 row)", ""]
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error: no named query 'nope' (known: trip_positions, ")
    assert both.returncode == 2
    assert "argument --named: not allowed with argument sql" in both.stderr


def test_stage_is_still_taken_though_every_stage_has_the_same_tables(sources: Sources) -> None:
    status, out, _ = run_cli(["SELECT count(*) AS n FROM wildrydes", "--stage", "dev"], sources)
    assert (status, out.splitlines()[2].strip()) == (0, str(len(readings())))
