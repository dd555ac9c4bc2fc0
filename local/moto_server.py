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

One more repair lets `chalice deploy` through: Chalice imports its REST API
as a Swagger 2.0 document, which moto's ImportRestApi and PutRestApi refuse
(they take OpenAPI 3 only, and require a description). The paths of both versions
look alike where moto reads them (methods and their integrations), so such
a document is read as OpenAPI 3.

Run as `python -m local.moto_server -H HOST -p PORT` (moto.server's options), it also
holds role sessions to their roles' policies (`local.moto_iam`).
"""

from __future__ import annotations

import sys
from typing import Any

from moto.apigateway.models import APIGatewayBackend, RestAPI
from moto.kinesis.models import Shard

from local import moto_iam

_moto_get_records = Shard.get_records
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
    """Replace moto's linear shard methods and its Swagger-refusing import in this process."""
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
