"""Kept states remembered between invocations, while the shard has had no other handler.

A stream function that decides from each key's stored state (`vitals`: is the
incident changing? is the stored status recent enough?) would read every key
of every batch: for a fleet reporting each second, a read a unicorn a second,
as much as the writes the freshness budget leaves. Yet the stored state is
what this function last wrote, unless another invocation wrote since.

Lambda hands a shard's batches to one invocation at a time, but an execution
environment may miss some of them: another environment took one in between.
So each batch first takes the shard's turn (`Turns`, one write) with a new
token, and learns the token it replaced. If that is the token this
environment left, nobody handled the shard since, and what it remembers of
the shard's keys is what is stored. If not, it forgets the shard's keys and
reads them again. A batch whose turn cannot be taken must not be handled at
all (`begin` raises): its writes would go unseen by the environment that had
the turn, which could then skip a change on the strength of its memory.

What it remembers is only what it read or wrote successfully, and, for a key
whose write was held back (the freshness budget), the newer state held back
with the stored state it was held against: a later reading older than that is
then ignored, as it would be had the state been written.

The scheme assumes every writer of the keys takes the turn. A write decided
from a stale memory is conditional on the version and fails; a write *held
back* on a stale memory is not caught until the key's next write. That is
why a batch without its turn fails, and why ParallelizationFactor above 1
(several invocations a shard, all taking the same turn) makes the memory
useless, though still safe for a key that only one of them handles.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, Protocol, TypeVar

from chalicelib.pipeline.incidents import IncidentStore, Kept, Pending

State = TypeVar("State")
T = TypeVar("T")

# Keys remembered per shard at most; beyond, the shard's memory starts again.
# (A shard carries at most about a thousand unicorns reporting each second.)
KEYS_PER_SHARD = 100_000
# Shards remembered at most: an environment that has handled more starts again.
SHARDS_REMEMBERED = 64


class Turns(Protocol):
    def take(self, shard: str, token: str) -> str | None:
        """Record `token` as the shard's holder; the token it replaced."""


class Store(IncidentStore[State], Protocol[State]):
    """The versioned store behind the memory (`adapters.versioned.VersionedStore`):
    what the outbox needs, and many keys read at once."""

    def get_many(self, keys: Iterable[Any]) -> dict[Any, Kept[State]]: ...


class RememberingStore(Generic[State]):
    """A versioned store read through a memory of each shard's keys.

    `begin(shard)` at the start of each batch gives the batch's view of the
    store (`Remembered`), which answers from the shard's memory when it can.
    """

    def __init__(
        self,
        store: Store[State],
        turns: Turns | None,
        key_of: Callable[[State], Any],
        *,
        new_token: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.store = store
        self.turns = turns
        self.key_of = key_of
        self.new_token = new_token
        self._tokens: dict[str, str] = {}  # shard -> the token this environment left
        self._shards: dict[str, Memory[State]] = {}

    def begin(self, shard: str) -> Remembered[State]:
        """Take `shard`'s turn; keep its memory only if this environment had the last one.

        Without turns, nothing is kept from one batch to the next.
        """
        if self.turns is None:
            return Remembered(self.store, Memory(), self.key_of)
        token = self.new_token()
        mine = self._tokens.pop(shard, None)
        memory = self._shards.pop(shard, None)
        # StoreError: the batch must fail; this environment keeps no token, so
        # its next batch of the shard reads everything again.
        replaced = self.turns.take(shard, token)
        self._tokens[shard] = token
        if memory is None or replaced is None or replaced != mine or len(memory) > KEYS_PER_SHARD:
            memory = Memory()
        if len(self._shards) >= SHARDS_REMEMBERED:
            self._shards.clear()  # shards this environment no longer gets, most likely
        self._shards[shard] = memory
        return Remembered(self.store, memory, self.key_of)


class Memory(Generic[State]):
    """What an environment knows of one shard's keys."""

    __slots__ = ("held", "kept")

    def __init__(self) -> None:
        self.kept: dict[Any, Kept[State]] = {}  # as stored
        # A state held back, and the stored state it was held back against.
        self.held: dict[Any, tuple[State, State]] = {}

    def __len__(self) -> int:
        return len(self.kept)


class Remembered(Generic[State]):
    """One batch's view of the store: what the shard's memory holds, and the rest read.

    Remembers only what it read or wrote successfully. Keys are independent, so
    the batch's keys may be written from several threads at once.
    """

    def __init__(
        self, store: Store[State], memory: Memory[State], key_of: Callable[[State], Any]
    ) -> None:
        self.store = store
        self.kept = memory.kept
        self.held = memory.held
        self.key_of = key_of
        self.read = 0  # pragma: no mutate: get_many sets it; keys it read from the store

    def hold(self, key: Any, stored: State | None, state: State) -> None:
        """Remember `state`, newer than `stored`, as held back rather than written."""
        if stored is not None:
            self.held[key] = (stored, state)

    def newest(self, key: Any, stored: State | None) -> State | None:
        """The newest state known of `key`: one held back against `stored`, else `stored`."""
        held = self.held.get(key)
        if stored is not None and held is not None and held[0] == stored:
            return held[1]
        return stored

    def get_many(self, keys: Iterable[Any]) -> dict[Any, Kept[State]]:
        wanted = list(keys)
        missing = [k for k in wanted if k not in self.kept]
        self.read = len(missing)
        if missing:
            self.kept.update(self.store.get_many(missing))
        return {k: self.kept[k] for k in wanted if k in self.kept}

    def get(self, key: Any) -> Kept[State] | None:
        kept = self._forgetting(key, lambda: self.store.get(key))
        if kept is not None:
            self.kept[key] = kept
        return kept

    def save(self, state: State, outbox: dict[str, Pending], expected_version: int | None) -> bool:
        key = self.key_of(state)
        saved = self._forgetting(key, lambda: self.store.save(state, outbox, expected_version))
        if saved:
            self.kept[key] = Kept(state, (expected_version or 0) + 1, dict(outbox))
        else:
            self.kept.pop(key, None)
        self.held.pop(key, None)
        return saved

    def remove_from_outbox(self, key: Any, notification_ids: Sequence[str]) -> None:
        self._forgetting(key, lambda: self.store.remove_from_outbox(key, notification_ids))
        kept = self.kept.get(key)
        if kept is not None:
            outbox = {i: p for i, p in kept.outbox.items() if i not in notification_ids}
            self.kept[key] = Kept(kept.state, kept.version + 1, outbox)

    def _forgetting(self, key: Any, call: Callable[[], T]) -> T:
        """`call()`; a key whose call failed is read again next time."""
        try:
            return call()
        except Exception:
            self.kept.pop(key, None)
            self.held.pop(key, None)
            raise
