"""What `python -m infra package --stage dev` produces: one template with the whole system.

Reads build/dev/package/sam.json, the file a user hands to CloudFormation, and
checks each part of the system and the settings that matter for it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib import names
from infra.named_queries import QUERIES_DIR
from infra.template import (
    FUNCTION_DEPENDENCIES,
    merge_template,
    references,
)

# These read the output of a real `python -m infra package` run.
pytestmark = pytest.mark.slow

FAILURE_QUEUE_ARN = {"Fn::GetAtt": ["FailureQueue", "Arn"]}
DATA_KEY = {"Ref": "DataKey"}
DATA_KEY_ARN = {"Fn::GetAtt": ["DataKey", "Arn"]}


def of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in resources.items() if v["Type"] == kind}


def test_the_merge_template_is_written_beside_the_package(package_dir: Any) -> None:
    assert (package_dir / "merge-template.json").is_file()
    assert (package_dir / "package" / "deployment.zip").is_file()


def test_parameters_alert_email_and_shard_count(sam: dict[str, Any]) -> None:
    assert sam["Parameters"]["AlertEmail"]["Default"] == ""
    assert sam["Parameters"]["ShardCount"]["Default"] == 1
    assert sam["Conditions"]["HasAlertEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlertEmail"}, ""]}]
    }


def test_every_stream_encrypted_with_the_key_and_a_day_of_retention(
    resources: dict[str, Any],
) -> None:
    streams = {
        r["Properties"]["Name"]: r["Properties"]
        for r in of_type(resources, "AWS::Kinesis::Stream").values()
    }
    assert set(streams) == {
        names.RAW_STREAM,
        names.SUMMARY_STREAM,
        names.TRIP_STREAM,
        names.INSIGHT_STREAM,
    }
    for stream in streams.values():
        assert stream["RetentionPeriodHours"] == 24
        assert stream["StreamEncryption"] == {"EncryptionType": "KMS", "KeyId": DATA_KEY}
    assert streams[names.RAW_STREAM]["ShardCount"] == {"Ref": "ShardCount"}


@pytest.mark.parametrize(
    ("table", "keys", "types"),
    [
        (names.SUMMARY_TABLE, [("Name", "HASH"), ("StatusTime", "RANGE")], "SS"),
        (names.STATUS_TABLE, [("Name", "HASH")], "S"),
        (names.INSIGHT_TABLE, [("Zone", "HASH"), ("WindowStart", "RANGE")], "NS"),
        (names.TRIP_ID_TABLE, [("TripId", "HASH")], "S"),
        (names.FARE_ALERT_TABLE, [("Zone", "HASH")], "N"),
        (names.SHARD_TURN_TABLE, [("Shard", "HASH")], "S"),
    ],
)
def test_tables_keys_on_demand_encrypted_with_point_in_time_recovery(
    resources: dict[str, Any], table: str, keys: list[tuple[str, str]], types: str
) -> None:
    (props,) = [
        r["Properties"]
        for r in of_type(resources, "AWS::DynamoDB::Table").values()
        if r["Properties"]["TableName"] == table
    ]
    assert [(k["AttributeName"], k["KeyType"]) for k in props["KeySchema"]] == keys
    defined = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    assert "".join(defined[name] for name, _ in keys) == types
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": DATA_KEY_ARN,
    }


def test_insights_have_a_by_day_index_and_trip_ids_expire(resources: dict[str, Any]) -> None:
    tables = {
        r["Properties"]["TableName"]: r["Properties"]
        for r in of_type(resources, "AWS::DynamoDB::Table").values()
    }
    (index,) = tables[names.INSIGHT_TABLE]["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "ByDay"
    assert [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]] == [
        ("Day", "HASH"),
        ("WindowStart", "RANGE"),
    ]
    assert tables[names.TRIP_ID_TABLE]["TimeToLiveSpecification"] == {
        "AttributeName": "ExpiresAt",
        "Enabled": True,
    }


@pytest.mark.parametrize(
    ("topic", "name", "subscription", "email"),
    [
        ("AlertTopic", names.ALERT_TOPIC, "AlertEmailSubscription", "AlertEmail"),
        ("FareTopic", names.FARE_TOPIC, "FareEmailSubscription", "FareAlertEmail"),
    ],
)
def test_each_alert_topic_has_an_email_subscription_only_with_an_address(
    resources: dict[str, Any], topic: str, name: str, subscription: str, email: str
) -> None:
    assert resources[topic]["Properties"]["TopicName"] == name
    assert resources[topic]["Properties"]["KmsMasterKeyId"] == DATA_KEY
    assert resources[subscription]["Condition"] == f"Has{email}"
    assert resources[subscription]["Properties"] == {
        "TopicArn": {"Ref": topic},
        "Protocol": "email",
        "Endpoint": {"Ref": email},
    }


def test_archive_bucket_is_private_encrypted_and_outlives_the_stack(
    resources: dict[str, Any],
) -> None:
    bucket = resources["ArchiveBucket"]
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    props = bucket["Properties"]
    assert props["BucketName"] == {"Fn::Sub": "wildrydes-archive-${AWS::AccountId}-${AWS::Region}"}
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule == {
        "ServerSideEncryptionByDefault": {
            "SSEAlgorithm": "aws:kms",
            "KMSMasterKeyID": DATA_KEY_ARN,
        },
        "BucketKeyEnabled": True,
    }
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(props["PublicAccessBlockConfiguration"]) == 4


# Each archived stream: (stream's logical id, delivery stream, prefix, Glue table).
ARCHIVED = [
    ("RawStream", "wildrydes", "raw/", "wildrydes"),
    ("TripStream", "taxi-trips", "trips/", "taxi_trips"),
]
RAW_COLUMNS = [
    ("name", "string"),
    ("statustime", "timestamp"),
    ("latitude", "float"),
    ("longitude", "float"),
    ("distance", "float"),
    ("healthpoints", "int"),
    ("magicpoints", "int"),
]
TRIP_COLUMNS = [
    ("tripid", "string"),
    ("pickuptime", "timestamp"),
    ("dropofftime", "timestamp"),
    ("pickupzone", "int"),
    ("dropoffzone", "int"),
    ("distance", "double"),
    ("fare", "double"),
    ("tip", "double"),
    ("passengers", "int"),
    ("paymenttype", "string"),
]


def test_a_firehose_archives_each_archived_stream_every_minute_under_its_prefix(
    resources: dict[str, Any],
) -> None:
    firehoses = {
        r["Properties"]["DeliveryStreamName"]: r["Properties"]
        for r in of_type(resources, "AWS::KinesisFirehose::DeliveryStream").values()
    }
    assert set(firehoses) == {name for _, name, _, _ in ARCHIVED}
    assert names.ARCHIVE_PREFIX == "raw/" and names.TRIP_ARCHIVE_PREFIX == "trips/"
    for stream, name, prefix, _ in ARCHIVED:
        props = firehoses[name]
        assert props["DeliveryStreamType"] == "KinesisStreamAsSource"
        source = props["KinesisStreamSourceConfiguration"]
        assert source["KinesisStreamARN"] == {"Fn::GetAtt": [stream, "Arn"]}
        assert source["RoleARN"] == {"Fn::GetAtt": ["ArchiveDeliveryRole", "Arn"]}
        s3 = props["ExtendedS3DestinationConfiguration"]
        assert s3["BucketARN"] == {"Fn::GetAtt": ["ArchiveBucket", "Arn"]}
        assert s3["Prefix"] == prefix
        assert s3["ErrorOutputPrefix"] == "firehose-errors/"
        assert s3["BufferingHints"] == {"IntervalInSeconds": 60, "SizeInMBs": 5}
        # Gzipped objects (`.gz`): S3 stores, and Athena scans, several times fewer bytes.
        assert s3["CompressionFormat"] == "GZIP"
        assert s3["EncryptionConfiguration"] == {
            "KMSEncryptionConfig": {"AWSKMSKeyARN": DATA_KEY_ARN}
        }


def test_firehose_role_reads_only_the_archived_streams_and_writes_only_their_prefixes(
    resources: dict[str, Any],
) -> None:
    roles = {
        f["Properties"]["KinesisStreamSourceConfiguration"]["RoleARN"]["Fn::GetAtt"][0]
        for f in of_type(resources, "AWS::KinesisFirehose::DeliveryStream").values()
    }
    (role_id,) = roles
    role = resources[role_id]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "firehose.amazonaws.com"
    }
    (policy,) = role["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert set(statements) == {"ReadArchivedStreams", "FindArchive", "WriteArchive", "UseDataKey"}
    assert statements["ReadArchivedStreams"]["Resource"] == [
        {"Fn::GetAtt": [stream, "Arn"]} for stream, _, _, _ in ARCHIVED
    ]
    assert all(a.startswith("kinesis:") for a in statements["ReadArchivedStreams"]["Action"])
    assert "s3:PutObject" in statements["WriteArchive"]["Action"]
    assert statements["WriteArchive"]["Resource"] == [
        {"Fn::Sub": "${ArchiveBucket.Arn}/raw/*"},
        {"Fn::Sub": "${ArchiveBucket.Arn}/trips/*"},
        {"Fn::Sub": "${ArchiveBucket.Arn}/firehose-errors/*"},
    ]
    assert "s3:PutObject" not in statements["FindArchive"]["Action"]
    # Decrypt for the streams' records, a data key for the archive's objects.
    assert statements["UseDataKey"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert statements["UseDataKey"]["Resource"] == DATA_KEY_ARN


@pytest.mark.parametrize(
    ("name", "prefix", "columns"),
    [("wildrydes", "raw/", RAW_COLUMNS), ("taxi_trips", "trips/", TRIP_COLUMNS)],
)
def test_glue_table_reads_its_prefix_as_json_with_hourly_projection(
    resources: dict[str, Any], name: str, prefix: str, columns: list[tuple[str, str]]
) -> None:
    database = resources["ArchiveDatabase"]["Properties"]["DatabaseInput"]
    assert database["Name"] == "wildrydes"
    tables = {
        t["Properties"]["TableInput"]["Name"]: t["Properties"]
        for t in of_type(resources, "AWS::Glue::Table").values()
    }
    assert set(tables) == {table for _, _, _, table in ARCHIVED}
    table = tables[name]
    assert table["DatabaseName"] == {"Ref": "ArchiveDatabase"}
    table_input = table["TableInput"]
    storage = table_input["StorageDescriptor"]
    assert [(c["Name"], c["Type"]) for c in storage["Columns"]] == columns
    assert storage["SerdeInfo"] == {
        "SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe",
        "Parameters": {"ignore.malformed.json": "true", "case.insensitive": "true"},
    }
    assert storage["Location"] == {"Fn::Sub": f"s3://${{ArchiveBucket}}/{prefix}"}
    assert table_input["PartitionKeys"] == [{"Name": "dt", "Type": "string"}]
    parameters = table_input["Parameters"]
    assert parameters["projection.enabled"] == "true"
    assert parameters["projection.dt.type"] == "date"
    assert parameters["projection.dt.format"] == "yyyy/MM/dd/HH"
    assert parameters["projection.dt.interval"] == "1"
    assert parameters["projection.dt.interval.unit"] == "HOURS"
    assert parameters["projection.dt.range"].endswith(",NOW")
    # ${!dt} is how Fn::Sub writes a literal ${dt} for Athena to fill in.
    assert parameters["storage.location.template"] == {
        "Fn::Sub": f"s3://${{ArchiveBucket}}/{prefix}${{!dt}}/"
    }


def test_athena_workgroup_enforces_results_in_the_archive_bucket(
    resources: dict[str, Any],
) -> None:
    props = resources["AthenaWorkGroup"]["Properties"]
    assert props["Name"] == "wildrydes"
    configuration = props["WorkGroupConfiguration"]
    assert configuration["EnforceWorkGroupConfiguration"] is True
    assert configuration["ResultConfiguration"]["OutputLocation"] == {
        "Fn::Sub": "s3://${ArchiveBucket}/athena-results/"
    }
    assert configuration["ResultConfiguration"]["EncryptionConfiguration"] == {
        "EncryptionOption": "SSE_KMS",
        "KmsKey": DATA_KEY_ARN,
    }


def test_every_query_file_is_a_named_query_with_the_files_sql(
    resources: dict[str, Any],
) -> None:
    queries = {
        r["Properties"]["Name"]: r["Properties"]
        for r in of_type(resources, "AWS::Athena::NamedQuery").values()
    }
    files = sorted(QUERIES_DIR.glob("*/*.sql"))
    assert len(files) == len(queries) == 6  # the workshop's four and the taxi trips' two
    for path in files:
        query = queries[path.stem.partition("_")[2]]
        assert query["QueryString"] == path.read_text()
        assert query["WorkGroup"] == {"Ref": "AthenaWorkGroup"}
        assert query["Database"] == {"Ref": "ArchiveDatabase"}
        assert query["Description"]
    assert {p.parent.name for p in files} == {"wildrydes", "taxi_trips"}


def test_failure_queue_keeps_messages_two_weeks_encrypted(resources: dict[str, Any]) -> None:
    props = resources["FailureQueue"]["Properties"]
    assert props["QueueName"] == "wildrydes-stream-failures"
    assert props["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert props["KmsMasterKeyId"] == DATA_KEY
    assert "SqsManagedSseEnabled" not in props


def event(resources: dict[str, Any], logical_id: str) -> dict[str, Any]:
    properties: dict[str, Any] = resources[logical_id]["Properties"]["Events"][
        f"{logical_id}KinesisEventSource"
    ]
    return properties


def test_aggregate_event_has_its_tumbling_window_and_retries(resources: dict[str, Any]) -> None:
    source = event(resources, "Aggregate")
    assert source["Type"] == "Kinesis"
    assert source["Properties"] == {
        # From the Chalice decorator, kept by the merge:
        "Stream": {
            "Fn::Sub": (
                "arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/wildrydes"
            )
        },
        "BatchSize": 1000,
        "StartingPosition": "TRIM_HORIZON",
        "MaximumBatchingWindowInSeconds": 5,
        # From infra:
        "TumblingWindowInSeconds": 60,
        "BisectBatchOnFunctionError": False,
        "MaximumRetryAttempts": 50,
        "MaximumRecordAgeInSeconds": 21600,
        "ParallelizationFactor": 1,
        "DestinationConfig": {"OnFailure": {"Destination": FAILURE_QUEUE_ARN}},
    }


@pytest.mark.parametrize(
    ("logical_id", "retries", "age"), [("Persist", 10, 86400), ("Vitals", 5, 600)]
)
def test_persist_and_vitals_bisect_and_report_partial_failures(
    resources: dict[str, Any], logical_id: str, retries: int, age: int
) -> None:
    props = event(resources, logical_id)["Properties"]
    assert props["BisectBatchOnFunctionError"] is True
    assert props["MaximumRetryAttempts"] == retries
    assert props["MaximumRecordAgeInSeconds"] == age
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["ParallelizationFactor"] == 1
    assert props["DestinationConfig"] == {"OnFailure": {"Destination": FAILURE_QUEUE_ARN}}
    assert "TumblingWindowInSeconds" not in props


def variables(resources: dict[str, Any], logical_id: str) -> dict[str, Any]:
    result: dict[str, Any] = resources[logical_id]["Properties"]["Environment"]["Variables"]
    return result


@pytest.mark.parametrize("logical_id", ["Aggregate", "Persist"])
def test_archive_bucket_reaches_the_functions_that_keep_rejected_records(
    resources: dict[str, Any], logical_id: str
) -> None:
    env = variables(resources, logical_id)
    assert env["ARCHIVE_BUCKET"] == {"Ref": "ArchiveBucket"}
    assert env["LOG_LEVEL"] == "INFO"  # Chalice's own variables survive the merge


def test_the_report_runs_every_quarter_hour_and_writes_to_the_archive_bucket(
    resources: dict[str, Any],
) -> None:
    report = resources["Report"]["Properties"]
    (event,) = report["Events"].values()
    assert event["Type"] == "Schedule"
    assert event["Properties"]["Schedule"] == "rate(15 minutes)"
    assert report["Handler"] == "app.report"
    # Reading an hour of archive: room and time for its 64 MiB budget.
    assert (report["MemorySize"], report["Timeout"]) == (512, 300)
    assert variables(resources, "Report")["ARCHIVE_BUCKET"] == {"Ref": "ArchiveBucket"}


def test_vitals_gets_the_topic_and_the_api_url(resources: dict[str, Any]) -> None:
    env = variables(resources, "Vitals")
    assert env["ALERT_TOPIC_ARN"] == {"Ref": "AlertTopic"}
    assert env["API_URL"] == {
        "Fn::Sub": "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api/"
    }
    assert env["VITALS_THRESHOLD"] == "100"


def test_every_function_comes_after_streams_tables_and_failure_queue(
    resources: dict[str, Any],
) -> None:
    for logical_id in ("Aggregate", "Persist", "Vitals", "Report", "APIHandler"):
        function = resources[logical_id]
        # A reference orders creation as DependsOn does; the two together must
        # cover every dependency, without repeating one (cfn-lint W3005).
        referenced = references(function["Properties"])
        depends_on = set(function["DependsOn"])
        assert not depends_on & referenced
        assert set(FUNCTION_DEPENDENCIES) <= depends_on | referenced


def test_outputs_name_what_users_and_the_deploy_step_need(sam: dict[str, Any]) -> None:
    outputs = sam["Outputs"]
    assert outputs["ArchiveBucketName"]["Value"] == {"Ref": "ArchiveBucket"}
    assert outputs["AlertTopicArn"]["Value"] == {"Ref": "AlertTopic"}
    assert outputs["FailureQueueUrl"]["Value"] == {"Ref": "FailureQueue"}
    assert outputs["FailureQueueArn"]["Value"] == FAILURE_QUEUE_ARN
    assert outputs["AthenaWorkGroupName"]["Value"] == "wildrydes"
    assert outputs["DeliveryStreamName"]["Value"] == "wildrydes"
    assert outputs["TripDeliveryStreamName"]["Value"] == "taxi-trips"
    assert outputs["RawStreamName"]["Value"] == {"Ref": "RawStream"}
    assert outputs["SummaryStreamName"]["Value"] == {"Ref": "SummaryStream"}
    assert "EndpointURL" in outputs  # Chalice's, kept by the merge


def test_the_written_merge_template_is_the_one_infra_renders(package_dir: Any) -> None:
    written = json.loads((package_dir / "merge-template.json").read_text())
    assert written == merge_template("dev")
