"""The supporting resources: everything around the functions, as a CloudFormation fragment.

What `infra.system` describes (streams, tables, the failure queue, a
Firehose and a Glue table per archived stream, the alert topics) is rendered
here, with what only this rendering has: the archive bucket, the Athena
workgroup and named queries, the functions' log groups, roles, the customer
managed key that encrypts all of it at rest, and the alarms, operations
topic and dashboard (`infra.monitoring`). The same fragment is merged into
`chalice package`'s template and deployed on its own as the `chalice deploy`
path's supporting stack; the local runtime provisions from it too. Plain
dictionaries, one function per part of the system.

Security, in one place: every store is encrypted with the one key (rotated
yearly); the bucket, topic and queue refuse requests that are not over TLS;
roles and the key policy name exact actions (see `KEY_ADMINISTRATION`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chalicelib import names
from infra import accepted_findings
from infra import names as infra_names
from infra.cfn import deny_without_tls, get_att, ref
from infra.monitoring import monitoring_fragment
from infra.named_queries import named_queries
from infra.stages import CONFIG_PATH, Stage, load_stage
from infra.system import (
    ALERT_TOPIC_ID,
    ARCHIVED_STREAMS,
    FAILURE_QUEUE,
    FAILURE_QUEUE_ID,
    FAILURE_RETENTION_SECONDS,
    FARE_TOPIC_ID,
    INSIGHT_TABLE_ID,
    RAW_STREAM_ID,
    SHARD_COUNT,
    STATUS_TABLE_ID,
    STREAM_RETENTION_HOURS,
    STREAMS,
    SUMMARY_STREAM_ID,
    SUMMARY_TABLE_ID,
    TABLES,
    TOPICS,
    TRIP_STREAM_ID,
    ArchivedStream,
    EmailTopic,
    Table,
    table_keys,
)
from infra.triggers import function_logical_ids

# Logical ids of what only this rendering has (the described resources' are in infra.system).
FARE_TOPIC_OUTPUT = "FareTopicArn"
ARCHIVE_BUCKET_ID = "ArchiveBucket"
DELIVERY_ROLE_ID = "ArchiveDeliveryRole"
GLUE_DATABASE_ID = "ArchiveDatabase"
WORKGROUP_ID = "AthenaWorkGroup"
DATA_KEY_ID = "DataKey"
DATA_KEY_ALIAS_ID = "DataKeyAlias"
ARCHIVE_BUCKET_POLICY_ID = "ArchiveBucketPolicy"
FAILURE_QUEUE_POLICY_ID = "FailureQueuePolicy"

# Output keys; `infra deploy` reads the first three.
ARCHIVE_BUCKET_OUTPUT = "ArchiveBucketName"
ALERT_TOPIC_OUTPUT = "AlertTopicArn"
FAILURE_QUEUE_ARN_OUTPUT = "FailureQueueArn"
DATA_KEY_OUTPUT = "DataKeyArn"

# Settings of the supporting resources.
LOG_RETENTION_DAYS = 30  # the functions' logs are for operating them; the archive keeps the data
ARCHIVE_QUERY_RANGE = "NOW-1YEARS,NOW"
# The key policy names exact actions, no `kms:*`. The account's root principal
# stands for the account's IAM policies: with these two statements, who may
# administer or use the key is decided by IAM (every role here gets only
# kms:Decrypt and kms:GenerateDataKey on this key), as with AWS's default key
# policy, but without delegating actions a symmetric key never needs.
KEY_ADMINISTRATION = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)
# Using the key: what the services call on a caller's behalf (DynamoDB creates
# a grant when a table is created with the key; Kinesis, S3, SNS and SQS
# generate and decrypt data keys).
KEY_USE = (
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:RetireGrant",
)
# CloudWatch Logs encrypts a log group's events with the key itself, as its
# service principal, so the key policy must name it (IAM cannot); limited by
# the encryption context to this stage's log groups.
KEY_FOR_LOGS = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)
# What a role that only reads and writes encrypted data needs of the key.
KEY_DATA_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")

# The workshop used Hive's JsonSerDe, which fails a whole query on one line
# that is not JSON; the archive is raw, invalid records included, so the
# OpenX SerDe, which can skip such lines, keeps analysts' queries working.
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
JSON_SERDE_PARAMETERS = {"ignore.malformed.json": "true", "case.insensitive": "true"}


def supporting_resources(stage: str, config_path: Path = CONFIG_PATH) -> dict[str, Any]:
    """Parameters, Conditions, Resources and Outputs of the supporting resources."""
    settings = load_stage(stage, config_path)
    monitoring = monitoring_fragment(settings, key=ref(DATA_KEY_ID))
    return {
        "Parameters": {**_parameters(), **monitoring["Parameters"]},
        "Conditions": {
            **{
                topic.has_email: {"Fn::Not": [{"Fn::Equals": [ref(topic.email_parameter), ""]}]}
                for topic in TOPICS
            },
            **monitoring["Conditions"],
        },
        "Resources": {
            **_key(settings),
            **_streams(),
            **_tables(),
            **_alerts(),
            **_archive(),
            **_catalog(),
            **_athena(),
            **_failure_queue(),
            **_log_groups(settings),
            **monitoring["Resources"],
        },
        "Outputs": {**_outputs(), **monitoring["Outputs"]},
    }


def _parameters() -> dict[str, Any]:
    return {
        **{
            topic.email_parameter: {
                "Type": "String",
                "Default": "",
                "AllowedPattern": r"^$|^[^@\s]+@[^@\s]+$",
                "ConstraintDescription": "an email address, or empty for no email alerts",
                "Description": (
                    f"Email address subscribed to {topic.subject} (AWS sends a confirmation "
                    "email first); empty for none"
                ),
            }
            for topic in TOPICS
        },
        SHARD_COUNT: {
            "Type": "Number",
            "Default": 1,
            "MinValue": 1,
            "Description": f"Shards of the raw stream {names.RAW_STREAM}",
        },
    }


def log_group_logical_id(function: str) -> str:
    """The logical id of a function's log group, e.g. `AggregateLogGroup`."""
    return f"{function_logical_ids()[function]}LogGroup"


