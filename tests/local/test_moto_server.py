"""The embedded endpoint's Kinesis shard methods give what moto's own give, in constant time."""

from __future__ import annotations

from typing import Any

import pytest
from moto.kinesis.models import Shard

from local import moto_server


def shard_with(count: int) -> Shard:
    shard = Shard(0, 0, 2**128)
    for n in range(count):
        shard.put_record(f"unicorn-{n % 7}", f"data-{n}", "")
    return shard


def outcome(result: tuple[list[Any], int, int]) -> tuple[list[int], int, int]:
    records, last, behind = result
    return [r.sequence_number for r in records], last, behind


@pytest.mark.parametrize("count", [0, 1, 50])
@pytest.mark.parametrize("after", ["0", "1", "25", "49", "50", "60"])
@pytest.mark.parametrize("limit", [None, 1, 10, 100])
def test_get_records_returns_what_motos_returns(count: int, after: str, limit: int | None) -> None:
    shard = shard_with(count)
    assert outcome(moto_server.get_records(shard, after, limit)) == outcome(
        Shard.get_records(shard, after, limit)
    )


def test_the_first_and_last_sequence_numbers_are_motos() -> None:
    for count in (0, 1, 50):
        shard = shard_with(count)
        assert moto_server.get_max_sequence_number(shard) == Shard.get_max_sequence_number(shard)
        assert moto_server.get_min_sequence_number(shard) == Shard.get_min_sequence_number(shard)


def test_a_shard_whose_numbers_have_gaps_is_read_by_motos_own_method() -> None:
    shard = shard_with(20)
    del shard.records[7]  # as if records had been moved or trimmed
    for after in ("0", "5", "7", "15"):
        assert outcome(moto_server.get_records(shard, after, 5)) == outcome(
            Shard.get_records(shard, after, 5)
        )


def test_records_put_after_a_read_are_found_by_the_next_one() -> None:
    shard = shard_with(3)
    first, last, _ = moto_server.get_records(shard, "0", None)
    shard.put_record("unicorn-9", "late", "")
    second, _, _ = moto_server.get_records(shard, str(last), None)
    assert [r.sequence_number for r in first] == [1, 2, 3]
    assert [(r.sequence_number, r.data) for r in second] == [(4, "late")]
