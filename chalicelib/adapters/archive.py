"""The raw archive in S3 (what Firehose delivers from `wildrydes`), by the hour; reports beside it.

Only the hourly report reads it in Lambda; `make sql` and Athena read the
same objects through the Glue table.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import names
from chalicelib.errors import ArchiveError, ConfigurationError

# Firehose files an object under the hour (UTC) its first record arrived and
# keeps adding records for up to its buffering interval (at most 15 minutes):
# an object filed up to that long before the hour may hold readings from it.
BUFFERING_SLACK = timedelta(minutes=15)
LATE_ARRIVAL = timedelta(minutes=5)  # a reading reaching the stream after its hour ended


class Archive:
    """Reads readings from the raw archive and writes reports beside it."""

    def __init__(self, client: Any, bucket: str | None) -> None:
        if not bucket:
            raise ConfigurationError("ARCHIVE_BUCKET is not set: no archive to report on")
        self.client = client
        self.bucket = bucket

    def keys(self, start: datetime, end: datetime) -> Iterator[tuple[str, int]]:
        """Keys and sizes of raw objects that may hold readings from `start` to `end`,
        newest first (so that, if not all can be read, the oldest are left out)."""
        first = _hour(start - BUFFERING_SLACK)
        hour = _hour(end + LATE_ARRIVAL)
        while hour >= first:
            prefix = f"{names.ARCHIVE_PREFIX}{hour:%Y/%m/%d/%H}/"
            found: list[tuple[str, int]] = []
            kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
            while True:
                page = self._call("list_objects_v2", **kwargs)
                found.extend((item["Key"], int(item["Size"])) for item in page.get("Contents", []))
                if not page.get("IsTruncated"):
                    break
                kwargs["ContinuationToken"] = page["NextContinuationToken"]
            # Keys end in the object's first arrival time, so key order is time order.
            yield from reversed(found)
            hour -= timedelta(hours=1)

    def lines(self, key: str) -> Iterator[bytes]:
        """The object's non-empty lines, streamed rather than read whole (`.gz`: gunzipped)."""
        body = self._call("get_object", Bucket=self.bucket, Key=key)["Body"]
        # Line by line either way: a gzipped object is never held whole in memory.
        lines: Iterable[bytes] = (
            gzip.GzipFile(fileobj=body) if key.endswith(".gz") else body.iter_lines()
        )
        try:
            for line in lines:
                if line.strip():
                    yield line.rstrip(b"\r\n")
        except (ClientError, BotoCoreError, OSError, EOFError, zlib.error) as err:
            # OSError: gzip.BadGzipFile; EOFError: an object cut short.
            raise ArchiveError(f"reading s3://{self.bucket}/{key} failed: {err}") from None

    def write(self, key: str, html: str, *, latest: bool) -> None:
        self._call(
            "put_object",
            Bucket=self.bucket,
            Key=key,
            Body=html.encode("utf-8"),
            ContentType="text/html; charset=utf-8",
            # The stable copy changes every run; the dated ones never do.
            CacheControl="no-cache" if latest else "max-age=86400",
        )

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(self.client, operation)(**kwargs)
        except (ClientError, BotoCoreError) as err:
            where = kwargs.get("Key") or kwargs.get("Prefix") or ""
            raise ArchiveError(f"{operation} s3://{self.bucket}/{where} failed: {err}") from None
        return result


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)