def _key(stage: Stage) -> dict[str, Any]:
    root = {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
    log_groups = [
        {
            "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
            + infra_names.log_group(stage.app_name, stage.name, function)
        }
        for function in function_logical_ids()
    ]
    # In a key policy "Resource" is always "*": it means the key the policy
    # is attached to (AWS rejects anything else there).
    statements = [
        {
            "Sid": "AdministerKeyThroughIam",
            "Effect": "Allow",
            "Principal": root,
            "Action": list(KEY_ADMINISTRATION),
            "Resource": "*",
        },
        {
            "Sid": "UseKeyThroughIam",
            "Effect": "Allow",
            "Principal": root,
            "Action": list(KEY_USE),
            "Resource": "*",
        },
        {
            "Sid": "EncryptFunctionLogs",
            "Effect": "Allow",
            "Principal": {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}},
            "Action": list(KEY_FOR_LOGS),
            "Resource": "*",
            "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
        },
        {
            # Alarms publish to the encrypted operations topic as CloudWatch's
            # service principal, which IAM cannot grant; which alarms may
            # publish is limited by the topic's policy (infra/monitoring.py).
            "Sid": "AlarmsPublishToEncryptedTopic",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": list(KEY_DATA_ACTIONS),
            "Resource": "*",
        },
    ]
    return {
        DATA_KEY_ID: {
            "Type": "AWS::KMS::Key",
            # Data encrypted with a deleted key is lost, the retained archive's
            # included: the key outlives the stack (deleting it is a decision).
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "Description": "Wild Rydes: encrypts streams, tables, archive, topic, queue, logs",
                "EnableKeyRotation": True,
                "KeySpec": "SYMMETRIC_DEFAULT",
                "KeyUsage": "ENCRYPT_DECRYPT",
                "KeyPolicy": {"Version": "2012-10-17", "Statement": statements},
            },
        },
        DATA_KEY_ALIAS_ID: {
            "Type": "AWS::KMS::Alias",
            "Properties": {
                "AliasName": infra_names.DATA_KEY_ALIAS,
                "TargetKeyId": ref(DATA_KEY_ID),
            },
        },
    }


