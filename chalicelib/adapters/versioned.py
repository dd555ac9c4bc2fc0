"""DynamoDB items that carry a version and an outbox, written only if the version is unchanged.

What `chalicelib.pipeline.incidents` needs of a table: one item per watched
key (a unicorn, a taxi zone) holding its state's row, `Version` and `Outbox`.
A data set's store (`StatusStore`, `FareAlertStore`) says how its state
becomes a row and back; every state's row says whether it is in alert
(`AlertState`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar

from chalicelib.adapters.dynamo import Table, from_attributes, to_attributes
from chalicelib.errors import StoreError
from chalicelib.pipeline.incidents import Kept, Pending
from chalicelib.pipeline.notifications import Notification

State = TypeVar("State")


class VersionedStore(Generic[State]):
    """One item per key: a state's row, `Version` and `Outbox`, written conditionally."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        *,
        key: str,
        to_row: Callable[[State], dict[str, Any]],
        from_row: Callable[[dict[str, Any]], State],
        **options: Any,
    ) -> None:
        self.table = Table(client, table_name, **options)
        self.key = key
        self.to_row = to_row
        self.from_row = from_row

    def _key(self, value: Any) -> dict[str, Any]:
        return to_attributes({self.key: value})

    def get_many(self, keys: Iterable[Any]) -> dict[Any, Kept[State]]:
        found = {}
        for item in self.table.batch_get([self._key(k) for k in keys]):
            row = from_attributes(item)
            found[row[self.key]] = self._kept(row)
        return found

    def get(self, key: Any) -> Kept[State] | None:
        response = self.table.call(
            "get_item", TableName=self.table.name, Key=self._key(key), ConsistentRead=True
        )
        item = response.get("Item")
        return self._kept(from_attributes(item)) if item else None

    def save(self, state: State, outbox: dict[str, Pending], expected_version: int | None) -> bool:
        """Write `state` if the stored version is still `expected_version`.

        None means "only if no item exists yet". Returns False when another
        writer got there first; the caller re-reads and decides again.
        """
        item = self.item(state, outbox, (expected_version or 0) + 1)
        kwargs: dict[str, Any] = {"TableName": self.table.name, "Item": item}
        if expected_version is None:
            kwargs["ConditionExpression"] = "attribute_not_exists(#k)"
            kwargs["ExpressionAttributeNames"] = {"#k": self.key}
        else:
            kwargs["ConditionExpression"] = "#v = :v"
            kwargs["ExpressionAttributeNames"] = {"#v": "Version"}
            kwargs["ExpressionAttributeValues"] = {":v": {"N": str(expected_version)}}
        try:
            self.table.call("put_item", **kwargs)
        except StoreError as err:
            if err.code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def item(self, state: State, outbox: dict[str, Pending], version: int) -> dict[str, Any]:
        """The item `save` writes."""
        row = self.to_row(state)
        row["Version"] = version
        row["Outbox"] = {key: _pending_row(p) for key, p in outbox.items()}
        return to_attributes(row)

    def remove_from_outbox(self, key: Any, notification_ids: Sequence[str]) -> None:
        """Forget delivered notifications.

        The version goes up too: a writer that read the item before this
        removal must fail its conditional write and read again, or it would
        put the delivered notifications back and they would be sent twice.
        """
        names = {
            "#o": "Outbox",
            "#v": "Version",
            **{f"#i{n}": i for n, i in enumerate(notification_ids)},
        }
        removals = ", ".join(f"#o.#i{n}" for n in range(len(notification_ids)))
        try:
            self.table.call(
                "update_item",
                TableName=self.table.name,
                Key=self._key(key),
                UpdateExpression=f"REMOVE {removals} SET #v = #v + :one",
                # Without it, updating a deleted item would create an empty one.
                ConditionExpression="attribute_exists(#o)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
        except StoreError as err:
            if err.code != "ConditionalCheckFailedException":
                raise

    def scan(self, *, alerting_only: bool = False, page_size: int | None = None) -> list[State]:
        """Every stored state, or only those in alert (one item per key: a fleet, a city's zones).

        Read page by page (`page_size` items each, DynamoDB's 1 MB if None).
        """
        kwargs: dict[str, Any] = {"TableName": self.table.name}
        if alerting_only:
            kwargs["FilterExpression"] = "#a = :a"
            kwargs["ExpressionAttributeNames"] = {"#a": "AlertState"}
            kwargs["ExpressionAttributeValues"] = {":a": {"S": "alert"}}
        if page_size is not None:
            kwargs["Limit"] = page_size
        states: list[State] = []
        while True:
            response = self.table.call("scan", **kwargs)
            states.extend(self.from_row(from_attributes(i)) for i in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return states
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _kept(self, row: dict[str, Any]) -> Kept[State]:
        outbox = {
            key: Pending(
                Notification(
                    id=key,
                    subject=entry["Subject"],
                    message=entry["Message"],
                    attributes=entry["Attributes"],
                    at=entry["At"],
                ),
                float(entry["ClaimedAt"]),
            )
            for key, entry in (row.get("Outbox") or {}).items()
        }
        return Kept(self.from_row(row), int(row["Version"]), outbox)


def _pending_row(pending: Pending) -> dict[str, Any]:
    notification = pending.notification
    return {
        "Subject": notification.subject,
        "Message": notification.message,
        "Attributes": notification.attributes,
        "At": notification.at,
        "ClaimedAt": pending.claimed_at,
    }
