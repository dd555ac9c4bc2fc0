"""Alert emails on one machine: an SNS email subscription delivered into a local Maildir.

moto accepts email subscriptions and drops their messages. The mailbox stands
in for the mail server: it subscribes an SQS queue of its own to the topic
(SNS's JSON envelope keeps the subject, time, message id and attributes) and
turns each notification into an email in a standard Maildir (new/, cur/,
tmp/), which any mail client opens (`mutt -f <path>`). The addresses to
emulate are the topics' subscribers as `infra.system.TOPICS` describes them,
for the parameters the stack was provisioned with.
"""

from __future__ import annotations

import email.policy
import email.utils
import hashlib
import json
import logging
import mailbox
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

QUEUE_PREFIX = "local-mailbox-"
MAX_QUEUE_NAME = 80  # SQS's limit
SENDER_ADDRESS = "no-reply@sns.amazonaws.com"
# SNS puts the topic's display name in From, and this when it has none.
DEFAULT_SENDER_NAME = "AWS Notifications"
# SNS's subject for a message published without one.
DEFAULT_SUBJECT = "AWS Notification Message"
POLL_EVERY_SECONDS = 1.0
MAX_BATCHES_PER_POLL = 10  # 100 emails a poll, so one busy inbox cannot hold up the runtime
FOOTER = (
    "\n\n--\n"
    "This is a local copy of an Amazon SNS email notification from {topic},\n"
    "delivered into a Maildir by the local runtime; no email was sent.\n"
)


def queue_name(address: str) -> str:
    """`local-mailbox-ops-example-com` for `ops@example.com`, within SQS's rules."""
    name = QUEUE_PREFIX + re.sub(r"[^A-Za-z0-9_-]", "-", address)
    if len(name) > MAX_QUEUE_NAME:
        # Keep long addresses apart after truncation.
        digest = hashlib.sha256(address.encode()).hexdigest()[:8]
        name = f"{name[: MAX_QUEUE_NAME - 9]}-{digest}"
    return name


def message_id(sns_message_id: str) -> str:
    """The email's Message-ID: SNS's id, so a redelivery is recognised."""
    return f"<{sns_message_id}@sns.amazonaws.com>"


def compose(
    notification: Mapping[str, Any], address: str, sender_name: str = DEFAULT_SENDER_NAME
) -> EmailMessage:
    """The email SNS would send `address` for one notification (SNS's JSON envelope)."""
    message = EmailMessage(policy=email.policy.default)
    message["Subject"] = notification.get("Subject") or DEFAULT_SUBJECT
    message["From"] = email.utils.formataddr((sender_name, SENDER_ADDRESS))
    message["To"] = address
    message["Date"] = email.utils.format_datetime(_timestamp(notification.get("Timestamp")))
    message["Message-ID"] = message_id(notification["MessageId"])
    topic = notification.get("TopicArn", "")
    message["X-SNS-TopicArn"] = topic
    message["X-SNS-MessageId"] = notification["MessageId"]
    for name, attribute in sorted((notification.get("MessageAttributes") or {}).items()):
        message[f"X-SNS-Attribute-{name}"] = str(attribute.get("Value", ""))
    message.set_content(str(notification.get("Message", "")) + FOOTER.format(topic=topic))
    return message


def _timestamp(value: Any) -> datetime:
    """SNS's `2026-11-22T14:05:09.123Z` as an aware datetime."""
    try:
        return datetime.fromisoformat(str(value)).astimezone(UTC)
    except ValueError:
        # No usable time in the envelope: the moment of delivery is the next best.
        return datetime.now(UTC)


class Mailbox:
    """An email subscription to one topic, delivered into a Maildir (a `Component`)."""

    def __init__(self, sns: Any, sqs: Any, topic_arn: str, address: str, path: Path) -> None:
        self.sns = sns
        self.sqs = sqs
        self.topic_arn = topic_arn
        self.address = address
        self.path = Path(path)
        self.name = f"mailbox {address}"
        self.subscription_arn: str | None = None
        self.queue_url: str | None = None  # set by start()
        self._sender_name = DEFAULT_SENDER_NAME
        self._maildir: mailbox.Maildir | None = None
        self._delivered: set[str] = set()  # Message-IDs already in the Maildir
        self._stats = {"emails": 0, "duplicates": 0, "rejected": 0}

    def start(self) -> None:
        """Create the queue and subscribe it; call once the topic exists, before alerts flow.

        Idempotent: SQS and SNS return the existing queue and subscription.
        """
        if self.queue_url is not None:
            return
        url: str = self.sqs.create_queue(QueueName=queue_name(self.address))["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        # Only this topic may send to the queue, as SNS requires of an SQS subscriber.
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": self.topic_arn}},
                }
            ],
        }
        self.sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
        # Not raw delivery: the envelope carries Subject, Timestamp, MessageId and attributes.
        self.subscription_arn = self.sns.subscribe(
            TopicArn=self.topic_arn, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True
        )["SubscriptionArn"]
        display_name = self.sns.get_topic_attributes(TopicArn=self.topic_arn)["Attributes"].get(
            "DisplayName"
        )
        self._sender_name = display_name or DEFAULT_SENDER_NAME
        self._maildir = mailbox.Maildir(self.path, create=True)
        self._delivered = {
            str(m["Message-ID"]) for m in self._maildir if m["Message-ID"] is not None
        }
        self.queue_url = url

    def poll(self, now: float) -> float:
        """Deliver what has arrived; return when to look again."""
        self.start()
        for _ in range(MAX_BATCHES_PER_POLL):
            if not self._receive():
                return now + POLL_EVERY_SECONDS
        return now  # more may be waiting

    def drain(self, now: float) -> bool:
        """Deliver until the queue is empty."""
        self.start()
        while self._receive():
            pass
        return True

    def stats(self) -> dict[str, int]:
        return dict(self._stats)

    def _receive(self) -> bool:
        """One ReceiveMessage; True if it returned anything."""
        page = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        )
        messages = page.get("Messages", [])
        for received in messages:
            self._deliver(received["Body"])
            # Deleted only once written: a crash in between means a redelivery,
            # which the Message-ID check turns into nothing.
            self.sqs.delete_message(
                QueueUrl=self.queue_url, ReceiptHandle=received["ReceiptHandle"]
            )
        return bool(messages)

    def _deliver(self, body: str) -> None:
        assert self._maildir is not None  # set by start()
        try:
            notification = json.loads(body)
            sns_id = notification["MessageId"]
        except (ValueError, KeyError, TypeError):
            # Not from SNS: it would come back forever, so it is logged and dropped.
            log.warning("%s: not an SNS notification, dropped: %.200s", self.name, body)
            self._stats["rejected"] += 1
            return
        if notification.get("Type", "Notification") != "Notification":
            return
        if message_id(sns_id) in self._delivered:
            self._stats["duplicates"] += 1
            return
        email_message = compose(notification, self.address, self._sender_name)
        self._maildir.add(email_message)
        self._delivered.add(message_id(sns_id))
        self._stats["emails"] += 1