def _key_arn() -> dict[str, list[str]]:
    return get_att(DATA_KEY_ID, "Arn")


def _streams() -> dict[str, Any]:
    return {
        stream.logical_id: {
            "Type": "AWS::Kinesis::Stream",
            "Properties": {
                "Name": stream.name,
                "ShardCount": ref(SHARD_COUNT) if stream.shards is None else stream.shards,
                "RetentionPeriodHours": STREAM_RETENTION_HOURS,
                "StreamEncryption": {"EncryptionType": "KMS", "KeyId": ref(DATA_KEY_ID)},
                "StreamModeDetails": {"StreamMode": "PROVISIONED"},
            },
        }
        for stream in STREAMS
    }


def _tables() -> dict[str, Any]:
    def table(described: Table) -> dict[str, Any]:
        properties = {
            "TableName": described.name,
            **table_keys(described.name),
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {
                "SSEEnabled": True,
                "SSEType": "KMS",
                "KMSMasterKeyId": _key_arn(),
            },
        }
        if described.expires_at is not None:
            properties["TimeToLiveSpecification"] = {
                "AttributeName": described.expires_at,
                "Enabled": True,
            }
        return {"Type": "AWS::DynamoDB::Table", "Properties": properties}

    return {described.logical_id: table(described) for described in TABLES}


def _alerts() -> dict[str, Any]:
    """The alert topics: the unicorns' vitals and the taxi fare watch, each with an email."""
    return {logical_id: r for topic in TOPICS for logical_id, r in _topic(topic).items()}


def _topic(topic: EmailTopic) -> dict[str, Any]:
    topic_id = topic.topic_id
    return {
        topic_id: {
            "Type": "AWS::SNS::Topic",
            "Properties": {
                "TopicName": topic.name,
                "DisplayName": topic.display_name,
                "KmsMasterKeyId": ref(DATA_KEY_ID),
            },
        },
        # Same-account publishers (the functions) are allowed by IAM; this
        # policy only refuses plain-HTTP publishing, as AWS recommends for topics.
        topic.policy_id: {
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {
                "Topics": [ref(topic_id)],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [deny_without_tls("sns:Publish", ref(topic_id))],
                },
            },
        },
        topic.subscription_id: {
            "Type": "AWS::SNS::Subscription",
            "Condition": topic.has_email,
            "Properties": {
                "TopicArn": ref(topic_id),
                "Protocol": "email",
                "Endpoint": ref(topic.email_parameter),
            },
        },
    }


