"""The mailbox against moto: alert notifications become emails in a Maildir."""

from __future__ import annotations

import email
import email.policy
import email.utils
import mailbox
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from chalicelib import names
from infra.resources import supporting_resources
from infra.system import ALERT_EMAIL, FARE_EMAIL, TOPICS
from local.mailbox import Mailbox, queue_name
from tests.faults import fail_calls

ADDRESS = "ops@example.com"
FARES = "fares@example.com"
NOW = 1_800_000_000.0


@dataclass
class Aws:
    sns: Any
    sqs: Any
    topic_arn: str

    def publish(self, message: str, subject: str | None = None, **attributes: str) -> str:
        kwargs: dict[str, Any] = {"TopicArn": self.topic_arn, "Message": message}
        if subject is not None:
            kwargs["Subject"] = subject
        if attributes:
            kwargs["MessageAttributes"] = {
                k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()
            }
        return str(self.sns.publish(**kwargs)["MessageId"])


@pytest.fixture
def aws(aws_env: None) -> Iterator[Aws]:
    """A moto account with the alert topic."""
    with mock_aws():
        sns = boto3.client("sns")
        topic_arn = sns.create_topic(Name=names.ALERT_TOPIC)["TopicArn"]
        yield Aws(sns, boto3.client("sqs"), topic_arn)


def mailbox_for(aws: Aws, path: Path) -> Mailbox:
    inbox = Mailbox(aws.sns, aws.sqs, aws.topic_arn, ADDRESS, path)
    inbox.start()
    return inbox


def emails(path: Path) -> list[EmailMessage]:
    """The Maildir's messages, parsed as a mail client would."""
    found = []
    maildir = mailbox.Maildir(path, create=False)
    for key in maildir.iterkeys():
        parsed = email.message_from_bytes(maildir.get_bytes(key), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        found.append(parsed)
    return found


def test_each_notification_becomes_an_email(aws: Aws, tmp_path: Path) -> None:
    path = tmp_path / "mail"
    inbox = mailbox_for(aws, path)
    before = datetime.now(UTC).replace(microsecond=0)
    sns_id = aws.publish("Shadowfax: health 97", "Shadowfax is unwell", kind="alert", vital="h")
    aws.publish("Rocinante: magic 99", "Rocinante is unwell", kind="alert")

    inbox.poll(NOW)

    # A standard Maildir: what a mail client (`mutt -f`) opens.
    assert all((path / sub).is_dir() for sub in ("new", "cur", "tmp"))
    assert len(list((path / "new").iterdir())) == 2
    messages = {m["Subject"]: m for m in emails(path)}
    assert set(messages) == {"Shadowfax is unwell", "Rocinante is unwell"}
    message = messages["Shadowfax is unwell"]
    assert message["From"] == "AWS Notifications <no-reply@sns.amazonaws.com>"
    assert message["To"] == ADDRESS
    assert message["Message-ID"] == f"<{sns_id}@sns.amazonaws.com>"
    assert message["X-SNS-TopicArn"] == aws.topic_arn
    assert message["X-SNS-MessageId"] == sns_id
    assert message["X-SNS-Attribute-kind"] == "alert"
    assert message["X-SNS-Attribute-vital"] == "h"
    sent = email.utils.parsedate_to_datetime(message["Date"])
    assert before <= sent <= datetime.now(UTC) + timedelta(seconds=1)
    body = message.get_content()
    assert body.startswith("Shadowfax: health 97\n")
    assert "local copy of an Amazon SNS email notification" in body
    assert inbox.stats() == {"emails": 2, "duplicates": 0, "rejected": 0}
    assert aws.sqs.receive_message(QueueUrl=inbox.queue_url).get("Messages", []) == []


def test_non_ascii_survives(aws: Aws, tmp_path: Path) -> None:
    inbox = mailbox_for(aws, tmp_path / "mail")
    aws.publish("Ünïcørn «Ālicorn» 健康 97 ❤", "Ālicorn ist krank – 健康 97")

    inbox.poll(NOW)

    [message] = emails(tmp_path / "mail")
    assert message["Subject"] == "Ālicorn ist krank – 健康 97"
    assert message.get_content().startswith("Ünïcørn «Ālicorn» 健康 97 ❤\n")


def test_the_sender_is_the_topic_display_name_and_the_subject_has_a_default(
    aws: Aws, tmp_path: Path
) -> None:
    aws.sns.set_topic_attributes(
        TopicArn=aws.topic_arn, AttributeName="DisplayName", AttributeValue="Wild Rydes vitals"
    )
    inbox = mailbox_for(aws, tmp_path / "mail")
    aws.publish("no subject given")

    inbox.poll(NOW)

    [message] = emails(tmp_path / "mail")
    assert message["From"] == "Wild Rydes vitals <no-reply@sns.amazonaws.com>"
    assert message["Subject"] == "AWS Notification Message"


def test_a_redelivered_notification_is_not_a_second_email(aws: Aws, tmp_path: Path) -> None:
    path = tmp_path / "mail"
    inbox = mailbox_for(aws, path)
    # Written, then the delete fails: SQS hands the message out again at once.
    aws.sqs.set_queue_attributes(QueueUrl=inbox.queue_url, Attributes={"VisibilityTimeout": "0"})
    fail_calls(aws.sqs, "sqs.DeleteMessage", "InternalError", times=1)
    aws.publish("Shadowfax: health 97", "Shadowfax is unwell")
    with pytest.raises(ClientError):
        inbox.poll(NOW)

    restarted = mailbox_for(aws, path)  # a fresh process finds the email already delivered
    restarted.poll(NOW + 1)

    assert [m["Subject"] for m in emails(path)] == ["Shadowfax is unwell"]
    assert restarted.stats() == {"emails": 0, "duplicates": 1, "rejected": 0}
    assert aws.sqs.receive_message(QueueUrl=inbox.queue_url).get("Messages", []) == []


def test_drain_delivers_until_the_queue_is_empty(aws: Aws, tmp_path: Path) -> None:
    inbox = mailbox_for(aws, tmp_path / "mail")
    for n in range(25):
        aws.publish(f"alert {n}", f"alert {n}")

    assert inbox.drain(NOW) is True

    assert sorted(m["Subject"] for m in emails(tmp_path / "mail")) == sorted(
        f"alert {n}" for n in range(25)
    )


def test_start_is_idempotent(aws: Aws, tmp_path: Path) -> None:
    inbox = mailbox_for(aws, tmp_path / "mail")
    inbox.start()
    mailbox_for(aws, tmp_path / "mail")  # a second run of the same mailbox
    aws.publish("once", "once")

    inbox.poll(NOW)

    assert len(emails(tmp_path / "mail")) == 1
    queues = aws.sqs.list_queues(QueueNamePrefix="local-mailbox-").get("QueueUrls", [])
    assert len(queues) == 1


def test_a_message_not_from_sns_is_dropped(aws: Aws, tmp_path: Path) -> None:
    inbox = mailbox_for(aws, tmp_path / "mail")
    aws.sqs.send_message(QueueUrl=inbox.queue_url, MessageBody="not json")

    assert inbox.drain(NOW) is True

    assert emails(tmp_path / "mail") == []
    assert inbox.stats()["rejected"] == 1


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("ops@example.com", "local-mailbox-ops-example-com"),
        ("first.last+alerts@example.co.uk", "local-mailbox-first-last-alerts-example-co-uk"),
    ],
)
def test_queue_names_follow_sqs_rules(address: str, expected: str) -> None:
    assert queue_name(address) == expected


