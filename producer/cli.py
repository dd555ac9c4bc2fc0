"""`python -m producer`: the command line, the paced send loop and its progress report.

The imperative shell around the pure `fleet` and `replay` modules. It makes
the Kinesis client when it runs (endpoint, region and credentials from the
standard AWS settings), sends tick by tick on a schedule kept by a monotonic
clock, and writes progress and problems to stderr, leaving stdout empty. The
clock, sleep, wall time and client are parameters of `main`, so tests drive
whole runs in-process and never wait.
"""

from __future__ import annotations

import argparse
import math
import random
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TextIO

from chalicelib.adapters.streams import MAX_RECORDS_PER_CALL, KinesisWriter, PutStats
from chalicelib.errors import DeliveryError
from chalicelib.names import RAW_STREAM, TRIP_STREAM
from chalicelib.pipeline.events import Entry
from chalicelib.taxi.records import MAX_ZONE, MIN_ZONE, encode_trip
from chalicelib.unicorns.records import MAX_NAME_LENGTH, encode_reading
from producer.arguments import non_negative, positive, whole
from producer.aws import Fatal, kinesis_client
from producer.fleet import DEFAULT_DECLINE, MAX_INTERVAL, Fleet, fleet_names
from producer.replay import STDIN, ReplayError, read_entries
from producer.taxi import FareSpike, TaxiDay

DEFAULT_UNICORNS = 5
DEFAULT_RATE = 1.0  # reports a second per unicorn, as in the workshop
DEFAULT_PROGRESS = 5.0  # seconds between progress lines
MIN_RATE = 1 / MAX_INTERVAL  # slower, and one report's distance would fail validation
# A paced replay sends what is due at most this often, so that a fast rate
# still goes out in batches rather than one call per record.
REPLAY_TICK = 0.1
SHOWN_UNWELL = 4  # unwell unicorns named in the opening line; the rest are counted
# Products such as 3 * (1 / 3) land a hair under the whole number they stand for.
EPSILON = 1e-9
# The taxi data set: a day of trips, replayed faster than it happened.
DATASETS = ("unicorns", "taxi")
DEFAULT_TRIPS_PER_DAY = 50_000
DEFAULT_SPEED = 60.0  # simulated seconds a second: a day in 24 minutes
TAXI_TICK = 1.0  # seconds between sends; each carries the trips of SPEED simulated seconds
UNICORN_ONLY = ("unicorns", "name", "from_file", "rate", "unwell", "decline")
TAXI_ONLY = ("trips_per_day", "day", "start", "speed", "fare_spike")

Clock = Callable[[], float]
Sleep = Callable[[float], None]
Wall = Callable[[], datetime]


@dataclass(frozen=True)
class Options:
    """The command line, checked."""

    stream: str
    region: str | None
    progress: float
    rate: float | None
    duration: float | None
    from_file: str | None
    names: tuple[str, ...]
    unwell: int
    decline: float
    seed: int
    dataset: str = "unicorns"
    trips_per_day: int = DEFAULT_TRIPS_PER_DAY
    day: date | None = None  # None: today (UTC)
    start: float = 0.0  # seconds into the day
    speed: float = DEFAULT_SPEED
    spikes: tuple[FareSpike, ...] = ()


@dataclass(frozen=True)
class Plan:
    """What to send: `batch(tick)` for each tick, one tick every `interval` seconds."""

    description: str  # for the opening line
    ticks: int | None  # None: until interrupted
    interval: float | None  # None: as fast as the stream takes them
    batch: Callable[[int], list[Entry]]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def main(
    argv: Sequence[str] | None = None,
    *,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
    wall: Wall = _utc_now,
    client: Any = None,
) -> int:
    """Run the producer and return the exit status.

    0 when done or stopped with Ctrl-C, 1 when the run failed, 2 for a usage
    error, 130 when Ctrl-C came before the run started.
    """
    err = sys.stderr
    try:
        options = parse_options(argv)
    except SystemExit as exit_:  # argparse has already printed the usage and the problem
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        return _produce(options, err, clock, sleep, wall, client)
    except Fatal as problem:
        print(f"producer: {problem}", file=err)
        return 1
    except KeyboardInterrupt:  # before anything was sent, so there is nothing to sum up
        print("producer: interrupted", file=err)
        return 130