def _archive() -> dict[str, Any]:
    bucket_arn = get_att(ARCHIVE_BUCKET_ID, "Arn")
    return {
        ARCHIVE_BUCKET_ID: {
            "Type": "AWS::S3::Bucket",
            # The archive is the system's history: it outlives the stack.
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Metadata": accepted_findings.checkov_metadata(accepted_findings.ARCHIVE_BUCKET),
            "Properties": {
                "BucketName": {"Fn::Sub": infra_names.ARCHIVE_BUCKET},
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {
                            "ServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": _key_arn(),
                            },
                            # One data key per bucket, not per object: far
                            # fewer KMS calls (and charges) for Firehose's
                            # objects and the functions' reads.
                            "BucketKeyEnabled": True,
                        }
                    ]
                },
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            },
        },
        ARCHIVE_BUCKET_POLICY_ID: {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": ref(ARCHIVE_BUCKET_ID),
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        deny_without_tls(
                            "s3:*", [bucket_arn, {"Fn::Sub": f"${{{ARCHIVE_BUCKET_ID}.Arn}}/*"}]
                        )
                    ],
                },
            },
        },
        DELIVERY_ROLE_ID: {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": "Firehose: the archived streams into the archive bucket",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "firehose.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            # Firehose passes the account as external id:
                            # no other account's stream can use the role.
                            "Condition": {
                                "StringEquals": {"sts:ExternalId": ref("AWS::AccountId")}
                            },
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": "ArchiveStreams",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Sid": "ReadArchivedStreams",
                                    "Effect": "Allow",
                                    "Action": [
                                        "kinesis:DescribeStream",
                                        "kinesis:GetRecords",
                                        "kinesis:GetShardIterator",
                                        "kinesis:ListShards",
                                    ],
                                    "Resource": [
                                        get_att(archived.stream_id, "Arn")
                                        for archived in ARCHIVED_STREAMS
                                    ],
                                },
                                {
                                    "Sid": "FindArchive",
                                    "Effect": "Allow",
                                    "Action": [
                                        "s3:GetBucketLocation",
                                        "s3:ListBucket",
                                        "s3:ListBucketMultipartUploads",
                                    ],
                                    "Resource": bucket_arn,
                                },
                                {
                                    "Sid": "WriteArchive",
                                    "Effect": "Allow",
                                    "Action": [
                                        "s3:AbortMultipartUpload",
                                        "s3:GetObject",
                                        "s3:PutObject",
                                    ],
                                    "Resource": [
                                        {"Fn::Sub": f"${{{ARCHIVE_BUCKET_ID}.Arn}}/{prefix}*"}
                                        for prefix in dict.fromkeys(
                                            [
                                                *(a.prefix for a in ARCHIVED_STREAMS),
                                                *(a.error_prefix for a in ARCHIVED_STREAMS),
                                            ]
                                        )
                                    ],
                                },
                                {
                                    # Decrypt: the streams' records;
                                    # GenerateDataKey: the archive's objects.
                                    "Sid": "UseDataKey",
                                    "Effect": "Allow",
                                    "Action": list(KEY_DATA_ACTIONS),
                                    "Resource": _key_arn(),
                                },
                            ],
                        },
                    }
                ],
            },
        },
        **{archived.delivery_id: _delivery_stream(archived) for archived in ARCHIVED_STREAMS},
    }


def _delivery_stream(archived: ArchivedStream) -> dict[str, Any]:
    """Firehose from `archived`'s stream to its prefix of the archive bucket, every minute."""
    bucket_arn = get_att(ARCHIVE_BUCKET_ID, "Arn")
    role_arn = get_att(DELIVERY_ROLE_ID, "Arn")
    return {
        "Type": "AWS::KinesisFirehose::DeliveryStream",
        "Properties": {
            "DeliveryStreamName": archived.delivery_stream,
            "DeliveryStreamType": "KinesisStreamAsSource",
            "KinesisStreamSourceConfiguration": {
                "KinesisStreamARN": get_att(archived.stream_id, "Arn"),
                "RoleARN": role_arn,
            },
            "ExtendedS3DestinationConfiguration": {
                "BucketARN": bucket_arn,
                "RoleARN": role_arn,
                # Firehose adds YYYY/MM/DD/HH/ (UTC) after the prefix, which
                # the Glue table's partition projection reads.
                "Prefix": archived.prefix,
                "ErrorOutputPrefix": archived.error_prefix,
                "BufferingHints": {
                    "IntervalInSeconds": archived.buffer_seconds,
                    "SizeInMBs": archived.buffer_mib,
                },
                # Producers end each record with a newline, so objects are
                # JSON lines as they are; compressed, as `.gz` objects, which
                # Athena's JSON SerDe and DuckDB read by their extension.
                "CompressionFormat": archived.compression,
                "EncryptionConfiguration": {"KMSEncryptionConfig": {"AWSKMSKeyARN": _key_arn()}},
            },
        },
    }