def test_long_addresses_get_distinct_queue_names() -> None:
    long_a, long_b = "a" * 90 + "@example.com", "a" * 91 + "@example.com"

    assert len(queue_name(long_a)) <= 80
    assert queue_name(long_a) != queue_name(long_b)


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        (
            {ALERT_EMAIL: ADDRESS, FARE_EMAIL: "fares@example.com"},
            [[ADDRESS], ["fares@example.com"]],
        ),
        ({ALERT_EMAIL: ADDRESS}, [[ADDRESS], []]),
        ({ALERT_EMAIL: ""}, [[], []]),
        ({}, [[], []]),  # the parameters' default is empty
    ],
)
def test_the_mailboxes_and_the_deployed_subscriptions_come_from_one_description(
    parameters: dict[str, str], expected: list[list[str]]
) -> None:
    assert [topic.subscribers(parameters) for topic in TOPICS] == expected
    # What AWS is given: a subscription of the parameter's address to each
    # topic, made only when the parameter is not empty.
    template = supporting_resources("dev")
    for topic in TOPICS:
        subscription = template["Resources"][topic.subscription_id]
        assert subscription["Properties"] == {
            "TopicArn": {"Ref": topic.topic_id},
            "Protocol": "email",
            "Endpoint": {"Ref": topic.email_parameter},
        }
        assert template["Conditions"][subscription["Condition"]] == {
            "Fn::Not": [{"Fn::Equals": [{"Ref": topic.email_parameter}, ""]}]
        }
        assert template["Parameters"][topic.email_parameter]["Default"] == ""
