"""Per-stage event-source settings: overrides reach the template; bad ones fail clearly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.errors import InfraError
from infra.event_sources import (
    DEFAULTS,
    check,
    event_source_settings,
    kinesis_mappings,
    mapping_update_kwargs,
)
from infra.resources import supporting_resources
from infra.stages import check_deployable, load_stage
from infra.template import merge_template
from infra.triggers import kinesis_triggers
from local.mapping import MappingSettings

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:wildrydes-stream-failures"


def add_stage(config_path: Path, name: str, settings: dict[str, Any]) -> None:
    config = json.loads(config_path.read_text())
    config["stages"][name] = settings
    config_path.write_text(json.dumps(config, indent=2))


def aggregate_event(template: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = template["Resources"]["Aggregate"]["Properties"]["Events"][
        "AggregateKinesisEventSource"
    ]["Properties"]
    return props


def test_a_stage_override_shows_up_in_the_rendered_template(config_path: Path) -> None:
    add_stage(
        config_path,
        "local",
        {"lambda_functions": {"aggregate": {"event_source": {"TumblingWindowInSeconds": 10}}}},
    )

    props = aggregate_event(merge_template("local", config_path))

    assert props["TumblingWindowInSeconds"] == 10
    assert props["MaximumRetryAttempts"] == DEFAULTS["aggregate"]["MaximumRetryAttempts"]


def test_aws_and_the_local_runtime_read_each_mapping_from_one_description(
    config_path: Path,
) -> None:
    add_stage(
        config_path,
        "local",
        {"lambda_functions": {"aggregate": {"event_source": {"TumblingWindowInSeconds": 10}}}},
    )
    mappings = kinesis_mappings("local", failure_destination=QUEUE_ARN, config_path=config_path)

    assert [m.function for m in mappings] == [t.function for t in kinesis_triggers()]
    template = merge_template("local", config_path)["Resources"]
    for mapping in mappings:
        local = MappingSettings.from_definitions(mapping)
        trigger = mapping.trigger
        # The decorator's part, the defaults' and the stage's, in one place.
        assert (local.stream, local.batch_size) == (trigger.stream, trigger.batch_size)
        expected_window = (
            10
            if mapping.function == "aggregate"
            else DEFAULTS[mapping.function].get("TumblingWindowInSeconds", 0)
        )
        assert local.tumbling_window == expected_window
        assert local.max_retries == DEFAULTS[mapping.function]["MaximumRetryAttempts"]
        assert local.on_failure == QUEUE_ARN
        # What the merge template adds to Chalice's event (which carries the stream and
        # batch size from the same decorator).
        events = template[trigger.logical_id]["Properties"]["Events"]
        deployed = events[trigger.event_logical_id]["Properties"]
        assert deployed.get("TumblingWindowInSeconds", 0) == local.tumbling_window
        assert deployed["MaximumRetryAttempts"] == local.max_retries


def test_stage_settings_win_over_top_level_ones_as_in_chalice(config_path: Path) -> None:
    config = json.loads(config_path.read_text())
    config["lambda_functions"]["vitals"]["event_source"] = {
        "MaximumRetryAttempts": 7,
        "ParallelizationFactor": 2,
    }
    config["stages"]["dev"]["lambda_functions"]["vitals"] = {
        "event_source": {"MaximumRetryAttempts": 3}
    }
    config_path.write_text(json.dumps(config))

    vitals = event_source_settings("dev", config_path=config_path)["vitals"]

    assert vitals["MaximumRetryAttempts"] == 3
    assert vitals["ParallelizationFactor"] == 2


def test_the_api_url_follows_the_stages_api_gateway_stage(config_path: Path) -> None:
    add_stage(config_path, "beta", {"api_gateway_stage": "v1"})

    env = merge_template("beta", config_path)["Resources"]["Vitals"]["Properties"]["Environment"]
    assert env["Variables"]["API_URL"]["Fn::Sub"].endswith("/v1/")


def test_the_defaults_are_valid_settings() -> None:
    for function, settings in DEFAULTS.items():
        for name, value in settings.items():
            check("default", function, name, value)


@pytest.mark.parametrize(
    ("function", "overrides", "message"),
    [
        ("aggregate", {"TumblingWindowSeconds": 60}, "unknown property"),
        ("aggregate", {"TumblingWindowInSeconds": 0}, "from 1 to 900, got 0"),
        ("aggregate", {"TumblingWindowInSeconds": 901}, "from 1 to 900, got 901"),
        ("aggregate", {"TumblingWindowInSeconds": "60"}, "got '60'"),
        ("persist", {"MaximumRetryAttempts": -2}, "-1 (forever) or a whole number"),
        ("persist", {"MaximumRetryAttempts": 10001}, "from 0 to 10000"),
        ("persist", {"MaximumRecordAgeInSeconds": 59}, "from 60 to 604800"),
        ("persist", {"MaximumRecordAgeInSeconds": 604801}, "from 60 to 604800"),
        ("vitals", {"ParallelizationFactor": 11}, "from 1 to 10"),
        ("vitals", {"ParallelizationFactor": True}, "got True"),
        ("vitals", {"BisectBatchOnFunctionError": "yes"}, "true or false"),
        ("vitals", {"FunctionResponseTypes": ["Everything"]}, "ReportBatchItemFailures"),
        ("vitals", {"BatchSize": 10}, "app.py"),
        ("vitals", {"DestinationConfig": {}}, "failure queue"),
    ],
)
def test_a_bad_override_names_stage_function_and_property(
    config_path: Path, function: str, overrides: dict[str, Any], message: str
) -> None:
    add_stage(config_path, "broken", {"lambda_functions": {function: {"event_source": overrides}}})
    (name,) = overrides

    with pytest.raises(InfraError) as raised:
        merge_template("broken", config_path)

    assert f"stage 'broken', function {function!r}, event_source property {name!r}" in str(
        raised.value
    )
    assert message in str(raised.value)


def test_settings_for_a_function_without_a_stream_are_refused(config_path: Path) -> None:
    add_stage(
        config_path,
        "broken",
        {"lambda_functions": {"api_handler": {"event_source": {"MaximumRetryAttempts": 1}}}},
    )
    with pytest.raises(InfraError, match="stage 'broken': function 'api_handler' has no Kinesis"):
        event_source_settings("broken", config_path=config_path)


def test_event_source_must_be_an_object(config_path: Path) -> None:
    add_stage(config_path, "broken", {"lambda_functions": {"vitals": {"event_source": 5}}})
    with pytest.raises(InfraError, match=r"function 'vitals'.*must be an object"):
        event_source_settings("broken", config_path=config_path)


@pytest.mark.parametrize("build", [merge_template, supporting_resources])
def test_an_unknown_stage_is_refused_naming_the_known_ones(config_path: Path, build: Any) -> None:
    with pytest.raises(InfraError, match=r"unknown stage 'qa': .* defines dev, local, prod"):
        build("qa", config_path)


def test_api_settings_carry_the_queue_arn_and_switch_off_what_is_unset() -> None:
    settings = event_source_settings("dev", failure_destination=QUEUE_ARN)

    kwargs = mapping_update_kwargs("uuid-1", settings["persist"])

    assert kwargs == {
        "UUID": "uuid-1",
        "TumblingWindowInSeconds": 0,
        "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": 10,
        "MaximumRecordAgeInSeconds": 86400,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "ParallelizationFactor": 1,
        "DestinationConfig": {"OnFailure": {"Destination": QUEUE_ARN}},
    }
    aggregate = mapping_update_kwargs("uuid-2", settings["aggregate"])
    assert aggregate["TumblingWindowInSeconds"] == 60
    assert aggregate["FunctionResponseTypes"] == []


def test_api_settings_refuse_a_cloudformation_reference() -> None:
    settings = event_source_settings("dev")  # destination is Fn::GetAtt
    with pytest.raises(InfraError, match="failure_destination"):
        mapping_update_kwargs("uuid-1", settings["vitals"])


def test_the_local_stage_cannot_be_deployed_and_says_why() -> None:
    with pytest.raises(InfraError) as refused:
        check_deployable(load_stage("local"))
    message = str(refused.value)
    assert message.startswith("stage 'local' cannot be deployed: it sets AWS_ACCESS_KEY_ID,")
    assert "AWS_ENDPOINT_URL" in message and "deploy dev, prod or a stage of your own" in message
    for stage in ("dev", "prod"):
        check_deployable(load_stage(stage))
