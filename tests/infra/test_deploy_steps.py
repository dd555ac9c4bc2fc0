"""The `chalice deploy` path, step by step and whole, against moto.

moto's CloudFormation skips Firehose, Glue, Athena, SNS subscriptions and the
bucket, topic and queue policies: the supporting stack still completes and its
outputs still resolve. The `chalice` program cannot reach an in-process moto,
so `FakeChalice` does on moto what `chalice deploy` and `chalice delete` do on
AWS (functions, mappings, the REST API with its stage, and the record in
`.chalice/deployed/<stage>.json`).
"""

from __future__ import annotations

import difflib
import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import boto3
import pytest

from chalicelib import names
from infra import names as infra_names
from infra.api_keys import ensure_api_key, remove_api_key
from infra.deploy import (
    apply_event_source_settings,
    deploy,
    deployed_resources,
    destroy,
    ensure_stack,
    mapping_uuids,
    record_environment,
    set_function_environment,
)
from infra.errors import InfraError
from infra.event_sources import event_source_settings
from infra.runtimes import DEFAULT_RUNTIME
from infra.template import supporting_template
from infra.template_store import TemplateStore
from infra.triggers import kinesis_triggers, scheduled_functions

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")

ACCOUNT = "123456789012"
STACK = "wildrydes-dev-resources"
BUCKET = f"wildrydes-archive-{ACCOUNT}-us-east-1"
QUEUE_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:{infra_names.FAILURE_QUEUE}"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:{names.ALERT_TOPIC}"
API_URL = "https://abc123.execute-api.us-east-1.amazonaws.com/api/"


def no_sleep(seconds: float) -> None:
    """Waiting is moot: moto finishes each operation before answering."""


def code_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return {}\n")
    return buffer.getvalue()


class FakeChalice:
    """What `chalice deploy` / `chalice delete` do, done on moto."""

    def __init__(self, config_path: Path) -> None:
        self.config_path = config_path
        self.calls: list[list[str]] = []

    def __call__(self, arguments: Sequence[str]) -> None:
        self.calls.append(list(arguments))
        command, stage = arguments[0], arguments[arguments.index("--stage") + 1]
        deployed = self.config_path.parent / "deployed" / f"{stage}.json"
        if command == "deploy":
            deployed.parent.mkdir(exist_ok=True)
            deployed.write_text(json.dumps({"resources": self._deploy(stage)}))
        elif command == "delete":
            lambda_client = boto3.client("lambda")
            for resource in deployed_resources(self.config_path, stage).values():
                if resource["resource_type"] == "lambda_function":
                    lambda_client.delete_function(FunctionName=resource["lambda_arn"])
                elif resource["resource_type"] == "rest_api":
                    boto3.client("apigateway").delete_rest_api(restApiId=resource["rest_api_id"])
            deployed.unlink()

    def _environment(self, stage: str, function: str) -> dict[str, str]:
        # Chalice's precedence: top level, stage, function, stage's function.
        config = json.loads(self.config_path.read_text())
        stage_config = config["stages"][stage]
        return {
            **config.get("environment_variables", {}),
            **stage_config.get("environment_variables", {}),
            **config["lambda_functions"].get(function, {}).get("environment_variables", {}),
            **stage_config.get("lambda_functions", {})
            .get(function, {})
            .get("environment_variables", {}),
        }

    def _deploy(self, stage: str) -> list[dict[str, Any]]:
        lambda_client = boto3.client("lambda")
        role = boto3.client("iam").create_role(
            RoleName=f"wildrydes-{stage}",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ]
                }
            ),
        )["Role"]["Arn"]
        resources: list[dict[str, Any]] = []
        arns = {}
        functions = (
            "api_handler",
            *(t.function for t in kinesis_triggers()),
            *(s.function for s in scheduled_functions()),
        )
        for function in functions:
            arns[function] = lambda_client.create_function(
                FunctionName=f"wildrydes-{stage}-{function}",
                Runtime=DEFAULT_RUNTIME,
                Role=role,
                Handler=f"app.{function}",
                Code={"ZipFile": code_zip()},
                Environment={"Variables": self._environment(stage, function)},
            )["FunctionArn"]
            resources.append(
                {
                    "name": function,
                    "resource_type": "lambda_function",
                    "lambda_arn": arns[function],
                }
            )
        for trigger in kinesis_triggers():
            stream_arn = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{trigger.stream}"
            uuid = lambda_client.create_event_source_mapping(
                EventSourceArn=stream_arn,
                FunctionName=arns[trigger.function],
                BatchSize=trigger.batch_size,
                StartingPosition=trigger.starting_position,
                MaximumBatchingWindowInSeconds=trigger.maximum_batching_window_in_seconds,
            )["UUID"]
            resources.append(
                {
                    "name": f"{trigger.function}-kinesis-event-source",
                    "resource_type": "kinesis_event",
                    "event_uuid": uuid,
                    "stream": trigger.stream,
                    "kinesis_arn": stream_arn,
                    "lambda_arn": arns[trigger.function],
                }
            )
        resources.append(
            {
                "name": "rest_api",
                "resource_type": "rest_api",
                "rest_api_id": rest_api(),
                "rest_api_url": API_URL,  # what the URL looks like; its id is moto's
            }
        )
        return resources


