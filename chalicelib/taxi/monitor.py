"""The fare watch: after `persist_insights` writes a batch, each zone's windows are assessed.

Runs inside `persist_insights` (see `Persister(watch=...)`), on the windows of
the batch as stored after merging, written or not (a retried batch assesses
them again, which the outbox makes harmless). Per zone: the stored windows
of the hour before read back for the baselines (one query), then the zone's
alert state written with any alert or recovery through the shared outbox
(`chalicelib.pipeline.incidents`) and published to the taxi alert topic.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

from chalicelib.errors import StoreError
from chalicelib.observability import Metrics
from chalicelib.pipeline.incidents import Kept, Outbox, Publisher
from chalicelib.pipeline.notifications import Notification
from chalicelib.taxi.fares import FareRule, ZoneFares, advance, assess, baseline_start, render
from chalicelib.taxi.store import FareAlertStore, ZoneWindowKey, ZoneWindowStore
from chalicelib.taxi.summaries import ZoneWindow

log = logging.getLogger(__name__)

CLAIM_SECONDS = 120.0  # persist_insights' timeout is 60 s: twice that


class FareWatch:
    def __init__(
        self,
        windows: ZoneWindowStore,
        alerts: FareAlertStore,
        publisher: Publisher,
        *,
        rule: FareRule | None = None,
        api_url: str | None = None,
        outbox: Outbox[ZoneFares] | None = None,
    ) -> None:
        self.windows = windows
        self.alerts = alerts
        self.rule = rule or FareRule()
        self.api_url = api_url
        self.outbox = outbox or Outbox(alerts, publisher)

    def observe(self, current: Iterable[ZoneWindow], metrics: Metrics) -> set[ZoneWindowKey]:
        """Assess the windows; the keys of those whose zone could not be updated."""
        by_zone: dict[int, list[ZoneWindow]] = defaultdict(list)
        for window in current:
            by_zone[window.zone].append(window)
        if not by_zone:
            return set()
        metrics.count("AlertsSent", 0)
        metrics.count("RecoveriesSent", 0)
        try:
            kept = self.alerts.get_many(by_zone)
        except StoreError as err:
            log.error("fare watch: zone alert states not read: %s", err)
            return {w.key for ws in by_zone.values() for w in ws}
        failed: set[ZoneWindowKey] = set()
        for zone, windows in sorted(by_zone.items()):
            try:
                self._zone(zone, windows, kept.get(zone), metrics)
            except StoreError as err:
                log.error("fare watch: zone %d not assessed: %s", zone, err)
                failed |= {w.key for w in windows}
        return failed

    def _zone(
        self,
        zone: int,
        windows: list[ZoneWindow],
        kept: Kept[ZoneFares] | None,
        metrics: Metrics,
    ) -> None:
        first = min(w.window_start for w in windows)
        last = max(w.window_start for w in windows)
        history = self.windows.zone(zone, baseline_start(first, self.rule), last)
        # What this batch wrote is newer than a read that may lag behind it.
        current = {w.key: w for w in windows}
        merged = {w.key: w for w in history} | current
        assessments = [assess(w, merged.values(), self.rule) for w in current.values()]

        def decide(previous: ZoneFares | None) -> tuple[ZoneFares | None, list[Notification]]:
            state, transitions = advance(previous, assessments, self.rule)
            return state, [render(t, self.rule, self.api_url) for t in transitions]

        self.outbox.update(zone, kept, decide, claim=CLAIM_SECONDS, metrics=metrics)
