"""infra's definitions agree with the app, chalicelib and AWS's limits.

Quick checks that need no packaging and no AWS: a Kinesis function added to
app.py without infra defaults, a renamed environment variable, or a template
grown past CreateStack's limit fails here first.
"""

from __future__ import annotations

from chalicelib.settings import load_settings
from infra import names as infra_names
from infra.event_sources import DEFAULTS
from infra.named_queries import named_queries
from infra.policies import policies, template_arns
from infra.stages import load_stage
from infra.template import function_environment, stack_body, supporting_template
from infra.template_store import URL_LIMIT
from infra.triggers import function_logical_ids, kinesis_triggers


def test_the_queries_take_the_values_the_user_supplies() -> None:
    parameters = {q.name: q.parameters for q in named_queries()}
    assert parameters == {
        "trip_positions": 1,
        "points_after": 1,
        "distance_per_unicorn": 0,
        "low_vitals": 0,
    }
    for query in named_queries():
        assert query.sql.startswith("--")
        assert "FROM wildrydes" in query.sql
    (low_vitals,) = [q for q in named_queries() if q.name == "low_vitals"]
    assert "< 100" in low_vitals.sql


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
