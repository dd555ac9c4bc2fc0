"""Reading a whole Kinesis stream back, for assertions on what reached it."""

from __future__ import annotations

from typing import Any


def read_stream(kinesis: Any, stream: str) -> list[dict[str, Any]]:
    """Every record on every shard of `stream`, shard by shard in order, with its ShardId."""
    found: list[dict[str, Any]] = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            found.extend({**record, "ShardId": shard["ShardId"]} for record in page["Records"])
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return found
