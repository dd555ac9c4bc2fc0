"""The producer's command line and send plans: defaults, usage errors, ticks and batches."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from chalicelib.pipeline.events import Entry
from chalicelib.taxi.records import encode_trip, parse_trip
from producer.cli import main, parse_options, replay_plan, simulation_plan, taxi_plan
from producer.taxi import FareSpike, TaxiDay

ROOT = Path(__file__).resolve().parents[2]
WALL = datetime(2026, 11, 22, 14, 5, 9, tzinfo=UTC)


def test_the_defaults_are_the_workshop_stream_and_a_fleet_of_five_two_unwell() -> None:
    options = parse_options([])

    assert options.stream == "wildrydes"
    assert options.names == ("Shadowfax", "Rocinante", "Bucephalus", "Pegasus", "Silver")
    assert options.unwell == 2
    assert options.rate is None and options.duration is None and options.region is None
    assert options.progress == 5.0
    assert options.decline == 2.0


@pytest.mark.parametrize(
    ("argv", "names", "unwell"),
    [
        (["--name", "Shadowfax"], ("Shadowfax",), 0),
        (["--name", "Shadowfax", "--unwell", "1"], ("Shadowfax",), 1),
        (["--unicorns", "1"], ("Shadowfax",), 1),
        (["--unicorns", "3"], ("Shadowfax", "Rocinante", "Bucephalus"), 1),
        (["--unicorns", "7"], None, 3),
        (["--unicorns", "7", "--unwell", "0"], None, 0),
        (["--from-file", "archive.json"], (), 0),
    ],
)
def test_who_is_simulated_and_who_is_unwell(
    argv: list[str], names: tuple[str, ...] | None, unwell: int
) -> None:
    options = parse_options(argv)

    if names is not None:
        assert options.names == names
    assert options.unwell == unwell


def test_a_seed_is_chosen_when_none_is_given_and_kept_when_one_is() -> None:
    assert parse_options(["--seed", "42"]).seed == 42
    assert isinstance(parse_options([]).seed, int)


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--unicorns", "0"], "--unicorns: must be 1 or more"),
        (["--unicorns", "two"], "not a whole number"),
        (["--rate", "0"], "--rate: must be more than 0"),
        (["--rate", "-1"], "must be more than 0"),
        (["--rate", "nan"], "must be a finite number"),
        (["--rate", "inf"], "must be a finite number"),
        (["--rate", "0.001"], "--rate must be at least 0.0062"),
        (["--duration", "0"], "--duration: must be more than 0"),
        (["--progress", "-5"], "--progress: must be 0 or more"),
        (["--unwell", "-1"], "must be 0 or more"),
        (["--unicorns", "3", "--unwell", "4"], "--unwell 4 is more than the 3 unicorns"),
        (["--name", "Shadowfax", "--unwell", "2"], "more than the 1 unicorns"),
        (["--decline", "0"], "--decline: must be more than 0"),
        (["--unicorns", "3", "--name", "Shadowfax"], "not allowed with argument"),
        (["--name", "Shadowfax", "--from-file", "a.json"], "not allowed with argument"),
        (["--name", ""], "--name must be 1 to 256 printable characters"),
        (["--name", "x" * 257], "--name must be 1 to 256"),
        (["--name", "Shadow\nfax"], "printable"),
        (["--from-file", "a.json", "--seed", "1"], "--seed applies to the simulated fleet"),
        (["--from-file", "a.json", "--unwell", "1"], "--unwell applies"),
        (["--from-file", "a.json", "--duration", "9"], "--duration applies"),
        (["--stream", ""], "--stream must not be empty"),
        (["--region", ""], "--region must not be empty"),
        (["--frobnicate"], "unrecognized arguments"),
        (["--dataset", "ponies"], "invalid choice: 'ponies'"),
        (["--dataset", "taxi", "--unicorns", "3"], "--unicorns does not apply to --dataset taxi"),
        (["--dataset", "taxi", "--rate", "2"], "--rate does not apply to --dataset taxi"),
        (["--dataset", "taxi", "--from-file", "a.json"], "--from-file does not apply"),
        (["--trips-per-day", "10"], "--trips-per-day does not apply to --dataset unicorns"),
        (["--speed", "10"], "--speed does not apply to --dataset unicorns"),
        (["--dataset", "taxi", "--trips-per-day", "0"], "--trips-per-day: must be 1 or more"),
        (["--dataset", "taxi", "--day", "yesterday"], "not a day as YYYY-MM-DD"),
        (["--dataset", "taxi", "--start", "25:00"], "not a time of day as HH:MM"),
        (["--dataset", "taxi", "--start", "8"], "not a time of day as HH:MM"),
        (["--dataset", "taxi", "--speed", "0"], "--speed: must be more than 0"),
        (["--fare-spike", "161@08:00-09:00"], "--fare-spike does not apply to --dataset unicorns"),
        (["--dataset", "taxi", "--fare-spike", "161"], "not a fare spike as ZONE@HH:MM-HH:MM"),
        (["--dataset", "taxi", "--fare-spike", "999@08:00-09:00"], "zone must be 1 to 265"),
        (["--dataset", "taxi", "--fare-spike", "161@09:00-08:00"], "must end after it starts"),
        (["--dataset", "taxi", "--fare-spike", "161@08:00-09:00x0"], "must be more than 0"),
    ],
)
def test_usage_errors_exit_2_with_the_usage_and_the_problem(
    argv: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("usage: python -m producer")
    assert problem in err


@pytest.mark.parametrize(
    ("argv", "ticks", "interval"),
    [
        (["--duration", "10"], 10, 1.0),
        (["--duration", "10", "--rate", "0.5"], 5, 2.0),
        (["--duration", "1", "--rate", "3"], 3, 1 / 3),
        (["--duration", "2.5"], 3, 1.0),
        (["--duration", "0.2"], 1, 1.0),
        ([], None, 1.0),
    ],
)
def test_a_simulation_ticks_once_per_interval_for_its_duration(
    argv: list[str], ticks: int | None, interval: float
) -> None:
    plan = simulation_plan(parse_options(["--unicorns", "3", *argv]), lambda: WALL)

    assert plan.ticks == ticks
    assert plan.interval == pytest.approx(interval)
    assert [key for _, key in plan.batch(0)] == ["Shadowfax", "Rocinante", "Bucephalus"]


def test_a_simulation_describes_itself_for_the_opening_line() -> None:
    plan = simulation_plan(parse_options(["--seed", "3", "--duration", "60"]), lambda: WALL)

    assert plan.description.startswith("5 unicorns at 1 record/s each for 60s; seed 3; unwell: ")
    assert plan.description.count("Points)") == 2


@pytest.mark.parametrize(
    ("count", "rate", "sizes", "interval"),
    [
        (1200, None, [500, 500, 200], None),
        (500, None, [500], None),
        (0, None, [], None),
        (5, "2", [1, 1, 1, 1, 1], 0.5),
        (12, "50", [5, 5, 2], 0.1),
        (10, "1000", [10], 0.1),
        (3, "0.5", [1, 1, 1], 2.0),
        (0, "5", [], 0.2),
    ],
)
def test_a_replay_goes_in_full_calls_or_in_paced_batches_in_file_order(
    count: int, rate: str | None, sizes: list[int], interval: float | None
) -> None:
    entries: list[Entry] = [(b'{"Name":"N%d"}\n' % i, f"N{i}") for i in range(count)]
    argv = ["--from-file", "archive.json"] + (["--rate", rate] if rate else [])

    plan = replay_plan(entries, parse_options(argv))
    assert plan.ticks is not None
    batches = [plan.batch(tick) for tick in range(plan.ticks)]

    assert [len(b) for b in batches] == sizes
    assert [entry for batch in batches for entry in batch] == entries
    assert plan.interval == (None if interval is None else pytest.approx(interval))


def test_python_dash_m_producer_runs_the_command_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "producer", "--unicorns", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 2
    assert result.stdout == ""
    assert "--unicorns: must be 1 or more" in result.stderr


def test_taxi_trips_go_to_their_own_stream_a_day_compressed_sixty_times() -> None:
    options = parse_options(["--dataset", "taxi", "--seed", "5", "--day", "2026-11-23"])
    assert options.stream == "taxi-trips"
    plan = taxi_plan(options, lambda: WALL)
    assert (plan.ticks, plan.interval) == (24 * 60, 1.0)  # a send a second, a minute each
    assert plan.description == (
        "taxi trips of 2026-11-23 from 00:00, about 50,000 a day, at 60x (to the end of the "
        "day); seed 5"
    )


def test_each_taxi_send_carries_the_trips_of_its_slice_of_the_day_keyed_by_pickup_zone() -> None:
    argv = ["--dataset", "taxi", "--seed", "5", "--day", "2026-11-23", "--start", "08:00"]
    options = parse_options([*argv, "--speed", "300", "--duration", "3"])
    plan = taxi_plan(options, lambda: WALL)
    assert plan.ticks == 3
    sent = [entry for tick in range(3) for entry in plan.batch(tick)]
    city = TaxiDay(date(2026, 11, 23), 50_000, seed=5)
    expected = city.trips(8 * 3600, 8 * 3600 + 900)
    assert [data for data, _ in sent] == [encode_trip(t) for t in expected]
    assert [key for _, key in sent] == [str(t.pickup_zone) for t in expected]
    assert len(sent) > 300  # the morning peak: about 90 trips a minute at this size


def test_a_fare_spike_multiplies_one_zones_fares_for_its_span_and_is_announced() -> None:
    argv = ["--dataset", "taxi", "--seed", "5", "--day", "2026-11-23", "--start", "08:00"]
    spiked = parse_options([*argv, "--fare-spike", "161@08:00-09:00x3", "--duration", "60"])
    assert spiked.spikes == (FareSpike(161, 8.0, 9.0, 3.0),)
    plan = taxi_plan(spiked, lambda: WALL)
    assert plan.description.endswith("; fares x3 in zone 161 from 08:00 to 09:00")
    normal = taxi_plan(parse_options([*argv, "--duration", "60"]), lambda: WALL)
    for (data, _), (usual, _) in zip(plan.batch(30), normal.batch(30), strict=True):
        trip, before = parse_trip(data), parse_trip(usual)
        expected = before.fare * 3 if trip.pickup_zone == 161 else before.fare
        if trip.pickup_time >= "2026-11-23 08:00":
            assert trip.fare == pytest.approx(expected, abs=0.01)
    assert parse_options([*argv, "--fare-spike", "161@08:00-09:00"]).spikes[0].factor == 2.0