def rest_api(stage: str = "api") -> str:
    """A REST API with a key-requiring method deployed to `stage`, as Chalice leaves it."""
    apigateway = boto3.client("apigateway")
    api = apigateway.create_rest_api(name="wildrydes")["id"]
    root = apigateway.get_resources(restApiId=api)["items"][0]["id"]
    method = {"restApiId": api, "resourceId": root, "httpMethod": "GET"}
    apigateway.put_method(**method, authorizationType="NONE", apiKeyRequired=True)
    apigateway.put_integration(**method, type="MOCK")
    apigateway.create_deployment(restApiId=api, stageName=stage)
    return str(api)


@pytest.fixture
def cloudformation(aws: None) -> Any:
    return boto3.client("cloudformation")


@pytest.fixture
def stack_outputs(cloudformation: Any) -> dict[str, str]:
    return ensure_stack(cloudformation, STACK, supporting_template("dev"), {}, echo=print)


@pytest.fixture
def deployed(stack_outputs: dict[str, str], config_path: Path) -> dict[str, Any]:
    """The app as Chalice would leave it after `chalice deploy --stage dev`."""
    FakeChalice(config_path)(["deploy", "--stage", "dev"])
    return deployed_resources(config_path, "dev")


def oversized(template: dict[str, Any]) -> dict[str, Any]:
    """The template made bigger than a TemplateBody may be (by template metadata)."""
    return {**template, "Metadata": {"Padding": "x" * 1024 * 50}}


def test_a_template_over_the_inline_limit_goes_through_the_template_bucket(
    cloudformation: Any,
) -> None:
    s3 = boto3.client("s3")
    store = TemplateStore(s3, ACCOUNT, "us-east-1")
    progress: list[str] = []

    outputs = ensure_stack(
        cloudformation,
        STACK,
        oversized(supporting_template("dev")),
        {},
        echo=progress.append,
        sleep=no_sleep,
        templates=store,
    )

    assert outputs["ArchiveBucketName"] == BUCKET
    bucket = f"wildrydes-templates-{ACCOUNT}-us-east-1"
    (uploaded,) = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert uploaded["Key"].startswith(f"templates/{STACK}/") and uploaded["Size"] > 51_200
    assert progress[0].startswith(
        f"template of {STACK} uploaded to "
        f"https://s3.us-east-1.amazonaws.com/{bucket}/templates/{STACK}/"
    )
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    # Templates expire; way 1's packages (under packages/) are kept for rollbacks.
    assert rule["Expiration"] == {"Days": 30} and rule["Filter"] == {"Prefix": "templates/"}
    # An update goes the same way, into the same bucket.
    ensure_stack(
        cloudformation,
        STACK,
        oversized({**supporting_template("dev"), "Description": "changed"}),
        {},
        echo=progress.append,
        sleep=no_sleep,
        templates=store,
    )
    assert len(s3.list_objects_v2(Bucket=bucket)["Contents"]) == 2


def test_a_template_that_fits_is_sent_inline_and_makes_no_bucket(cloudformation: Any) -> None:
    s3 = boto3.client("s3")

    ensure_stack(
        cloudformation,
        STACK,
        supporting_template("dev"),
        {},
        echo=print,
        sleep=no_sleep,
        templates=TemplateStore(s3, ACCOUNT, "us-east-1"),
    )

    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == [BUCKET]


