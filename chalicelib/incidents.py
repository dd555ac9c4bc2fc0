"""Incidents and their messages, each sent once: what every data set's alerts share.

Something watched (a unicorn, a taxi zone) has one item in its data set's
table: its latest state, a version, and an outbox of notifications not yet
delivered. A change that opens or closes an incident is written together
with its notification, conditionally on the version read; the writer that
wins publishes and then removes the notification from the outbox. A writer
that loses re-reads and decides again, finding the incident already changed,
so concurrent or retried batches send nothing twice. A notification whose
publish failed stays in the outbox; once its claim is older than
`claim_seconds`, the next write for that key claims and sends it.

A data set brings its state (with `to_row` and a way back from a row), how a
batch changes it (`decide`), and how its notifications read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from chalicelib.dynamo import Table, from_attributes, to_attributes
from chalicelib.errors import PublishError, StoreError
from chalicelib.notifications import Notification
from chalicelib.observability import Metrics

log = logging.getLogger(__name__)

State = TypeVar("State")


@dataclass(frozen=True)
class Pending:
    """A notification waiting in an outbox, and when it was last claimed."""

    notification: Notification
    claimed_at: float


@dataclass(frozen=True)
class Kept(Generic[State]):
    """A stored state with its version and outbox."""

    state: State
    version: int
    outbox: dict[str, Pending] = field(default_factory=dict)


class Publisher(Protocol):
    def publish(self, notification: Notification) -> str: ...


class VersionedStore(Table, Generic[State]):
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
        super().__init__(client, table_name, **options)
        self.key = key
        self.to_row = to_row
        self.from_row = from_row

    def _key(self, value: Any) -> dict[str, Any]:
        return to_attributes({self.key: value})

    def get_many(self, keys: Iterable[Any]) -> dict[Any, Kept[State]]:
        found = {}
        for item in self.batch_get([self._key(k) for k in keys]):
            row = from_attributes(item)
            found[row[self.key]] = self._kept(row)
        return found

    def get(self, key: Any) -> Kept[State] | None:
        response = self._call(
            "get_item", TableName=self.table_name, Key=self._key(key), ConsistentRead=True
        )
        item = response.get("Item")
        return self._kept(from_attributes(item)) if item else None

    def save(self, state: State, outbox: dict[str, Pending], expected_version: int | None) -> bool:
        """Write `state` if the stored version is still `expected_version`.

        None means "only if no item exists yet". Returns False when another
        writer got there first; the caller re-reads and decides again.
        """
        item = self.item(state, outbox, (expected_version or 0) + 1)
        kwargs: dict[str, Any] = {"TableName": self.table_name, "Item": item}
        if expected_version is None:
            kwargs["ConditionExpression"] = "attribute_not_exists(#k)"
            kwargs["ExpressionAttributeNames"] = {"#k": self.key}
        else:
            kwargs["ConditionExpression"] = "#v = :v"
            kwargs["ExpressionAttributeNames"] = {"#v": "Version"}
            kwargs["ExpressionAttributeValues"] = {":v": {"N": str(expected_version)}}
        try:
            self._call("put_item", **kwargs)
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
            self._call(
                "update_item",
                TableName=self.table_name,
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

    def scan_all(self, **filters: Any) -> list[State]:
        """Every stored state (one item per key: a fleet, a city's zones)."""
        kwargs: dict[str, Any] = {"TableName": self.table_name, **filters}
        states: list[State] = []
        while True:
            response = self._call("scan", **kwargs)
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


# decide(previous state or None) -> (the new state, or None if nothing is
# newer than what is stored; the notifications the change makes)
Decide = Callable[[State | None], tuple[State | None, list[Notification]]]


class Outbox(Generic[State]):
    """Writes one key's state with the notifications its change makes, then sends them."""

    RACE_ATTEMPTS = 5

    def __init__(
        self,
        store: VersionedStore[State],
        publisher: Publisher,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.clock = clock

    def update(
        self,
        key: Any,
        kept: Kept[State] | None,
        decide: Decide[State],
        *,
        claim: float,
        metrics: Metrics,
        may_wait: Callable[[State | None, State], bool] | None = None,
    ) -> bool:
        """Decide and write, racing other writers; whether anything was written.

        `may_wait(stored, new)` may skip a write that changes no incident and
        sends nothing (the stored state is recent enough).
        """
        for _ in range(self.RACE_ATTEMPTS):
            now = self.clock()
            previous = kept.state if kept else None
            state, notifications = decide(previous)
            outbox = dict(kept.outbox) if kept else {}
            owned = []
            for pending_id, pending in outbox.items():
                if pending.claimed_at + claim <= now:
                    outbox[pending_id] = Pending(pending.notification, now)
                    owned.append(pending_id)
            for notification in notifications:
                outbox[notification.id] = Pending(notification, now)
                owned.append(notification.id)
            new_state = state if state is not None else previous
            if new_state is None or (state is None and not owned):
                return False  # nothing newer than what is stored, nothing to send
            if not owned and may_wait is not None and may_wait(previous, new_state):
                return False
            if self.store.save(new_state, outbox, kept.version if kept else None):
                self._deliver(key, [outbox[i] for i in owned], metrics)
                return True
            kept = self.store.get(key)  # another writer won: decide again
        raise StoreError(f"{key!r} kept changing during {self.RACE_ATTEMPTS} attempts")

    def _deliver(self, key: Any, pending: list[Pending], metrics: Metrics) -> None:
        delivered = []
        for item in sorted(pending, key=lambda p: (p.notification.at, p.notification.kind)):
            notification = item.notification
            try:
                self.publisher.publish(notification)
            except PublishError as err:
                log.error("%s not sent, will retry later: %s", notification.id, err)
                continue
            log.info("sent %s: %s", notification.kind, notification.subject)
            metrics.count("AlertsSent" if notification.kind == "alert" else "RecoveriesSent")
            delivered.append(notification.id)
        if delivered:
            self.store.remove_from_outbox(key, delivered)
