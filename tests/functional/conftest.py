"""Fixtures for driving the app's handlers under moto: AWS resources and a Chalice client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from chalice.test import Client
from moto import mock_aws

from app import app
from chalicelib import bootstrap, names
from chalicelib.adapters.clients import Clients
from chalicelib.bootstrap import Services
from chalicelib.settings import load_settings
from infra.system import TABLE_KEYS, table_keys
from tests.lambda_events import REGION
from tests.streams import read_stream

ARCHIVE_BUCKET = "wildrydes-archive-123456789012-us-east-1"
API_URL = "https://abc123.execute-api.us-east-1.amazonaws.com/api/"


@dataclass
class Aws:
    """Clients on the moto account, and what the tests need to read results back."""

    session: boto3.session.Session
    alert_queue_url: str
    fare_queue_url: str = ""

    def client(self, service: str) -> Any:
        return self.session.client(service)

    def stream_records(self, stream: str) -> list[dict[str, Any]]:
        """Every record on every shard of `stream`, shard by shard, in order."""
        return read_stream(self.client("kinesis"), stream)

    def emails(self, queue_url: str | None = None) -> list[dict[str, Any]]:
        """Every message published to the alert topic so far (via its SQS subscriber)."""
        sqs = self.client("sqs")
        queue_url = queue_url or self.alert_queue_url
        found = []
        while True:
            page = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            )
            messages = page.get("Messages", [])
            if not messages:
                return found
            for message in messages:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    def fare_emails(self) -> list[dict[str, Any]]:
        """Every message published to the taxi fare topic so far."""
        return self.emails(self.fare_queue_url)

    def table_items(self, table: str) -> list[dict[str, Any]]:
        dynamodb = self.client("dynamodb")
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
        while True:
            page = dynamodb.scan(**kwargs)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                return sorted(items, key=lambda i: json.dumps(i, sort_keys=True))
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def dead_letters(self) -> list[dict[str, Any]]:
        s3 = self.client("s3")
        listing = s3.list_objects_v2(Bucket=ARCHIVE_BUCKET, Prefix=names.DEAD_LETTER_PREFIX)
        lines = []
        for obj in listing.get("Contents", []):
            body = s3.get_object(Bucket=ARCHIVE_BUCKET, Key=obj["Key"])["Body"].read()
            lines.extend({**json.loads(line), "key": obj["Key"]} for line in body.splitlines())
        return lines


def inbox(session: boto3.session.Session, topic: str, queue: str) -> tuple[str, str]:
    """A topic and an SQS queue subscribed to it (standing in for email); their ARN and URL."""
    sns, sqs = session.client("sns"), session.client("sqs")
    topic_arn: str = sns.create_topic(Name=topic)["TopicArn"]
    queue_url: str = sqs.create_queue(QueueName=queue)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return topic_arn, queue_url


STREAMS = (names.RAW_STREAM, names.SUMMARY_STREAM, names.TRIP_STREAM, names.INSIGHT_STREAM)


@pytest.fixture
def aws(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    """A moto account with the pipeline's streams, tables, topic and bucket."""
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        kinesis = session.client("kinesis")
        for stream in STREAMS:
            kinesis.create_stream(StreamName=stream, ShardCount=1)
        dynamodb = session.client("dynamodb")
        for table in TABLE_KEYS:
            dynamodb.create_table(
                TableName=table, BillingMode="PAY_PER_REQUEST", **table_keys(table)
            )
        session.client("s3").create_bucket(Bucket=ARCHIVE_BUCKET)
        topic_arn, queue_url = inbox(session, names.ALERT_TOPIC, "alert-inbox")
        fare_topic_arn, fare_queue_url = inbox(session, names.FARE_TOPIC, "fare-inbox")

        monkeypatch.setenv("ARCHIVE_BUCKET", ARCHIVE_BUCKET)
        monkeypatch.setenv("ALERT_TOPIC_ARN", topic_arn)
        monkeypatch.setenv("FARE_TOPIC_ARN", fare_topic_arn)
        monkeypatch.setenv("API_URL", API_URL)
        bootstrap.install(Services(load_settings(), Clients(), sleep=lambda seconds: None))
        yield Aws(session, queue_url, fare_queue_url)
        bootstrap.reset()


@pytest.fixture
def client(aws: Aws) -> Iterator[Client]:
    with Client(app, stage_name="dev") as chalice_client:
        yield chalice_client
