"""The system's resources, described once, as typed values.

Streams, tables and their keys, the mappings' failure queue, the archived
streams with their columns and prefixes, and the alert topics with their
email subscriptions. Two renderings
read them: `infra.resources` turns them into CloudFormation for AWS, and
`local/` builds its emulations straight from them (the Firehose emulation,
the DuckDB tables over the archive, the mailboxes). Neither parses the other
back. Only values a deployment decides (the bucket's generated name, ARNs)
come from what was provisioned (`local.provision.Provisioned`).

A data set adds its entries here (and its package in `chalicelib/`); its
mappings' settings, policies and alarms are written beside them, in
`infra/event_sources.py`, `infra/policies.py` and `infra/monitoring.py`
(docs/TAXI.md, "Adding a third data set").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib import names
from infra import names as infra_names

# Logical ids, shared by both renderings, the function overrides and tests.
RAW_STREAM_ID = "RawStream"
SUMMARY_STREAM_ID = "SummaryStream"
TRIP_STREAM_ID = "TripStream"
INSIGHT_STREAM_ID = "InsightStream"
SUMMARY_TABLE_ID = "SummaryTable"
STATUS_TABLE_ID = "StatusTable"
INSIGHT_TABLE_ID = "InsightTable"
TRIP_ID_TABLE_ID = "TripIdTable"
FARE_ALERT_TABLE_ID = "FareAlertTable"
SHARD_TURN_TABLE_ID = "ShardTurnTable"
ALERT_TOPIC_ID = "AlertTopic"
ALERT_TOPIC_POLICY_ID = "AlertTopicPolicy"
ALERT_SUBSCRIPTION_ID = "AlertEmailSubscription"
FARE_TOPIC_ID = "FareTopic"
FARE_TOPIC_POLICY_ID = "FareTopicPolicy"
FARE_SUBSCRIPTION_ID = "FareEmailSubscription"
DELIVERY_STREAM_ID = "ArchiveDeliveryStream"
TRIP_DELIVERY_STREAM_ID = "TripArchiveDeliveryStream"
GLUE_TABLE_ID = "ArchiveTable"
TRIP_TABLE_ID = "TripArchiveTable"

FAILURE_QUEUE_ID = "FailureQueue"

# Template parameters, and the conditions on them.
SHARD_COUNT = "ShardCount"
ALERT_EMAIL = "AlertEmail"
HAS_ALERT_EMAIL = "HasAlertEmail"
FARE_EMAIL = "FareAlertEmail"
HAS_FARE_EMAIL = "HasFareAlertEmail"


# Streams.
STREAM_RETENTION_HOURS = 24
SUMMARY_SHARDS = 1  # one summary row per unicorn per minute fits one shard
TAXI_SHARDS = 1  # a city's trips (tens of thousands a day) and its partial insights


@dataclass(frozen=True)
class Stream:
    """A Kinesis stream: encrypted with the data key, provisioned capacity."""

    logical_id: str
    name: str
    shards: int | None  # None: as many as the `ShardCount` parameter says


STREAMS = (
    Stream(RAW_STREAM_ID, names.RAW_STREAM, None),
    Stream(SUMMARY_STREAM_ID, names.SUMMARY_STREAM, SUMMARY_SHARDS),
    Stream(TRIP_STREAM_ID, names.TRIP_STREAM, TAXI_SHARDS),
    Stream(INSIGHT_STREAM_ID, names.INSIGHT_STREAM, TAXI_SHARDS),
)


# Tables: on demand, encrypted with the data key, point-in-time recovery.
Key = tuple[tuple[str, str], ...]  # (attribute, type S or N): the partition key, then the sort key


@dataclass(frozen=True)
class Table:
    """A DynamoDB table: its key, its global secondary indexes (all attributes projected)."""

    logical_id: str
    name: str
    key: Key
    indexes: Mapping[str, Key] = field(default_factory=dict)
    expires_at: str | None = None  # the attribute holding when an item expires (epoch seconds)


TABLES = (
    Table(SUMMARY_TABLE_ID, names.SUMMARY_TABLE, (("Name", "S"), ("StatusTime", "S"))),
    Table(STATUS_TABLE_ID, names.STATUS_TABLE, (("Name", "S"),)),
    Table(
        INSIGHT_TABLE_ID,
        names.INSIGHT_TABLE,
        (("Zone", "N"), ("WindowStart", "S")),
        indexes={names.INSIGHT_BY_DAY_INDEX: (("Day", "S"), ("WindowStart", "S"))},
    ),
    Table(TRIP_ID_TABLE_ID, names.TRIP_ID_TABLE, (("TripId", "S"),), expires_at="ExpiresAt"),
    Table(FARE_ALERT_TABLE_ID, names.FARE_ALERT_TABLE, (("Zone", "N"),)),
    Table(SHARD_TURN_TABLE_ID, names.SHARD_TURN_TABLE, (("Shard", "S"),)),
)
TABLE_KEYS: dict[str, Key] = {table.name: table.key for table in TABLES}


def table_keys(name: str) -> dict[str, Any]:
    """A table's `KeySchema`, `AttributeDefinitions` and indexes, as CreateTable takes them."""

    def schema(key: Key) -> list[dict[str, str]]:
        return [
            {"AttributeName": attribute, "KeyType": kind}
            for (attribute, _), kind in zip(key, ("HASH", "RANGE"), strict=False)
        ]

    (table,) = [t for t in TABLES if t.name == name]
    indexes = table.indexes
    types = dict(table.key)
    for key in indexes.values():
        types.update(key)
    definition: dict[str, Any] = {
        "KeySchema": schema(table.key),
        "AttributeDefinitions": [
            {"AttributeName": attribute, "AttributeType": kind}
            for attribute, kind in types.items()
        ],
    }
    if indexes:
        definition["GlobalSecondaryIndexes"] = [
            {"IndexName": index, "KeySchema": schema(key), "Projection": {"ProjectionType": "ALL"}}
            for index, key in indexes.items()
        ]
    return definition