def test_an_oversized_template_without_a_bucket_is_refused_before_anything_changes(
    cloudformation: Any,
) -> None:
    with pytest.raises(InfraError, match="over the 51,200 a TemplateBody takes"):
        ensure_stack(cloudformation, STACK, oversized(supporting_template("dev")), {}, echo=print)
    assert cloudformation.list_stacks()["StackSummaries"] == []


def test_supporting_stack_creates_the_resources_and_reports_their_outputs(
    cloudformation: Any,
) -> None:
    progress: list[str] = []

    outputs = ensure_stack(
        cloudformation, STACK, supporting_template("dev"), {}, echo=progress.append, sleep=no_sleep
    )

    assert outputs["ArchiveBucketName"] == BUCKET
    assert outputs["AlertTopicArn"] == f"arn:aws:sns:us-east-1:{ACCOUNT}:{names.ALERT_TOPIC}"
    assert outputs["FailureQueueArn"] == QUEUE_ARN
    # Outputs of types moto skips are plain names, so they resolve anyway.
    assert outputs["AthenaWorkGroupName"] == infra_names.ATHENA_WORKGROUP
    assert set(boto3.client("kinesis").list_streams()["StreamNames"]) == {
        names.RAW_STREAM,
        names.SUMMARY_STREAM,
        names.TRIP_STREAM,
        names.INSIGHT_STREAM,
    }
    assert set(boto3.client("dynamodb").list_tables()["TableNames"]) == {
        names.SUMMARY_TABLE,
        names.STATUS_TABLE,
        names.INSIGHT_TABLE,
        names.TRIP_ID_TABLE,
        names.FARE_ALERT_TABLE,
        names.SHARD_TURN_TABLE,
    }
    queue = boto3.client("sqs").get_queue_attributes(
        QueueUrl=outputs["FailureQueueUrl"], AttributeNames=["MessageRetentionPeriod"]
    )
    assert queue["Attributes"]["MessageRetentionPeriod"] == str(14 * 24 * 3600)
    boto3.client("s3").head_bucket(Bucket=BUCKET)
    assert progress[0] == f"creating stack {STACK}"
    assert any("CREATE_COMPLETE" in line for line in progress[1:])


def test_updating_the_stack_keeps_the_alert_email_unless_given(cloudformation: Any) -> None:
    template = supporting_template("dev")
    ensure_stack(cloudformation, STACK, template, {"AlertEmail": "ops@example.com"}, echo=print)

    progress: list[str] = []
    ensure_stack(cloudformation, STACK, template, {}, echo=progress.append, sleep=no_sleep)

    (stack,) = cloudformation.describe_stacks(StackName=STACK)["Stacks"]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert parameters["AlertEmail"] == "ops@example.com"
    assert progress[0] == f"updating stack {STACK}"


def test_a_parameter_the_deployed_stack_lacks_takes_its_default_on_update(
    cloudformation: Any,
) -> None:
    # A stack made before OperationsEmail existed: CloudFormation refuses
    # UsePreviousValue for a key the previous template did not declare, so a
    # new key is left out and the others are sent with their current values.
    older = supporting_template("dev")
    older["Parameters"] = {k: v for k, v in older["Parameters"].items() if k != "OperationsEmail"}
    del older["Conditions"]["HasOperationsEmail"]
    del older["Resources"]["OperationsEmailSubscription"]
    ensure_stack(cloudformation, STACK, older, {"AlertEmail": "ops@example.com"}, echo=print)
    sent: list[dict[str, Any]] = []
    cloudformation.meta.events.register(
        "provide-client-params.cloudformation.UpdateStack",
        lambda params, **_: sent.extend(params["Parameters"]),
    )

    ensure_stack(cloudformation, STACK, supporting_template("dev"), {}, echo=print, sleep=no_sleep)

    assert {"ParameterKey": "AlertEmail", "ParameterValue": "ops@example.com"} in sent
    assert "OperationsEmail" not in {p["ParameterKey"] for p in sent}  # left to its default
    (stack,) = cloudformation.describe_stacks(StackName=STACK)["Stacks"]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert parameters["AlertEmail"] == "ops@example.com"