def parse_options(argv: Sequence[str] | None) -> Options:
    """The checked options; SystemExit(2) with the usage on stderr when they do not add up."""
    parser = _parser()
    args = parser.parse_args(argv)
    flags = UNICORN_ONLY if args.dataset == "taxi" else TAXI_ONLY
    for flag in flags:
        if getattr(args, flag) is not None:
            parser.error(f"--{flag.replace('_', '-')} does not apply to --dataset {args.dataset}")
    if args.dataset == "taxi":
        names: tuple[str, ...] = ()
        unwell = 0
    elif args.from_file is not None:
        for flag in ("seed", "unwell", "decline", "duration"):
            if getattr(args, flag) is not None:
                parser.error(f"--{flag} applies to the simulated fleet, not to --from-file")
        names = ()
        unwell = 0
    else:
        if args.rate is not None and args.rate < MIN_RATE:
            parser.error(
                f"--rate must be at least {MIN_RATE:.4g}: slower, a unicorn moves further "
                "between reports than a valid record allows"
            )
        if args.name is not None:
            _check_name(parser, args.name)
            names = (args.name,)
        else:
            names = tuple(fleet_names(args.unicorns or DEFAULT_UNICORNS))
        if args.unwell is None:
            unwell = 0 if args.name is not None else max(1, math.ceil(len(names) / 3))
        elif args.unwell > len(names):
            parser.error(f"--unwell {args.unwell} is more than the {len(names)} unicorns")
        else:
            unwell = args.unwell
    if args.region is not None and not args.region:
        parser.error("--region must not be empty")
    if args.stream is not None and not args.stream:
        parser.error("--stream must not be empty")
    default_stream = TRIP_STREAM if args.dataset == "taxi" else RAW_STREAM
    return Options(
        stream=args.stream or default_stream,
        region=args.region,
        progress=args.progress,
        rate=args.rate,
        duration=args.duration,
        from_file=args.from_file,
        names=names,
        unwell=unwell,
        decline=DEFAULT_DECLINE if args.decline is None else args.decline,
        seed=secrets.randbelow(1_000_000) if args.seed is None else args.seed,
        dataset=args.dataset,
        trips_per_day=args.trips_per_day or DEFAULT_TRIPS_PER_DAY,
        day=args.day,
        start=args.start or 0.0,
        speed=args.speed or DEFAULT_SPEED,
        spikes=tuple(args.fare_spike or ()),
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m producer",
        description="Put records on a Kinesis stream: Wild Rydes sensor records of a "
        "simulated fleet of unicorns (one record per unicorn per tick) or a replay of a "
        "file, or, with --dataset taxi, a simulated city's taxi trips.",
        epilog="The endpoint, region and credentials come from the standard AWS settings "
        "(AWS_ENDPOINT_URL, AWS_DEFAULT_REGION, AWS_PROFILE, ...). Ctrl-C stops a run "
        "and prints the summary.",
    )
    parser.add_argument(
        "--dataset",
        choices=DATASETS,
        default="unicorns",
        help="what to send (default unicorns); taxi: a day of trips to "
        f"{TRIP_STREAM}, replayed --speed times faster than it happened",
    )
    who = parser.add_mutually_exclusive_group()
    who.add_argument(
        "--unicorns",
        type=whole(1),
        metavar="N",
        help=f"simulate a fleet of N unicorns (default {DEFAULT_UNICORNS})",
    )
    who.add_argument(
        "--name", help="simulate one unicorn called NAME, as the workshop does with Shadowfax"
    )
    who.add_argument(
        "--from-file",
        metavar="PATH",
        help="replay newline-delimited JSON records from PATH ('-' for stdin), in order",
    )
    parser.add_argument(
        "--rate",
        type=positive,
        help="records a second per unicorn (default 1, fractions allowed); with "
        "--from-file, records a second overall (default: as fast as the stream takes them)",
    )
    parser.add_argument(
        "--duration",
        type=positive,
        metavar="SECONDS",
        help="stop after SECONDS (default: run until Ctrl-C)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        help="seed of the simulation; a seed repeats names, courses and vitals "
        "(default: random, shown at the start)",
    )
    parser.add_argument(
        "--unwell",
        type=whole(0),
        metavar="N",
        help="unicorns whose health or magic drops below 100 and recovers (default: a "
        "third of the fleet, at least 1; 0 with --name)",
    )
    parser.add_argument(
        "--decline",
        type=positive,
        metavar="POINTS",
        help=f"points a second an unwell unicorn's vital falls (default {DEFAULT_DECLINE:g})",
    )
    taxi = parser.add_argument_group("taxi trips (--dataset taxi)")
    taxi.add_argument(
        "--trips-per-day",
        type=whole(1),
        metavar="N",
        help=f"the city's trips in a day (default {DEFAULT_TRIPS_PER_DAY:,})",
    )
    taxi.add_argument(
        "--day", type=_day, metavar="YYYY-MM-DD", help="the day replayed (default: today, UTC)"
    )
    taxi.add_argument(
        "--start",
        type=_time_of_day,
        metavar="HH:MM",
        help="where in the day to begin (default 00:00)",
    )
    taxi.add_argument(
        "--speed",
        type=positive,
        metavar="X",
        help=f"simulated seconds per second (default {DEFAULT_SPEED:g}: a day in 24 minutes)",
    )
    taxi.add_argument(
        "--fare-spike",
        type=_fare_spike,
        action="append",
        metavar="ZONE@HH:MM-HH:MM[xF]",
        help="meters of pickup zone ZONE charge F times the fare (default 2) for trips "
        "picked up in that span, e.g. 161@08:00-09:00; the fare watch should alert on it "
        "(repeatable)",
    )
    parser.add_argument(
        "--stream",
        help=f"stream to put records on (default {RAW_STREAM}; {TRIP_STREAM} for taxi trips)",
    )
    parser.add_argument(
        "--region", help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's)"
    )
    parser.add_argument(
        "--progress",
        type=non_negative,
        default=DEFAULT_PROGRESS,
        metavar="SECONDS",
        help=f"progress line on stderr every SECONDS (default {DEFAULT_PROGRESS:g}; 0 = none)",
    )
    return parser


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day as YYYY-MM-DD: {text!r}") from None