def _catalog() -> dict[str, Any]:
    return {
        GLUE_DATABASE_ID: {
            "Type": "AWS::Glue::Database",
            "Properties": {
                "CatalogId": ref("AWS::AccountId"),
                "DatabaseInput": {
                    "Name": infra_names.GLUE_DATABASE,
                    "Description": "Wild Rydes: the archived streams",
                },
            },
        },
        **{archived.table_id: _glue_table(archived) for archived in ARCHIVED_STREAMS},
    }


def _glue_table(archived: ArchivedStream) -> dict[str, Any]:
    """The JSON table over `archived`'s prefix, partitioned by the hour Firehose files under."""
    location = archived.location(f"${{{ARCHIVE_BUCKET_ID}}}")
    key = archived.partition_key
    return {
        "Type": "AWS::Glue::Table",
        "Properties": {
            "CatalogId": ref("AWS::AccountId"),
            "DatabaseName": ref(GLUE_DATABASE_ID),
            "TableInput": {
                "Name": archived.table,
                "Description": archived.description,
                "TableType": "EXTERNAL_TABLE",
                # Partition projection: Athena computes the hourly prefixes
                # Firehose writes, so new hours need no crawler or MSCK.
                "Parameters": {
                    "classification": "json",
                    "projection.enabled": "true",
                    f"projection.{key}.type": "date",
                    f"projection.{key}.format": archived.partition_format,
                    f"projection.{key}.range": ARCHIVE_QUERY_RANGE,
                    f"projection.{key}.interval": "1",
                    f"projection.{key}.interval.unit": "HOURS",
                    # ${!dt} is Fn::Sub's escape for a literal ${dt}.
                    "storage.location.template": {"Fn::Sub": location + f"${{!{key}}}/"},
                },
                "PartitionKeys": [{"Name": key, "Type": "string"}],
                "StorageDescriptor": {
                    "Columns": [{"Name": n, "Type": t} for n, t in archived.columns],
                    "Location": {"Fn::Sub": location},
                    "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
                    "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                    "SerdeInfo": {
                        "SerializationLibrary": JSON_SERDE,
                        "Parameters": JSON_SERDE_PARAMETERS,
                    },
                },
            },
        },
    }


def _athena() -> dict[str, Any]:
    results = infra_names.ATHENA_RESULTS_PREFIX
    resources: dict[str, Any] = {
        WORKGROUP_ID: {
            "Type": "AWS::Athena::WorkGroup",
            "Properties": {
                "Name": infra_names.ATHENA_WORKGROUP,
                "Description": "Wild Rydes: ad-hoc SQL over the archive",
                "State": "ENABLED",
                # Lets the stack delete the workgroup with its named queries.
                "RecursiveDeleteOption": True,
                "WorkGroupConfiguration": {
                    # Enforced, so every query's results land in the archive
                    # bucket whatever the client asks for.
                    "EnforceWorkGroupConfiguration": True,
                    "PublishCloudWatchMetricsEnabled": True,
                    "ResultConfiguration": {
                        "OutputLocation": {"Fn::Sub": f"s3://${{{ARCHIVE_BUCKET_ID}}}/{results}"},
                        "EncryptionConfiguration": {
                            "EncryptionOption": "SSE_KMS",
                            "KmsKey": _key_arn(),
                        },
                    },
                },
            },
        }
    }
    tables = {archived.table for archived in ARCHIVED_STREAMS}
    for query in named_queries():
        if query.table not in tables:
            raise ValueError(
                f"named query {query.name} is filed under {query.table}/, which is not a "
                f"Glue table of the archive ({', '.join(sorted(tables))})"
            )
        resources[query.logical_id] = {
            "Type": "AWS::Athena::NamedQuery",
            "Properties": {
                "Name": query.name,
                "Description": query.description,
                "Database": ref(GLUE_DATABASE_ID),
                "WorkGroup": ref(WORKGROUP_ID),
                "QueryString": query.sql,
            },
        }
    return resources


