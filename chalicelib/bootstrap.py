"""Wiring: settings and clients in, ready-made services out, built on first use.

`services()` is what the handlers in `app.py` call. Nothing here runs at
import, so importing the app stays cheap and moto can start first in tests.
Each service's modules are imported where it is built: every function
imports the whole app on a cold start, but compiles only what it uses
(`make bench` measures each function's share).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib import names
from chalicelib.adapters.clients import Clients
from chalicelib.errors import ConfigurationError
from chalicelib.observability import Metrics, configure_logging
from chalicelib.settings import Settings, load_settings

if TYPE_CHECKING:
    from chalicelib.adapters.deadletter import DeadLetters
    from chalicelib.pipeline.aggregator import Aggregator
    from chalicelib.pipeline.persister import Persister
    from chalicelib.taxi.intake import TripIntake
    from chalicelib.taxi.store import FareAlertStore, ZoneWindowStore
    from chalicelib.taxi.view import TaxiView
    from chalicelib.unicorns.monitor import VitalsMonitor
    from chalicelib.unicorns.report import Reporter
    from chalicelib.unicorns.store import StatusStore, SummaryStore
    from chalicelib.unicorns.view import FleetView


class Services:
    """Each service built once, from one set of settings and clients."""

    def __init__(
        self,
        settings: Settings,
        clients: Clients,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.clients = clients
        self.sleep = sleep  # every retry pause goes through this
        self.clock = clock

    def metrics(self, function: str) -> Metrics:
        """An invocation's metrics, written to stdout if the settings turn them on."""
        return Metrics(
            function,
            namespace=self.settings.metrics_namespace,
            enabled=self.settings.metrics,
            clock=self.clock,
        )

    @cached_property
    def dead_letters(self) -> DeadLetters:
        from chalicelib.adapters.deadletter import DeadLetters

        return DeadLetters(self.clients.get("s3"), self.settings.archive_bucket)

    @cached_property
    def summary_store(self) -> SummaryStore:
        from chalicelib.unicorns.store import SummaryStore

        return SummaryStore(self.clients.get("dynamodb"), names.SUMMARY_TABLE, sleep=self.sleep)

    @cached_property
    def status_store(self) -> StatusStore:
        from chalicelib.unicorns.store import StatusStore

        return StatusStore(self.clients.get("dynamodb"), names.STATUS_TABLE, sleep=self.sleep)

    @cached_property
    def aggregator(self) -> Aggregator:
        from chalicelib.adapters.streams import KinesisWriter
        from chalicelib.pipeline.aggregator import Aggregator
        from chalicelib.unicorns.windows import UNICORN_READINGS

        emitter = KinesisWriter(
            self.clients.get("kinesis"), names.SUMMARY_STREAM, sleep=self.sleep
        )
        return Aggregator(
            emitter,
            self.dead_letters,
            data_set=UNICORN_READINGS,
            function="aggregate",
            metrics=self.metrics,
        )

    @cached_property
    def persister(self) -> Persister:
        from chalicelib.pipeline.persister import MergedRows, Persister
        from chalicelib.unicorns.summaries import merge, parse_row

        return Persister(
            self.summary_store,
            self.dead_letters,
            data_set=MergedRows(parse_row, merge, "summaries", "Summaries"),
            function="persist",
            metrics=self.metrics,
        )

    @cached_property
    def insight_store(self) -> ZoneWindowStore:
        from chalicelib.taxi.store import ZoneWindowStore

        return ZoneWindowStore(self.clients.get("dynamodb"), names.INSIGHT_TABLE, sleep=self.sleep)

    @cached_property
    def trip_aggregator(self) -> Aggregator:
        from chalicelib.adapters.streams import KinesisWriter
        from chalicelib.pipeline.aggregator import Aggregator
        from chalicelib.taxi.windows import TAXI_TRIPS

        emitter = KinesisWriter(
            self.clients.get("kinesis"), names.INSIGHT_STREAM, sleep=self.sleep
        )
        return Aggregator(
            emitter,
            self.dead_letters,
            data_set=TAXI_TRIPS,
            function="aggregate_trips",
            metrics=self.metrics,
        )

    @cached_property
    def fare_alert_store(self) -> FareAlertStore:
        from chalicelib.taxi.store import FareAlertStore

        return FareAlertStore(
            self.clients.get("dynamodb"), names.FARE_ALERT_TABLE, sleep=self.sleep
        )

    @cached_property
    def insight_persister(self) -> Persister:
        if not self.settings.fare_topic_arn:
            raise ConfigurationError(
                "FARE_TOPIC_ARN is not set: the fare watch has no topic to publish alerts to"
            )
        from chalicelib.adapters.publisher import AlertPublisher
        from chalicelib.pipeline.persister import MergedRows, Persister
        from chalicelib.taxi.monitor import FareWatch
        from chalicelib.taxi.summaries import merge_partials, parse_partial

        publisher = AlertPublisher(self.clients.get("sns"), self.settings.fare_topic_arn)
        watch = FareWatch(
            self.insight_store, self.fare_alert_store, publisher, api_url=self.settings.api_url
        )
        return Persister(
            self.insight_store,
            self.dead_letters,
            data_set=MergedRows(parse_partial, merge_partials, "zone windows", "ZoneWindows"),
            function="persist_insights",
            metrics=self.metrics,
            watch=watch,
        )

    @cached_property
    def intake(self) -> TripIntake:
        from chalicelib.adapters.streams import KinesisWriter
        from chalicelib.taxi.intake import TripIntake
        from chalicelib.taxi.ledger import TripLedger

        # A request has API Gateway's 29 s: a few quick retries, then the
        # client is told which trips to send again.
        stream = KinesisWriter(
            self.clients.get("kinesis"),
            names.TRIP_STREAM,
            attempts=4,
            max_delay=1.0,
            sleep=self.sleep,
        )
        ledger = TripLedger(self.clients.get("dynamodb"), names.TRIP_ID_TABLE, sleep=self.sleep)
        return TripIntake(ledger, stream, self.clock)

    @cached_property
    def vitals(self) -> VitalsMonitor:
        if not self.settings.alert_topic_arn:
            # Fail before any status is written, rather than at the first alert.
            raise ConfigurationError(
                "ALERT_TOPIC_ARN is not set: vitals has no topic to publish alerts to"
            )
        from chalicelib.adapters.publisher import AlertPublisher
        from chalicelib.adapters.turns import ShardTurns
        from chalicelib.unicorns.monitor import VitalsMonitor

        publisher = AlertPublisher(self.clients.get("sns"), self.settings.alert_topic_arn)
        turns = ShardTurns(self.clients.get("dynamodb"), names.SHARD_TURN_TABLE, sleep=self.sleep)
        return VitalsMonitor(
            self.status_store,
            publisher,
            self.settings.vitals_threshold,
            self.settings.api_url,
            clock=self.clock,
            metrics=self.metrics,
            status_interval=self.settings.status_interval,
            turns=turns,
        )

    @cached_property
    def reporter(self) -> Reporter:
        from chalicelib.adapters.archive import Archive
        from chalicelib.unicorns.report import Reporter
        from chalicelib.unicorns.report_html import render

        return Reporter(
            self.status_store,
            self.summary_store,
            Archive(self.clients.get("s3"), self.settings.archive_bucket),
            self.settings.vitals_threshold,
            render,
            self.clock,
            metrics=self.metrics,
        )

    @cached_property
    def fleet(self) -> FleetView:
        from chalicelib.unicorns.view import FleetView

        return FleetView(self.status_store, self.summary_store, self.clock)

    @cached_property
    def taxi(self) -> TaxiView:
        from chalicelib.taxi.view import TaxiView

        return TaxiView(self.insight_store, self.clock, self.fare_alert_store)


_services: Services | None = None


def services() -> Services:
    """The process's services, made on the first call and kept.

    Settings are read and checked once, as Lambda keeps a process (and its
    environment) between invocations. The local runtime, which runs every
    function in one process, holds a set per function and `install`s it.
    """
    if _services is None:
        return start(load_settings(), Clients())
    return _services


def start(settings: Settings, clients: Clients) -> Services:
    """Services for `settings` over `clients`, installed, with logging as the settings say."""
    logging.getLogger("chalicelib").setLevel(settings.log_level)
    configure_logging(settings.log_format)
    return install(Services(settings, clients))


def install(replacement: Services) -> Services:
    """Use `replacement` from now on (tests give it a sleep that does not wait)."""
    global _services
    _services = replacement
    return replacement


def reset() -> None:
    """Forget the services, so the next call reads settings and makes clients anew."""
    global _services
    _services = None