def _time_of_day(text: str) -> float:
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise argparse.ArgumentTypeError(f"not a time of day as HH:MM: {text!r}")
    if not (int(hours) < 24 and int(minutes) < 60):
        raise argparse.ArgumentTypeError(f"not a time of day as HH:MM: {text!r}")
    return int(hours) * 3600.0 + int(minutes) * 60.0


def _fare_spike(text: str) -> FareSpike:
    usage = f"not a fare spike as ZONE@HH:MM-HH:MM[xFACTOR]: {text!r}"
    zone, at, rest = text.partition("@")
    span, _, factor = rest.partition("x")
    start, dash, end = span.partition("-")
    if not (at and dash and zone.isdigit()):
        raise argparse.ArgumentTypeError(usage)
    if not MIN_ZONE <= int(zone) <= MAX_ZONE:
        raise argparse.ArgumentTypeError(f"zone must be {MIN_ZONE} to {MAX_ZONE}, got {zone}")
    begins, ends = _time_of_day(start) / 3600, _time_of_day(end) / 3600
    if not begins < ends:
        raise argparse.ArgumentTypeError(f"the span must end after it starts: {text!r}")
    times = positive(factor) if factor else 2.0
    return FareSpike(int(zone), begins, ends, times)


def _check_name(parser: argparse.ArgumentParser, name: str) -> None:
    # The pipeline dead-letters a record whose Name breaks these rules.
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        parser.error(f"--name must be 1 to {MAX_NAME_LENGTH} printable characters")


