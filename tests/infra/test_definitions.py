"""infra's definitions agree with the app, chalicelib and AWS's limits.

Quick checks that need no packaging and no AWS: a Kinesis function added to
app.py without infra defaults, a renamed environment variable, or a template
grown past CreateStack's limit fails here first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib import names
from chalicelib.settings import load_settings
from chalicelib.taxi import records as trips
from infra import names as infra_names
from infra import system
from infra.event_sources import DEFAULTS
from infra.named_queries import named_queries
from infra.policies import policies, template_arns
from infra.stages import load_stage
from infra.template import function_environment, stack_body, supporting_template
from infra.template_store import URL_LIMIT
from infra.triggers import function_logical_ids, kinesis_triggers


def test_the_queries_take_the_values_the_user_supplies() -> None:
    parameters = {(q.number, q.table, q.name): q.parameters for q in named_queries()}
    assert parameters == {
        (1, "wildrydes", "trip_positions"): 1,
        (2, "wildrydes", "points_after"): 1,
        (3, "wildrydes", "distance_per_unicorn"): 0,
        (4, "wildrydes", "low_vitals"): 0,
        (5, "taxi_trips", "peak_hours"): 1,
        (6, "taxi_trips", "fare_trends"): 1,
    }
    for query in named_queries():
        assert query.sql.startswith("--")
        assert f"FROM {query.table}\n" in query.sql
    (low_vitals,) = [q for q in named_queries() if q.name == "low_vitals"]
    assert "< 100" in low_vitals.sql
    assert [q.name for q in named_queries(infra_names.TRIP_GLUE_TABLE)] == [
        "peak_hours",
        "fare_trends",
    ]


def test_each_archived_stream_has_a_prefix_a_table_and_queries_filed_under_it() -> None:
    archived = system.ARCHIVED_STREAMS
    assert [(a.delivery_stream, a.prefix, a.table) for a in archived] == [
        (names.RAW_STREAM, names.ARCHIVE_PREFIX, infra_names.GLUE_TABLE),
        (names.TRIP_STREAM, names.TRIP_ARCHIVE_PREFIX, infra_names.TRIP_GLUE_TABLE),
    ]
    # The prefixes are apart: no table reads another's objects.
    prefixes = [a.prefix for a in archived] + [names.DEAD_LETTER_PREFIX, names.REPORT_PREFIX]
    assert not any(p != q and p.startswith(q) for p in prefixes for q in prefixes)
    assert {q.table for q in named_queries()} == {a.table for a in archived}


def test_the_trip_table_has_a_column_for_every_field_of_a_trip() -> None:
    assert [name for name, _ in system.TRIP_COLUMNS] == [f.lower() for f in trips.FIELDS]


def test_query_files_are_numbered_and_each_name_is_used_once(tmp_path: Path) -> None:
    (tmp_path / "wildrydes").mkdir()
    (tmp_path / "wildrydes" / "q1_one.sql").write_text("-- One.\nSELECT 1\n")
    (tmp_path / "wildrydes" / "q2_one.sql").write_text("-- Again.\nSELECT 1\n")
    with pytest.raises(ValueError, match=r"name used twice: \['one'\]"):
        named_queries(directory=tmp_path)
    (tmp_path / "wildrydes" / "two.sql").write_text("-- No number.\nSELECT 2\n")
    with pytest.raises(ValueError, match=r"two\.sql: .* q<n>_<name>\.sql"):
        named_queries(directory=tmp_path)


def test_every_kinesis_function_of_the_app_has_infra_defaults() -> None:
    assert set(DEFAULTS) == {t.function for t in kinesis_triggers()}
    assert set(function_environment(load_stage("dev"))) <= set(function_logical_ids())


def test_every_function_that_dead_letters_is_told_where_the_bucket_is() -> None:
    # A function allowed to keep rejected records needs ARCHIVE_BUCKET to do it,
    # or every batch with a bad record fails and its shard stops.
    environment = function_environment(load_stage("dev"))
    keepers = {
        function
        for function, policy in policies(template_arns("wildrydes", "dev")).items()
        if any(s["Sid"] == "KeepRejectedRecords" for s in policy["Statement"])
    }
    assert keepers >= {"aggregate", "persist", "aggregate_trips", "persist_insights"}
    for function in keepers:
        assert "ARCHIVE_BUCKET" in environment.get(function, {}), function


def test_the_functions_read_the_variables_infra_sets() -> None:
    settings = load_settings(
        {
            infra_names.ARCHIVE_BUCKET_VARIABLE: "bucket",
            infra_names.ALERT_TOPIC_VARIABLE: "arn:aws:sns:us-east-1:1:topic",
            infra_names.API_URL_VARIABLE: "https://example.com/api/",
        }
    )
    assert settings.archive_bucket == "bucket"
    assert settings.alert_topic_arn == "arn:aws:sns:us-east-1:1:topic"
    assert settings.api_url == "https://example.com/api/"


def test_the_supporting_template_fits_in_a_create_stack_call() -> None:
    # Sent compact: inline while it fits a TemplateBody (51,200 bytes), else
    # through the template bucket, which takes up to 1 MB (infra/template_store.py).
    assert len(stack_body(supporting_template("dev")).encode()) < URL_LIMIT // 4
