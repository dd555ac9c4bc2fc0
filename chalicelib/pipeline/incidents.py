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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from chalicelib.errors import PublishError, StoreError
from chalicelib.observability import Metrics
from chalicelib.pipeline.notifications import Notification

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


class IncidentStore(Protocol[State]):
    """Where a data set keeps each key's state with its version and outbox
    (`chalicelib.adapters.versioned.VersionedStore` in DynamoDB)."""

    def get(self, key: Any) -> Kept[State] | None: ...

    def save(self, state: State, outbox: dict[str, Pending], expected_version: int | None) -> bool:
        """Write if the stored version is still `expected_version` (None: no item yet)."""

    def remove_from_outbox(self, key: Any, notification_ids: Sequence[str]) -> None: ...


# decide(previous state or None) -> (the new state, or None if nothing is
# newer than what is stored; the notifications the change makes)
Decide = Callable[[State | None], tuple[State | None, list[Notification]]]


class Outbox(Generic[State]):
    """Writes one key's state with the notifications its change makes, then sends them."""

    RACE_ATTEMPTS = 5

    def __init__(
        self,
        store: IncidentStore[State],
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