def _produce(
    options: Options, err: TextIO, clock: Clock, sleep: Sleep, wall: Wall, client: Any
) -> int:
    if options.from_file is not None:
        try:
            # Read and check the whole file before connecting: a bad file sends nothing.
            plan = replay_plan(read_entries(options.from_file, sys.stdin.buffer), options)
        except ReplayError as problem:
            raise Fatal(str(problem)) from None
    elif options.dataset == "taxi":
        plan = taxi_plan(options, wall)
    else:
        plan = simulation_plan(options, wall)
    if client is None:
        client = kinesis_client(options.region)
    print(
        f"producer: stream {options.stream!r} in {client.meta.region_name} "
        f"({client.meta.endpoint_url}): {plan.description}",
        file=err,
    )
    writer = KinesisWriter(client, options.stream, sleep=sleep)
    progress = Progress(writer.totals, clock, options.progress, err)
    try:
        send(plan, writer, progress, clock, sleep)
    except KeyboardInterrupt:
        progress.summary("stopped")
        return 0
    except DeliveryError as problem:
        progress.given_up = progress.queued - writer.totals.sent
        if writer.totals.sent:
            progress.summary("failed")
        raise Fatal(_explain(problem, client, options.stream)) from None
    progress.summary("done")
    return 0


def simulation_plan(options: Options, wall: Wall) -> Plan:
    """A tick per report interval, each carrying one fresh reading per unicorn."""
    rate = DEFAULT_RATE if options.rate is None else options.rate
    fleet = Fleet(
        options.names,
        random.Random(options.seed),
        interval=1 / rate,
        unwell=options.unwell,
        decline=options.decline,
    )

    def batch(_tick: int) -> list[Entry]:
        return [(encode_reading(r), r.name) for r in fleet.report(wall())]

    unwell = [f"{u.name} ({u.illness.vital})" for u in fleet.unwell if u.illness]
    if len(unwell) > SHOWN_UNWELL:
        unwell[SHOWN_UNWELL:] = [f"{len(unwell) - SHOWN_UNWELL} more"]
    count = len(options.names)
    description = (
        f"{_plural(count, 'unicorn')} at {_plural(rate, 'record')}/s"
        + (" each " if count > 1 else " ")
        + ("until Ctrl-C" if options.duration is None else f"for {options.duration:g}s")
        + f"; seed {options.seed}; unwell: {', '.join(unwell) or 'none'}"
    )
    ticks = None if options.duration is None else math.ceil(options.duration * rate - EPSILON)
    return Plan(description, ticks, 1 / rate, batch)


def taxi_plan(options: Options, wall: Wall) -> Plan:
    """A send a second, each the trips that ended in the next `speed` seconds of the day.

    Trips are keyed by pickup zone, so that a zone's trips share a shard.
    The day ends the run unless --duration ends it first.
    """
    day = options.day or wall().date()
    city = TaxiDay(day, options.trips_per_day, seed=options.seed, spikes=options.spikes)
    step = options.speed * TAXI_TICK

    def batch(tick: int) -> list[Entry]:
        start = options.start + tick * step
        return [(encode_trip(t), str(t.pickup_zone)) for t in city.trips(start, start + step)]

    left = math.ceil((24 * 3600 - options.start) / step - EPSILON)
    ticks = (
        left
        if options.duration is None
        else min(left, math.ceil(options.duration / TAXI_TICK - EPSILON))
    )
    begins = f"{int(options.start // 3600):02d}:{int(options.start % 3600 // 60):02d}"
    description = (
        f"taxi trips of {day.isoformat()} from {begins}, about "
        f"{options.trips_per_day:,} a day, at {options.speed:g}x ("
        + ("to the end of the day" if ticks == left else f"for {options.duration:g}s")
        + f"); seed {options.seed}"
        + "".join(
            f"; fares x{s.factor:g} in zone {s.zone} from {_clock(s.start)} to {_clock(s.end)}"
            for s in options.spikes
        )
    )
    return Plan(description, ticks, TAXI_TICK, batch)


