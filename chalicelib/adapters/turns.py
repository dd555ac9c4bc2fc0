"""Turns on a stream's shards, kept in DynamoDB: who handled a shard last.

Lambda invokes a function for one shard's batches one after another, but not
always in the same execution environment. An environment that keeps state in
memory between invocations (`chalicelib.pipeline.statecache`) must know
whether another environment handled the shard since its own last batch. Each
invocation takes the shard's turn with a token of its own, in one unconditional
`PutItem` that returns the token it replaced: one write unit, no read.
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamo import Table


class ShardTurns:
    """One item per (function, shard): the token of the invocation that took it last."""

    def __init__(self, client: Any, table_name: str, **options: Any) -> None:
        self.table = Table(client, table_name, **options)

    def take(self, shard: str, token: str) -> str | None:
        """Record `token` as the shard's holder; the token it replaced (None: the first)."""
        response = self.table.call(
            "put_item",
            TableName=self.table.name,
            Item={"Shard": {"S": shard}, "Token": {"S": token}},
            ReturnValues="ALL_OLD",
        )
        replaced = response.get("Attributes", {}).get("Token", {}).get("S")
        return str(replaced) if replaced is not None else None