def test_recording_outputs_adds_them_to_the_stage_keeping_the_files_layout(
    config_path: Path,
) -> None:
    before = config_path.read_text()

    changed = record_environment(
        config_path, "dev", {"ARCHIVE_BUCKET": BUCKET, "ALERT_TOPIC_ARN": "arn:topic"}
    )

    after = config_path.read_text()
    assert changed
    config = json.loads(after)
    assert config["stages"]["dev"]["environment_variables"] == {
        "ARCHIVE_BUCKET": BUCKET,
        "ALERT_TOPIC_ARN": "arn:topic",
    }
    assert "ARCHIVE_BUCKET" not in config["stages"]["prod"].get("environment_variables", {})
    changes = [
        line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[0] in "+-"
    ]
    assert changes == [
        "-       }",
        "+       },",
        f'+       "environment_variables": {{"ARCHIVE_BUCKET": "{BUCKET}", '
        '"ALERT_TOPIC_ARN": "arn:topic"}',
    ]


def test_recording_the_same_values_again_leaves_the_file_alone(config_path: Path) -> None:
    record_environment(config_path, "prod", {"ARCHIVE_BUCKET": BUCKET})
    before = config_path.read_text()

    assert not record_environment(config_path, "prod", {"ARCHIVE_BUCKET": BUCKET})
    assert config_path.read_text() == before
    # prod already had an environment: the value joins it on its line.
    assert f'{{"LOG_LEVEL": "WARNING", "ARCHIVE_BUCKET": "{BUCKET}"}}' in before


def test_applying_settings_makes_each_mapping_show_them(deployed: dict[str, Any]) -> None:
    lambda_client = boto3.client("lambda")
    uuids = mapping_uuids(lambda_client, deployed, kinesis_triggers())
    settings = event_source_settings("dev", failure_destination=QUEUE_ARN)

    apply_event_source_settings(lambda_client, uuids, settings, echo=print, sleep=no_sleep)

    aggregate = lambda_client.get_event_source_mapping(UUID=uuids["aggregate"])
    assert aggregate["TumblingWindowInSeconds"] == 60
    assert aggregate["MaximumRetryAttempts"] == 50
    assert aggregate["BisectBatchOnFunctionError"] is False
    assert aggregate["BatchSize"] == 1000  # Chalice's setting is untouched
    for function in ("persist", "vitals"):
        mapping = lambda_client.get_event_source_mapping(UUID=uuids[function])
        assert mapping["BisectBatchOnFunctionError"] is True
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": QUEUE_ARN}}
    vitals = lambda_client.get_event_source_mapping(UUID=uuids["vitals"])
    assert vitals["MaximumRecordAgeInSeconds"] == 600


def test_a_mapping_chalice_did_not_record_is_found_by_function_and_stream(
    deployed: dict[str, Any],
) -> None:
    lambda_client = boto3.client("lambda")
    recorded = mapping_uuids(lambda_client, deployed, kinesis_triggers())
    unrecorded = {k: v for k, v in deployed.items() if not k.endswith("-kinesis-event-source")}

    assert mapping_uuids(lambda_client, unrecorded, kinesis_triggers()) == recorded


def test_a_missing_mapping_is_a_clear_error(deployed: dict[str, Any]) -> None:
    lambda_client = boto3.client("lambda")
    mapping = deployed["vitals-kinesis-event-source"]["event_uuid"]
    lambda_client.delete_event_source_mapping(UUID=mapping)
    only_functions = {k: v for k, v in deployed.items() if not k.endswith("-event-source")}

    with pytest.raises(InfraError, match="no Kinesis mapping of function 'vitals'"):
        mapping_uuids(lambda_client, only_functions, kinesis_triggers())


def test_setting_a_variable_keeps_the_functions_others(deployed: dict[str, Any]) -> None:
    lambda_client = boto3.client("lambda")
    vitals = deployed["vitals"]["lambda_arn"]

    assert set_function_environment(lambda_client, vitals, {"API_URL": API_URL}, sleep=no_sleep)
    assert not set_function_environment(lambda_client, vitals, {"API_URL": API_URL})

    env = lambda_client.get_function_configuration(FunctionName=vitals)["Environment"]
    assert env["Variables"]["API_URL"] == API_URL
    assert env["Variables"]["VITALS_THRESHOLD"] == "100"