def _clock(hours: float) -> str:
    minutes = round(hours * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def replay_plan(entries: list[Entry], options: Options) -> Plan:
    """The file's records in order: in full calls, or paced at `options.rate` overall."""
    count = len(entries)
    source = "stdin" if options.from_file == STDIN else options.from_file
    description = f"replaying {_plural(count, 'record')} from {source}"
    if options.rate is None:
        ticks = math.ceil(count / MAX_RECORDS_PER_CALL)

        def in_calls(tick: int) -> list[Entry]:
            return entries[tick * MAX_RECORDS_PER_CALL : (tick + 1) * MAX_RECORDS_PER_CALL]

        return Plan(f"{description} as fast as the stream takes them", ticks, None, in_calls)

    interval = max(1 / options.rate, REPLAY_TICK)
    per_tick = interval * options.rate  # at least one record

    def paced(tick: int) -> list[Entry]:
        # Record i is due i / rate seconds in; a tick sends those due before the
        # next tick, so that n records take n / rate seconds.
        return entries[_due_before(tick, per_tick, count) : _due_before(tick + 1, per_tick, count)]

    ticks = math.ceil(count / per_tick - EPSILON)
    return Plan(f"{description} at {_plural(options.rate, 'record')}/s", ticks, interval, paced)


def _due_before(tick: int, per_tick: float, count: int) -> int:
    return min(count, math.ceil(tick * per_tick - EPSILON))


def send(
    plan: Plan, writer: KinesisWriter, progress: Progress, clock: Clock, sleep: Sleep
) -> None:
    """Put every tick's batch, each no earlier than its due time.

    A timed run then waits out its last interval, so that `--duration 60`
    takes a minute and the summary's rate is the rate asked for.
    """
    tick = 0
    while plan.ticks is None or tick < plan.ticks:
        _wait_for(tick, plan, progress.started, clock, sleep)
        # Before the send, so a line counts only the ticks of the time it covers.
        progress.tick()
        entries = plan.batch(tick)
        progress.queued += len(entries)
        writer.put(entries)
        tick += 1
    _wait_for(tick, plan, progress.started, clock, sleep)


def _wait_for(tick: int, plan: Plan, started: float, clock: Clock, sleep: Sleep) -> None:
    if plan.interval is None:
        return
    # Due times count from the start rather than from the last send, so slow
    # sends never add up to drift, and a late tick goes at once.
    wait = started + tick * plan.interval - clock()
    if wait > 0:
        sleep(wait)


class Progress:
    """The progress lines and the closing summary, from the writer's running totals."""

    def __init__(self, totals: PutStats, clock: Clock, every: float, out: TextIO) -> None:
        self.totals = totals
        self.clock = clock
        self.every = every
        self.out = out
        self.started = clock()
        self.queued = 0  # records handed to the writer
        self.given_up = 0  # records left undelivered when the run failed
        self._last_at = self.started
        self._last_sent = 0
        self._next_at = self.started + every

    def tick(self) -> None:
        """A progress line, if one is due: the rate is over the time since the last one."""
        if not self.every:
            return
        now = self.clock()
        if now < self._next_at:
            return
        rate = (self.totals.sent - self._last_sent) / (now - self._last_at)
        self._line("", rate, now - self.started)
        self._last_at, self._last_sent = now, self.totals.sent
        # Lines are due on a fixed grid, so a tick that wakes a hair late
        # does not push the next line back a whole tick.
        self._next_at += self.every * (math.floor((now - self._next_at) / self.every) + 1)

    def summary(self, outcome: str) -> None:
        """The closing line: `outcome` and the run's totals, its rate an average."""
        elapsed = self.clock() - self.started
        rate = self.totals.sent / elapsed if elapsed > 0 else 0.0
        # Ctrl-C can land while a call is in flight: its records may or may not be on the stream.
        unconfirmed = self.queued - self.totals.sent - self.given_up
        extra = f", {unconfirmed} unconfirmed" if unconfirmed else ""
        self._line(f"{outcome}: ", rate, elapsed, extra)

    def _line(self, prefix: str, rate: float, elapsed: float, extra: str = "") -> None:
        print(
            f"producer: {prefix}sent {self.totals.sent}, retried {self.totals.retried}, "
            f"failed {self.given_up}, {rate:.1f} records/s, {elapsed:.1f}s elapsed{extra}",
            file=self.out,
            flush=True,
        )


def _explain(problem: DeliveryError, client: Any, stream: str) -> str:
    if problem.code == "ResourceNotFoundException":
        return (
            f"stream {stream!r} not found in {client.meta.region_name} "
            f"(endpoint {client.meta.endpoint_url})"
        )
    return str(problem)


def _plural(count: float, word: str) -> str:
    return f"{count:g} {word}" + ("" if count == 1 else "s")
