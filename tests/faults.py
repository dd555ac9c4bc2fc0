"""Faults moto cannot produce, injected with botocore event hooks on a real (moto-backed) client.

The hooks withhold chosen entries from the request, so moto never stores them,
and report them back as refused in the response: the client sees exactly the
partial failure AWS would return, and the backend holds exactly what was
accepted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError


def refuse_kinesis_entries(client: Any, refuse: Callable[[dict[str, Any]], bool]) -> list[int]:
    """Make PutRecords refuse the entries `refuse` picks; returns refusals per call."""
    refused_log: list[int] = []
    withheld: list[list[int]] = []
    everything = [False]

    def before(params: dict[str, Any], **_: Any) -> None:
        positions = [i for i, entry in enumerate(params["Records"]) if refuse(entry)]
        everything[0] = len(positions) == len(params["Records"])
        if not everything[0]:  # an empty request would not pass botocore's validation
            params["Records"] = [e for i, e in enumerate(params["Records"]) if i not in positions]
        withheld.append(positions)
        refused_log.append(len(positions))

    def skip_when_everything_is_refused(**_: Any) -> Any:
        if everything[0]:
            return AWSResponse("", 200, {}, None), {"Records": [], "FailedRecordCount": 0}
        return None

    def after(parsed: dict[str, Any], **_: Any) -> None:
        positions = withheld.pop()
        results = list(parsed.get("Records", []))
        for position in positions:
            results.insert(
                position,
                {
                    "ErrorCode": "ProvisionedThroughputExceededException",
                    "ErrorMessage": "Rate exceeded for shard (injected by the test)",
                },
            )
        parsed["Records"] = results
        parsed["FailedRecordCount"] = parsed.get("FailedRecordCount", 0) + len(positions)

    client.meta.events.register("before-parameter-build.kinesis.PutRecords", before)
    client.meta.events.register("before-call.kinesis.PutRecords", skip_when_everything_is_refused)
    client.meta.events.register("after-call.kinesis.PutRecords", after)
    return refused_log


def leave_items_unprocessed(
    client: Any, table: str, leave: Callable[[dict[str, Any]], bool]
) -> None:
    """Make BatchWriteItem report items for which `leave(item)` is true as unprocessed."""
    withheld: list[list[dict[str, Any]]] = []
    everything = [False]

    def before(params: dict[str, Any], **_: Any) -> None:
        requests = params["RequestItems"][table]
        kept = [r for r in requests if not leave(r["PutRequest"]["Item"])]
        withheld.append([r for r in requests if leave(r["PutRequest"]["Item"])])
        everything[0] = not kept
        if kept:  # an empty request would not pass botocore's validation
            params["RequestItems"][table] = kept

    def skip_when_all_left(**_: Any) -> Any:
        if everything[0]:
            return AWSResponse("", 200, {}, None), {"UnprocessedItems": {}}
        return None

    def after(parsed: dict[str, Any], **_: Any) -> None:
        left = withheld.pop()
        if left:
            parsed.setdefault("UnprocessedItems", {})[table] = left

    client.meta.events.register("before-parameter-build.dynamodb.BatchWriteItem", before)
    client.meta.events.register("before-call.dynamodb.BatchWriteItem", skip_when_all_left)
    client.meta.events.register("after-call.dynamodb.BatchWriteItem", after)


def leave_keys_unread(client: Any, table: str) -> None:
    """Make every BatchGetItem on `table` read nothing and report all its keys unprocessed
    (DynamoDB does so when a read would exceed the table's capacity)."""
    asked: list[dict[str, Any]] = []

    def before(params: dict[str, Any], **_: Any) -> None:
        asked.append(params["RequestItems"][table])

    def after(parsed: dict[str, Any], **_: Any) -> None:
        parsed.setdefault("Responses", {})[table] = []
        parsed["UnprocessedKeys"] = {table: asked.pop()}

    client.meta.events.register("before-parameter-build.dynamodb.BatchGetItem", before)
    client.meta.events.register("after-call.dynamodb.BatchGetItem", after)


def fail_calls(client: Any, operation: str, code: str, times: int | None = None) -> list[int]:
    """Make `operation` (e.g. 'sns.Publish') fail with `code`, `times` times or forever."""
    calls: list[int] = []

    def before(**_: Any) -> Any:
        calls.append(1)
        if times is not None and len(calls) > times:
            return None
        raise ClientError({"Error": {"Code": code, "Message": "injected by the test"}}, operation)

    client.meta.events.register(f"before-call.{operation}", before)
    return calls


def read_stale_unless_consistent(client: Any, table: str, key_name: str) -> None:
    """Make a GetItem on `table` without ConsistentRead see the item as it was before its
    last write: DynamoDB may answer such a read from a replica the write has not reached
    yet; moto always answers with the latest item."""
    before_write: dict[str, Any] = {}

    def remember(params: dict[str, Any], **_: Any) -> None:
        if params.get("TableName") == table:
            key = {key_name: (params.get("Key") or params["Item"])[key_name]}
            found = client.get_item(TableName=table, Key=key, ConsistentRead=True)
            before_write[repr(key)] = found.get("Item")

    def choose(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        key = repr({key_name: params["Key"][key_name]})
        eventual = params.get("TableName") == table and not params.get("ConsistentRead")
        if eventual and key in before_write:
            context["stale item"] = before_write[key]

    def answer_stale(context: dict[str, Any], **_: Any) -> Any:
        if "stale item" not in context:
            return None
        item = context["stale item"]
        return AWSResponse("", 200, {}, None), ({"Item": item} if item else {})

    for write in ("PutItem", "UpdateItem"):
        client.meta.events.register(f"before-parameter-build.dynamodb.{write}", remember)
    client.meta.events.register("before-parameter-build.dynamodb.GetItem", choose)
    client.meta.events.register("before-call.dynamodb.GetItem", answer_stale)