def test_deploy_then_destroy_a_stage(aws: None, config_path: Path) -> None:
    chalice = FakeChalice(config_path)
    cloudformation = boto3.client("cloudformation")
    lambda_client = boto3.client("lambda")
    apigateway = boto3.client("apigateway")
    progress: list[str] = []

    deploy(
        "dev",
        cloudformation=cloudformation,
        lambda_client=lambda_client,
        apigateway=apigateway,
        chalice=chalice,
        alert_email="ops@example.com",
        operations_email="oncall@example.com",
        fare_email="fares@example.com",
        config_path=config_path,
        echo=progress.append,
        sleep=no_sleep,
    )

    assert chalice.calls == [["deploy", "--stage", "dev"]]
    config = json.loads(config_path.read_text())
    recorded = {
        function: settings.get("environment_variables")
        for function, settings in config["stages"]["dev"]["lambda_functions"].items()
    }
    # Each function gets what the packaged template gives it, no more.
    assert recorded == {
        "aggregate": {"ARCHIVE_BUCKET": BUCKET},
        "persist": {"ARCHIVE_BUCKET": BUCKET},
        "aggregate_trips": {"ARCHIVE_BUCKET": BUCKET},
        "persist_insights": {
            "ARCHIVE_BUCKET": BUCKET,
            "FARE_TOPIC_ARN": f"arn:aws:sns:us-east-1:{ACCOUNT}:{names.FARE_TOPIC}",
            "API_URL": API_URL,
        },
        "vitals": {"ALERT_TOPIC_ARN": TOPIC_ARN, "API_URL": API_URL},
        "report": {"ARCHIVE_BUCKET": BUCKET},
    }
    assert "environment_variables" not in config["stages"]["dev"]
    deployed = deployed_resources(config_path, "dev")
    aggregate = lambda_client.get_function_configuration(
        FunctionName=deployed["aggregate"]["lambda_arn"]
    )
    # Recorded before `chalice deploy`, so Chalice set it.
    assert aggregate["Environment"]["Variables"]["ARCHIVE_BUCKET"] == BUCKET
    vitals = lambda_client.get_function_configuration(
        FunctionName=deployed["vitals"]["lambda_arn"]
    )
    assert vitals["Environment"]["Variables"]["API_URL"] == API_URL
    mapping = lambda_client.get_event_source_mapping(
        UUID=deployed["aggregate-kinesis-event-source"]["event_uuid"]
    )
    assert mapping["TumblingWindowInSeconds"] == 60
    assert mapping["DestinationConfig"] == {"OnFailure": {"Destination": QUEUE_ARN}}
    assert [line for line in progress if line.startswith("[")] == [
        f"[1/5] supporting resources: stack {STACK}",
        f"[2/5] recording ALERT_TOPIC_ARN, ARCHIVE_BUCKET, FARE_TOPIC_ARN in {config_path}",
        "[3/5] chalice deploy --stage dev: every function on python3.14 on arm64",
        "[4/5] event-source settings and the API's URL",
        "[5/5] the API key of the data routes: wildrydes-dev",
    ]
    (plan,) = apigateway.get_usage_plans()["items"]
    rest_api_id = deployed["rest_api"]["rest_api_id"]
    assert plan["apiStages"] == [{"apiId": rest_api_id, "stage": "api"}]
    (key,) = apigateway.get_usage_plan_keys(usagePlanId=plan["id"])["items"]
    assert key["name"] == "wildrydes-dev"
    # The user is told the key's id and how to read its value, never the value.
    command = f"aws apigateway get-api-key --api-key {key['id']} --include-value"
    assert any(command in line for line in progress)
    assert not any(key["value"] in line for line in progress)
    # Both addresses went to the supporting stack; the user is told where alarms go.
    parameters = {
        p["ParameterKey"]: p["ParameterValue"]
        for p in cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]["Parameters"]
    }
    assert (
        parameters["AlertEmail"],
        parameters["OperationsEmail"],
        parameters["FareAlertEmail"],
    ) == ("ops@example.com", "oncall@example.com", "fares@example.com")
    topic = "arn:aws:sns:us-east-1:123456789012:wildrydes-dev-operations"
    assert f"  alarms notify {topic}" in progress
    assert any(
        line.startswith("  dashboard https://us-east-1.console.aws.amazon.com/cloudwatch/")
        and line.endswith("#dashboards:name=wildrydes-dev")
        for line in progress
    )

    progress.clear()
    destroy(
        "dev",
        cloudformation=cloudformation,
        apigateway=apigateway,
        chalice=chalice,
        config_path=config_path,
        echo=progress.append,
        sleep=no_sleep,
    )

    assert chalice.calls[-1] == ["delete", "--stage", "dev"]
    assert [
        s["StackName"]
        for s in cloudformation.list_stacks()["StackSummaries"]
        if s["StackStatus"] != "DELETE_COMPLETE"
    ] == []
    assert not boto3.client("kinesis").list_streams()["StreamNames"]
    boto3.client("s3").head_bucket(Bucket=BUCKET)  # retained
    assert apigateway.get_usage_plans()["items"] == []
    assert apigateway.get_api_keys()["items"] == []
    assert f"aws s3 rb s3://{BUCKET} --force" in progress[-2]
    assert "aws kms schedule-key-deletion --key-id arn:aws:kms:" in progress[-1]


