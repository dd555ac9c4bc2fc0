"""The embedded endpoint's process: moto's server, with a constant-time Kinesis shard.

moto keeps a shard's records in an ordered dictionary keyed by sequence
number, and two of its shard methods walk all of it: PutRecord(s) copies every
key to find the last one, and GetRecords scans from the first record for
every call. Both grow with what the shard holds, so a local run slows down
as it goes (at 1,000 records/s, minutes in, every put copies a hundred
thousand keys). Sequence numbers in a moto shard are consecutive integers
from 1 (each put takes the last one plus one), so the record after any
sequence number is found directly; these replacements do that, give the
same results as moto's own (tests/local/test_moto_server.py compares them),
and fall back to moto's when a shard's keys are not consecutive.

Three more keep the process's memory flat while `make up` runs for a working
day. moto appends every model object it ever makes (each Kinesis record, each
DynamoDB item written, each CloudWatch datapoint) to a list on its class, for
its dashboard; so nothing it replaces or deletes is ever freed. Here only S3's
objects stay listed, which moto's S3 reset needs to release their files. moto
keeps every Kinesis record forever, where Kinesis drops records past the
stream's retention: here a shard drops them as it takes new ones, after the
stream's retention or the shorter one the local stack asks for
(RETENTION_VARIABLE, seconds; the newest record is always kept, so sequence
numbers go on growing). And moto's Kinesis puts a datapoint into its own
CloudWatch for every put, kept forever; nothing local reads them, so here it
does not.

One more repair lets `chalice deploy` through: Chalice imports its REST API
as a Swagger 2.0 document, which moto's ImportRestApi and PutRestApi refuse
(they take OpenAPI 3 only, and require a description). The paths of both versions
look alike where moto reads them (methods and their integrations), so such
a document is read as OpenAPI 3.

Run as `python -m local.moto_server -H HOST -p PORT` (moto.server's options), it also
holds role sessions to their roles' policies (`local.moto_iam`).
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Any

from moto.apigateway.models import APIGatewayBackend, RestAPI
from moto.core.common_models import BaseModel
from moto.kinesis.models import KinesisBackend, Shard, Stream
from moto.s3.models import FakeKey, FakeMultipart

from local import moto_iam
from local.endpoint import RETENTION_VARIABLE

_moto_get_records = Shard.get_records
_moto_stream_put_record = Stream.put_record
# Classes whose every instance moto's S3 reset must reach (it disposes of their files).
_STILL_TRACKED = (FakeKey, FakeMultipart)
_moto_import_rest_api = APIGatewayBackend.import_rest_api
_moto_put_rest_api = APIGatewayBackend.put_rest_api


def _consecutive(records: dict[int, Any]) -> bool:
    if not records:
        return True
    first, last = next(iter(records)), next(reversed(records))
    return isinstance(first, int) and isinstance(last, int) and last - first + 1 == len(records)


def get_max_sequence_number(self: Shard) -> int:
    return next(reversed(self.records), 0)


def get_min_sequence_number(self: Shard) -> int:
    return next(iter(self.records), 0)


def get_records(
    self: Shard, last_sequence_id: str, limit: int | None
) -> tuple[list[Any], int, int]:
    """Records after `last_sequence_id`, at most `limit`, as moto's own method returns them."""
    records = self.records
    if not _consecutive(records):
        return _moto_get_records(self, last_sequence_id, limit)
    last = int(last_sequence_id)
    if not records:
        return [], last, 0
    newest = records[next(reversed(records))]
    sequence = max(last + 1, next(iter(records)))
    results: list[Any] = []
    while sequence in records and (limit is None or len(results) < limit):
        results.append(records[sequence])
        sequence += 1
    if not results:
        return [], last, 0
    behind = int((newest.created_at - results[-1].created_at) * 1000)
    return results, results[-1].sequence_number, behind


def _new_model(cls: type[BaseModel], *args: Any, **kwargs: Any) -> BaseModel:
    """BaseModel.__new__, listing only the instances moto's S3 reset needs."""
    instance = super(BaseModel, cls).__new__(cls)
    if issubclass(cls, _STILL_TRACKED):
        cls.instances_tracked.append(instance)  # type: ignore[union-attr]
    return instance


@functools.cache
def _local_retention() -> float | None:
    """The local stack's retention (RETENTION_VARIABLE), read once, not on every put."""
    override = os.environ.get(RETENTION_VARIABLE)
    return float(override) if override else None


def retention_seconds(stream: Stream) -> float:
    """How long `stream` keeps a record: its retention, or the local stack's if shorter."""
    own = float(stream.retention_period_hours) * 3600
    local = _local_retention()
    return own if local is None else min(own, local)


def trim(shard: Shard, retention: float) -> None:
    """Drop the records `retention` seconds older than the newest, which always stays."""
    records = shard.records
    if not records:
        return
    cutoff = records[next(reversed(records))].created_at - retention
    while len(records) > 1:
        oldest = next(iter(records))
        if records[oldest].created_at >= cutoff:
            return
        del records[oldest]


def stream_put_record(
    self: Stream, partition_key: str, explicit_hash_key: str, data: str
) -> tuple[str, str]:
    """Stream.put_record, then the shard drops what its retention no longer covers."""
    sequence_number, shard_id = _moto_stream_put_record(
        self, partition_key, explicit_hash_key, data
    )
    trim(self.shards[shard_id], retention_seconds(self))
    return sequence_number, shard_id


def send_no_stream_metrics(
    self: KinesisBackend, stream_name: str, incoming_bytes: int, incoming_records: int
) -> None:
    """Nothing: moto would keep two CloudWatch datapoints a put, forever."""


def _as_openapi(api_doc: dict[str, Any]) -> dict[str, Any]:
    """A Swagger 2.0 document (Chalice's) as moto reads OpenAPI 3; others as they are."""
    if "swagger" not in api_doc:
        return api_doc
    info = {"description": "", **(api_doc.get("info") or {})}
    converted = {**api_doc, "openapi": "3.0.1", "info": info}
    del converted["swagger"]
    return converted


def import_rest_api(
    self: APIGatewayBackend, api_doc: dict[str, Any], fail_on_warnings: bool
) -> RestAPI:
    """ImportRestApi (`chalice deploy`'s first), taking a Swagger 2.0 document."""
    return _moto_import_rest_api(self, _as_openapi(api_doc), fail_on_warnings)


def put_rest_api(
    self: APIGatewayBackend,
    function_id: str,
    api_doc: dict[str, Any],
    fail_on_warnings: bool,
    mode: str = "merge",
) -> RestAPI:
    """PutRestApi (every later `chalice deploy`), taking a Swagger 2.0 document."""
    return _moto_put_rest_api(self, function_id, _as_openapi(api_doc), fail_on_warnings, mode)


def install() -> None:
    """Replace moto's linear shard methods, what makes its memory grow without end and
    its Swagger-refusing import, in this process."""
    BaseModel.__new__ = _new_model  # type: ignore[method-assign]
    Stream.put_record = stream_put_record  # type: ignore[method-assign]
    KinesisBackend._send_stream_metrics = send_no_stream_metrics  # type: ignore[method-assign]
    Shard.get_max_sequence_number = get_max_sequence_number  # type: ignore[method-assign]
    Shard.get_min_sequence_number = get_min_sequence_number  # type: ignore[method-assign]
    Shard.get_records = get_records  # type: ignore[method-assign]
    APIGatewayBackend.import_rest_api = import_rest_api  # type: ignore[method-assign]
    APIGatewayBackend.put_rest_api = put_rest_api  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    from moto.server import main as moto_main

    install()
    moto_iam.install()
    moto_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
