"""What an environment remembers of a shard's states, against a store kept in a dict.

The store here is the versioned store's contract in memory (a write succeeds only
at the expected version; DynamoDB's own is tested in tests/functional), so that
each rule of the memory can be held on its own: what it keeps after a read, a
write, a lost race, a delivery and a failure, and when it starts again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from chalicelib.errors import StoreError
from chalicelib.pipeline import statecache
from chalicelib.pipeline.incidents import Kept, Pending
from chalicelib.pipeline.notifications import Notification
from chalicelib.pipeline.statecache import RememberingStore

SHARD = "vitals arn:aws:kinesis:us-east-1:123456789012:stream/wildrydes shardId-000000000000"


@dataclass(frozen=True)
class State:
    key: str
    value: int


class DictStore:
    """Kept states by key, written only at the expected version; counts its reads."""

    def __init__(self) -> None:
        self.items: dict[str, Kept[State]] = {}
        self.reads: list[str] = []
        self.failing: set[str] = set()  # keys whose every call fails

    def _check(self, key: str) -> None:
        if key in self.failing:
            raise StoreError(f"{key}: the table cannot be reached (test)")

    def get_many(self, keys: Iterable[str]) -> dict[str, Kept[State]]:
        wanted = list(keys)
        self.reads.extend(wanted)
        return {k: self.items[k] for k in wanted if k in self.items}

    def get(self, key: str) -> Kept[State] | None:
        self._check(key)
        self.reads.append(key)
        return self.items.get(key)

    def save(self, state: State, outbox: dict[str, Pending], expected_version: int | None) -> bool:
        self._check(state.key)
        stored = self.items.get(state.key)
        if (stored.version if stored else None) != expected_version:
            return False
        self.items[state.key] = Kept(state, (expected_version or 0) + 1, dict(outbox))
        return True

    def remove_from_outbox(self, key: str, notification_ids: Sequence[str]) -> None:
        self._check(key)
        kept = self.items[key]
        outbox = {i: p for i, p in kept.outbox.items() if i not in notification_ids}
        self.items[key] = Kept(kept.state, kept.version + 1, outbox)


class Turns:
    """The shard turns' table in a dict."""

    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}

    def take(self, shard: str, token: str) -> str | None:
        replaced = self.tokens.get(shard)
        self.tokens[shard] = token
        return replaced


def pending(name: str) -> Pending:
    return Pending(Notification(name, f"subject {name}", "message", {}, "2026-11-22"), 1.0)


@pytest.fixture
def store() -> DictStore:
    return DictStore()


@pytest.fixture
def memory(store: DictStore) -> RememberingStore[State]:
    tokens = iter(f"token-{n}" for n in range(1000))
    return RememberingStore(store, Turns(), key_of=lambda s: s.key, new_token=lambda: next(tokens))


def test_a_state_written_is_answered_from_memory_at_its_new_version(
    store: DictStore, memory: RememberingStore[State]
) -> None:
    batch = memory.begin(SHARD)
    assert batch.get_many(["a"]) == {} and batch.read == 1
    assert batch.save(State("a", 1), {"n": pending("n")}, None)

    again = memory.begin(SHARD)
    kept = again.get_many(["a"])

    assert again.read == 0 and store.reads == ["a"]
    assert kept == {"a": Kept(State("a", 1), 1, {"n": pending("n")})} == store.items
    assert again.save(State("a", 2), {}, 1)  # the version remembered is the stored one
    assert store.items["a"].version == 2


def test_a_lost_race_forgets_the_key_and_a_read_after_it_is_remembered(
    store: DictStore, memory: RememberingStore[State]
) -> None:
    batch = memory.begin(SHARD)
    batch.save(State("a", 1), {}, None)
    store.items["a"] = Kept(State("a", 5), 7, {})  # another writer, outside the scheme

    assert not batch.save(State("a", 2), {}, 1)
    assert memory.begin(SHARD).get_many(["a"]) == {"a": Kept(State("a", 5), 7, {})}
    assert store.reads == ["a"]  # read again, once: the lost race forgot it

    assert batch.get("a") == Kept(State("a", 5), 7, {})
    assert memory.begin(SHARD).get_many(["a"])["a"].version == 7


def test_a_delivery_leaves_the_outbox_without_it_at_the_next_version(
    store: DictStore, memory: RememberingStore[State]
) -> None:
    batch = memory.begin(SHARD)
    batch.save(State("a", 1), {"x": pending("x"), "y": pending("y")}, None)

    batch.remove_from_outbox("a", ["x"])

    remembered = memory.begin(SHARD).get_many(["a"])["a"]
    assert remembered == store.items["a"] == Kept(State("a", 1), 2, {"y": pending("y")})