def test_a_bad_stage_setting_fails_before_anything_is_deployed(
    aws: None, config_path: Path
) -> None:
    config = json.loads(config_path.read_text())
    config["stages"]["dev"]["lambda_functions"]["aggregate"]["event_source"] = {
        "TumblingWindowInSeconds": 0
    }
    config_path.write_text(json.dumps(config))
    cloudformation = boto3.client("cloudformation")

    with pytest.raises(InfraError, match="TumblingWindowInSeconds"):
        deploy(
            "dev",
            cloudformation=cloudformation,
            lambda_client=boto3.client("lambda"),
            apigateway=boto3.client("apigateway"),
            chalice=FakeChalice(config_path),
            config_path=config_path,
            echo=print,
        )
    assert cloudformation.list_stacks()["StackSummaries"] == []


def test_the_api_key_is_made_once_and_its_plan_follows_a_new_rest_api(aws: None) -> None:
    apigateway = boto3.client("apigateway")
    first_api = rest_api()
    progress: list[str] = []

    key_id = ensure_api_key(apigateway, "wildrydes-dev", first_api, "api", echo=progress.append)
    again = ensure_api_key(apigateway, "wildrydes-dev", first_api, "api", echo=progress.append)
    second_api = rest_api()  # the API made again, e.g. after `chalice delete`
    moved = ensure_api_key(apigateway, "wildrydes-dev", second_api, "api", echo=progress.append)

    assert key_id == again == moved
    assert [k["id"] for k in apigateway.get_api_keys()["items"]] == [key_id]
    (plan,) = apigateway.get_usage_plans()["items"]
    assert {(s["apiId"], s["stage"]) for s in plan["apiStages"]} == {
        (first_api, "api"),
        (second_api, "api"),
    }
    assert plan["throttle"] == {"rateLimit": 10.0, "burstLimit": 20}
    assert plan["quota"]["limit"] == 500_000 and plan["quota"]["period"] == "DAY"
    assert [k["id"] for k in apigateway.get_usage_plan_keys(usagePlanId=plan["id"])["items"]] == [
        key_id
    ]
    assert progress == [
        "  created API key wildrydes-dev",
        f"  created usage plan wildrydes-dev on {first_api}/api",
        "  updated usage plan wildrydes-dev",
    ]


def test_removing_the_api_key_frees_the_stages_first_and_is_idempotent(aws: None) -> None:
    apigateway = boto3.client("apigateway")
    api = rest_api()
    ensure_api_key(apigateway, "wildrydes-dev", api, "api", echo=print)
    ensure_api_key(apigateway, "wildrydes-prod", api, "api", echo=print)
    calls: list[str] = []
    apigateway.meta.events.register(
        "before-call.apigateway.*", lambda model, **_: calls.append(model.name)
    )

    assert remove_api_key(apigateway, "wildrydes-dev", echo=print)
    assert not remove_api_key(apigateway, "wildrydes-dev", echo=print)

    assert [p["name"] for p in apigateway.get_usage_plans()["items"]] == ["wildrydes-prod"]
    assert [k["name"] for k in apigateway.get_api_keys()["items"]] == ["wildrydes-prod"]
    # AWS refuses to delete a plan that still holds a stage.
    assert calls.index("UpdateUsagePlan") < calls.index("DeleteUsagePlan")
