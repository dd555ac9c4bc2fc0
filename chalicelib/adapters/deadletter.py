"""Keeping records that cannot be processed, byte for byte, under an S3 prefix.

One object per invocation and shard holds every rejected record of the batch
as a JSON line: the raw bytes (base64), the reason, and where it came from.
The key is derived from the batch (function, first arrival hour, shard, first
rejected sequence number), so a retried invocation overwrites the same object
instead of adding a copy.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.errors import ConfigurationError, DeadLetterError
from chalicelib.names import DEAD_LETTER_PREFIX
from chalicelib.pipeline.batches import Rejected
from chalicelib.pipeline.timestamps import from_epoch


class DeadLetters:
    """Writes rejected records to `s3://<bucket>/dead-letter/<function>/...`."""

    def __init__(self, client: Any, bucket: str | None, prefix: str = DEAD_LETTER_PREFIX):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def keep(self, function: str, shard_id: str, rejected: Sequence[Rejected]) -> str:
        """Store the records; returns the `s3://` URI. DeadLetterError if S3 fails."""
        if not self.bucket:
            raise ConfigurationError(
                "ARCHIVE_BUCKET is not set: rejected records have nowhere to be kept"
            )
        first = rejected[0]
        hour = from_epoch(first.arrival).strftime("%Y/%m/%d/%H")
        key = f"{self.prefix}{function}/{hour}/{shard_id}-{first.sequence_number}.jsonl"
        body = "".join(
            json.dumps(
                {
                    "function": function,
                    "shardId": shard_id,
                    "sequenceNumber": r.sequence_number,
                    "partitionKey": r.partition_key,
                    "approximateArrivalTimestamp": r.arrival,
                    "reason": r.reason,
                    "data": base64.b64encode(r.data).decode("ascii"),
                }
            )
            + "\n"
            for r in rejected
        )
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body.encode(),
                ContentType="application/x-ndjson",
            )
        except (ClientError, BotoCoreError) as err:
            raise DeadLetterError(
                f"could not keep {len(rejected)} rejected records "
                f"in s3://{self.bucket}/{key}: {err}"
            ) from None
        return f"s3://{self.bucket}/{key}"