def _failure_queue() -> dict[str, Any]:
    return {
        FAILURE_QUEUE_ID: {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": FAILURE_QUEUE,
                "MessageRetentionPeriod": FAILURE_RETENTION_SECONDS,
                "KmsMasterKeyId": ref(DATA_KEY_ID),
            },
        },
        FAILURE_QUEUE_POLICY_ID: {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [ref(FAILURE_QUEUE_ID)],
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [deny_without_tls("sqs:*", get_att(FAILURE_QUEUE_ID, "Arn"))],
                },
            },
        },
    }


def _log_groups(stage: Stage) -> dict[str, Any]:
    """One log group per function, made before the function so that Lambda never makes it.

    Lambda would create it on first use, unencrypted and kept forever; made
    here it has a retention and the key, and the roles need no
    logs:CreateLogGroup.
    """
    return {
        log_group_logical_id(function): {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": infra_names.log_group(stage.app_name, stage.name, function),
                "RetentionInDays": LOG_RETENTION_DAYS,
                "KmsKeyId": _key_arn(),
            },
        }
        for function in function_logical_ids()
    }


def _outputs() -> dict[str, Any]:
    def output(description: str, value: Any) -> dict[str, Any]:
        return {"Description": description, "Value": value}

    return {
        ARCHIVE_BUCKET_OUTPUT: output(
            "Archive bucket (retained on delete)", ref(ARCHIVE_BUCKET_ID)
        ),
        ALERT_TOPIC_OUTPUT: output("Topic of the vitals alerts", ref(ALERT_TOPIC_ID)),
        FARE_TOPIC_OUTPUT: output("Topic of the taxi fare alerts", ref(FARE_TOPIC_ID)),
        DATA_KEY_OUTPUT: output(
            "KMS key encrypting every store; producers need kms:GenerateDataKey on it, "
            "readers of the streams kms:Decrypt",
            _key_arn(),
        ),
        "FailureQueueUrl": output(
            "Where event source mappings describe discarded batches", ref(FAILURE_QUEUE_ID)
        ),
        FAILURE_QUEUE_ARN_OUTPUT: output(
            "ARN of the failure queue", get_att(FAILURE_QUEUE_ID, "Arn")
        ),
        "RawStreamName": output("Stream the producer writes to", ref(RAW_STREAM_ID)),
        "SummaryStreamName": output("Stream of per-minute summaries", ref(SUMMARY_STREAM_ID)),
        "SummaryTableName": output("Table of per-minute summaries", ref(SUMMARY_TABLE_ID)),
        "StatusTableName": output("Table of each unicorn's latest status", ref(STATUS_TABLE_ID)),
        "TripStreamName": output(
            "Stream of taxi trips (POST /trips writes to it)", ref(TRIP_STREAM_ID)
        ),
        "InsightTableName": output(
            "Table of taxi insights per pickup zone and 15 minutes", ref(INSIGHT_TABLE_ID)
        ),
        # Names, not Refs, for what the `chalice deploy` path cannot always
        # resolve (emulators skip these types); they are fixed names anyway.
        "DeliveryStreamName": output(
            "Firehose archiving the raw stream", infra_names.DELIVERY_STREAM
        ),
        "TripDeliveryStreamName": output(
            "Firehose archiving the taxi trips", infra_names.TRIP_DELIVERY_STREAM
        ),
        "GlueDatabaseName": output("Glue database of the archive", infra_names.GLUE_DATABASE),
        "AthenaWorkGroupName": output(
            "Athena workgroup for the archive", infra_names.ATHENA_WORKGROUP
        ),
    }
