"""Publishing alert and recovery notifications to the SNS topic."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.errors import ConfigurationError, PublishError
from chalicelib.pipeline.notifications import Notification


class AlertPublisher:
    """Sends notifications to one topic, with attributes a filter policy can match."""

    def __init__(self, client: Any, topic_arn: str | None) -> None:
        self.client = client
        self.topic_arn = topic_arn

    def publish(self, notification: Notification) -> str:
        """Publish and return SNS's message id; PublishError if SNS refuses."""
        if not self.topic_arn:
            raise ConfigurationError(
                "ALERT_TOPIC_ARN is not set: vitals has no topic to publish alerts to"
            )
        attributes = {
            key: {
                "DataType": "String.Array" if key == "vital" else "String",
                "StringValue": value,
            }
            for key, value in notification.attributes.items()
        }
        try:
            response = self.client.publish(
                TopicArn=self.topic_arn,
                Subject=notification.subject,
                Message=notification.message,
                MessageAttributes=attributes,
            )
        except ClientError as err:
            error = err.response.get("Error", {})
            raise PublishError(
                f"publishing {notification.id!r} failed: {error.get('Code')}: "
                f"{error.get('Message')}",
                code=error.get("Code"),
            ) from None
        except BotoCoreError as err:
            raise PublishError(f"publishing {notification.id!r} failed: {err}") from None
        return str(response["MessageId"])