# Where every Kinesis mapping describes a batch it gave up on (its on-failure destination).
FAILURE_QUEUE = infra_names.FAILURE_QUEUE
FAILURE_RETENTION_SECONDS = 14 * 24 * 3600  # SQS's maximum: time to investigate


# The archive: what Firehose delivers, and the Glue tables Athena (or DuckDB) reads it with.
ARCHIVE_BUFFER_SECONDS = 60  # the workshop's buffer
ARCHIVE_BUFFER_MIB = 5
ARCHIVE_COMPRESSION = "GZIP"
# Firehose's default key layout after the prefix, in Athena's date format.
ARCHIVE_HOUR_FORMAT = "yyyy/MM/dd/HH"
# The tables' columns: each record field, lower case (the SerDe matches keys
# case-insensitively), with its Hive type.
ARCHIVE_COLUMNS = (
    ("name", "string"),
    ("statustime", "timestamp"),
    ("latitude", "float"),
    ("longitude", "float"),
    ("distance", "float"),
    ("healthpoints", "int"),
    ("magicpoints", "int"),
)
# Doubles, not floats: a float's 7 digits cannot add up a day's fares to the cent.
TRIP_COLUMNS = (
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
)


@dataclass(frozen=True)
class ArchivedStream:
    """A stream Firehose archives under a prefix of its own, and the Glue table over it.

    Objects land at `<prefix><yyyy/MM/dd/HH>/<delivery stream>-…` (the hour
    UTC, Firehose's default layout), and the table projects that hour as its
    one partition, `dt`.
    """

    stream_id: str  # logical id of the Kinesis stream (one of STREAMS)
    delivery_id: str  # logical id of its delivery stream
    delivery_stream: str  # the delivery stream's name, part of every object's key
    prefix: str  # key prefix in the archive bucket
    table_id: str  # logical id of the Glue table
    table: str  # the table's name; its named queries are in infra/queries/<table>/
    description: str  # the table's
    columns: tuple[tuple[str, str], ...]  # (name, Hive type)
    database: str = infra_names.GLUE_DATABASE
    partition_key: str = "dt"
    partition_format: str = ARCHIVE_HOUR_FORMAT
    buffer_seconds: int = ARCHIVE_BUFFER_SECONDS
    buffer_mib: int = ARCHIVE_BUFFER_MIB
    # Where Firehose would put records a transformation failed on (the archive has none).
    error_prefix: str = infra_names.FIREHOSE_ERROR_PREFIX
    # GZIP: Firehose compresses each object and names it `….gz`; Athena's JSON SerDe,
    # DuckDB and the report read such objects as they are. JSON lines shrink about tenfold,
    # and S3 and Athena bill the bytes stored and scanned.
    compression: str = ARCHIVE_COMPRESSION

    @property
    def stream(self) -> str:
        """The name of the Kinesis stream it archives."""
        (name,) = [s.name for s in STREAMS if s.logical_id == self.stream_id]
        return name

    def location(self, bucket: str) -> str:
        """The table's location: its prefix of the archive bucket, as an s3:// URL."""
        return f"s3://{bucket}/{self.prefix}"


ARCHIVED_STREAMS = (
    ArchivedStream(
        RAW_STREAM_ID,
        DELIVERY_STREAM_ID,
        infra_names.DELIVERY_STREAM,
        names.ARCHIVE_PREFIX,
        GLUE_TABLE_ID,
        infra_names.GLUE_TABLE,
        "Every raw sensor record, one JSON object per line",
        ARCHIVE_COLUMNS,
    ),
    ArchivedStream(
        TRIP_STREAM_ID,
        TRIP_DELIVERY_STREAM_ID,
        infra_names.TRIP_DELIVERY_STREAM,
        names.TRIP_ARCHIVE_PREFIX,
        TRIP_TABLE_ID,
        infra_names.TRIP_GLUE_TABLE,
        "Every taxi trip record, one JSON object per line",
        TRIP_COLUMNS,
    ),
)


@dataclass(frozen=True)
class EmailTopic:
    """An alert topic, and the address a deployment may subscribe to it by email.

    The address is a template parameter; empty (the default) means no
    subscription, which the condition `has_email` says in the template.
    """

    topic_id: str
    policy_id: str
    subscription_id: str
    name: str
    display_name: str
    email_parameter: str
    has_email: str  # the condition: an address was given
    subject: str  # what the parameter's description says the alerts are about

    def subscribers(self, parameters: Mapping[str, str]) -> list[str]:
        """The addresses subscribed for these parameter values: the one given, if any."""
        address = str(parameters.get(self.email_parameter, ""))
        return [address] if address else []


TOPICS = (
    EmailTopic(
        ALERT_TOPIC_ID,
        ALERT_TOPIC_POLICY_ID,
        ALERT_SUBSCRIPTION_ID,
        names.ALERT_TOPIC,
        "Wild Rydes vitals",
        ALERT_EMAIL,
        HAS_ALERT_EMAIL,
        "vitals alerts",
    ),
    EmailTopic(
        FARE_TOPIC_ID,
        FARE_TOPIC_POLICY_ID,
        FARE_SUBSCRIPTION_ID,
        names.FARE_TOPIC,
        "Wild Rydes taxi fares",
        FARE_EMAIL,
        HAS_FARE_EMAIL,
        "taxi fare alerts",
    ),
)