@pytest.mark.parametrize("call", ["save", "get", "remove_from_outbox"])
def test_a_key_whose_call_failed_is_read_again(
    store: DictStore, memory: RememberingStore[State], call: str
) -> None:
    batch = memory.begin(SHARD)
    batch.save(State("a", 1), {"x": pending("x")}, None)
    batch.save(State("b", 1), {}, None)
    batch.hold("a", State("a", 1), State("a", 2))
    store.failing = {"a"}

    with pytest.raises(StoreError):
        {
            "save": lambda: batch.save(State("a", 3), {}, 1),
            "get": lambda: batch.get("a"),
            "remove_from_outbox": lambda: batch.remove_from_outbox("a", ["x"]),
        }[call]()
    store.failing = set()
    again = memory.begin(SHARD)
    again.get_many(["a", "b"])

    assert store.reads[-1:] == ["a"] and again.read == 1  # b is still remembered
    assert again.newest("a", State("a", 1)) == State("a", 1)  # nothing held any more


def test_a_state_held_back_is_the_newest_only_against_the_state_it_was_held_against(
    memory: RememberingStore[State],
) -> None:
    batch = memory.begin(SHARD)
    batch.hold("a", State("a", 1), State("a", 2))

    assert batch.newest("a", State("a", 1)) == State("a", 2)
    assert batch.newest("a", State("a", 9)) == State("a", 9)  # the stored state moved on
    assert batch.newest("a", None) is None
    assert batch.newest("b", State("b", 1)) == State("b", 1)
    batch.hold("c", None, State("c", 1))  # nothing stored: nothing to hold against
    assert batch.newest("c", State("c", 0)) == State("c", 0)


def test_a_write_ends_what_was_held(store: DictStore, memory: RememberingStore[State]) -> None:
    batch = memory.begin(SHARD)
    batch.save(State("a", 1), {}, None)
    batch.hold("a", State("a", 1), State("a", 2))
    batch.save(State("a", 3), {}, 1)

    assert memory.begin(SHARD).newest("a", State("a", 1)) == State("a", 1)


def test_another_environments_turn_in_between_forgets_the_shard(
    store: DictStore,
) -> None:
    turns = Turns()
    first = RememberingStore(store, turns, key_of=lambda s: s.key)
    other = RememberingStore(store, turns, key_of=lambda s: s.key)
    first.begin(SHARD).save(State("a", 1), {}, None)
    first.begin(SHARD).hold("a", State("a", 1), State("a", 2))
    other.begin(SHARD)

    batch = first.begin(SHARD)
    batch.get_many(["a"])

    assert batch.read == 1
    assert batch.newest("a", State("a", 1)) == State("a", 1)


def test_a_turn_not_taken_fails_the_batch_and_the_next_one_reads_again(
    store: DictStore,
) -> None:
    class Unreachable(Turns):
        def take(self, shard: str, token: str) -> str | None:
            raise StoreError("the turns' table cannot be reached (test)")

    turns = Turns()
    memory = RememberingStore(store, turns, key_of=lambda s: s.key)
    memory.begin(SHARD).save(State("a", 1), {}, None)
    memory.turns = Unreachable()
    with pytest.raises(StoreError):
        memory.begin(SHARD)
    memory.turns = turns

    batch = memory.begin(SHARD)
    batch.get_many(["a"])

    assert batch.read == 1


def test_without_turns_nothing_is_kept_from_one_batch_to_the_next(store: DictStore) -> None:
    memory = RememberingStore(store, None, key_of=lambda s: s.key)
    memory.begin(SHARD).save(State("a", 1), {}, None)

    batch = memory.begin(SHARD)
    batch.get_many(["a"])

    assert batch.read == 1


def test_a_shard_with_more_keys_than_kept_starts_again(
    store: DictStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(statecache, "KEYS_PER_SHARD", 2)
    memory = RememberingStore(store, Turns(), key_of=lambda s: s.key)
    batch = memory.begin(SHARD)
    for key in ("a", "b"):
        batch.save(State(key, 1), {}, None)
    kept = memory.begin(SHARD)
    kept.get_many(["a", "b"])
    assert kept.read == 0  # two: as many as kept

    memory.begin(SHARD).save(State("c", 1), {}, None)  # three: more than kept
    batch = memory.begin(SHARD)
    batch.get_many(["a", "b", "c"])

    assert batch.read == 3


def test_an_environment_that_handled_many_shards_starts_again(
    store: DictStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(statecache, "SHARDS_REMEMBERED", 2)
    memory = RememberingStore(store, Turns(), key_of=lambda s: s.key)
    memory.begin("shard 1").save(State("a", 1), {}, None)
    memory.begin("shard 2").save(State("b", 1), {}, None)
    kept = memory.begin("shard 1")  # two remembered: still within the limit
    kept.get_many(["a"])
    assert kept.read == 0

    memory.begin("shard 3")  # a third: the memory starts again
    batch = memory.begin("shard 1")
    batch.get_many(["a"])

    assert batch.read == 1


def test_keys_of_another_shard_are_not_answered_from_this_ones_memory(
    store: DictStore, memory: RememberingStore[State]
) -> None:
    memory.begin("shard 1").save(State("a", 1), {}, None)

    batch = memory.begin("shard 2")
    found: Any = batch.get_many(["a"])

    assert batch.read == 1 and found == {"a": Kept(State("a", 1), 1, {})}
