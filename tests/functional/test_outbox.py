"""The shared outbox under moto: what is not sent is sent later, what is sent is forgotten once.

`chalicelib.pipeline.incidents` carries both data sets' alert emails (vitals, the fare
watch); here through the fare watch's table, with real SNS delivery to a
queue standing in for the inbox.
"""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib import names
from chalicelib.adapters.publisher import AlertPublisher
from chalicelib.errors import PublishError, StoreError
from chalicelib.observability import Metrics
from chalicelib.pipeline.incidents import Outbox
from chalicelib.pipeline.notifications import Notification
from chalicelib.taxi.fares import ZoneFares
from chalicelib.taxi.store import FareAlertStore
from tests.faults import fail_calls, leave_keys_unread, read_stale_unless_consistent
from tests.functional.conftest import Aws

CLAIM = 60.0
ZONE = 161


class Unreachable:
    """A publisher whose topic cannot be reached (the notification stays in the outbox)."""

    def publish(self, notification: Notification) -> str:
        raise PublishError("the topic cannot be reached (test)")


def state(start: str = "2026-11-23 11:00:00.000") -> ZoneFares:
    return ZoneFares(ZONE, start, 20, 9.0, 4.0, None)


def notification(kind: str, at: str = "2026-11-23 11:00:00.000") -> Notification:
    return Notification(
        id=f"zone-{ZONE}@{at}/{kind}",
        subject=f"zone {ZONE}: {kind}",
        message=f"the {kind}\n",
        attributes={"zone": str(ZONE), "kind": kind, "dataset": "taxi"},
        at=at,
    )


class World:
    def __init__(self, aws: Aws) -> None:
        self.aws = aws
        self.dynamodb = aws.client("dynamodb")
        self.store: FareAlertStore = FareAlertStore(
            self.dynamodb,
            names.FARE_ALERT_TABLE,
            sleep=lambda seconds: None,
        )
        self.now = 1_000.0
        topic = aws.client("sns").list_topics()["Topics"]
        fares = [t["TopicArn"] for t in topic if t["TopicArn"].endswith(names.FARE_TOPIC)]
        self.publisher = AlertPublisher(aws.client("sns"), fares[0])
        self.received: list[str] = []

    def outbox(self, publisher: Any) -> Outbox[ZoneFares]:
        return Outbox(self.store, publisher, clock=lambda: self.now)

    def update(self, publisher: Any, new: ZoneFares | None, sends: list[Notification]) -> bool:
        return self.outbox(publisher).update(
            ZONE,
            self.store.get(ZONE),
            lambda previous: (new, sends),
            claim=CLAIM,
            metrics=Metrics("test", enabled=False),
        )

    def subjects(self) -> list[str]:
        """Every email received so far (reading the inbox takes them out of it)."""
        self.received += [e["Subject"] for e in self.aws.fare_emails()]
        return list(self.received)


@pytest.fixture
def world(aws: Aws) -> World:
    return World(aws)


def test_an_email_not_sent_is_sent_by_a_later_run_even_with_nothing_new_to_write(
    world: World,
) -> None:
    """A failed publish must not lose the alert: the next run that has nothing newer to
    decide still finds it, once its claim has run out, and sends it."""
    assert world.update(Unreachable(), state(), [notification("alert")])
    assert world.subjects() == []
    assert list(world.store.get(ZONE).outbox) == [notification("alert").id]  # type: ignore[union-attr]

    world.now += CLAIM / 2  # still claimed by the run that failed: left alone
    assert not world.update(world.publisher, None, [])
    world.now += CLAIM
    assert world.update(world.publisher, None, [])

    assert world.subjects() == [f"zone {ZONE}: alert"]
    kept = world.store.get(ZONE)
    assert kept is not None and kept.outbox == {} and kept.state == state()


def test_two_emails_sent_together_are_both_forgotten(world: World) -> None:
    """An alert and its recovery in one batch: both sent, and neither sent again."""
    later = "2026-11-23 11:15:00.000"
    sends = [notification("alert"), notification("recovery", later)]
    assert world.update(world.publisher, state(later), sends)

    assert world.subjects() == [f"zone {ZONE}: alert", f"zone {ZONE}: recovery"]
    kept = world.store.get(ZONE)
    assert kept is not None and kept.outbox == {} and kept.version == 2
    # A later run finds nothing to send.
    world.now += 2 * CLAIM
    assert not world.update(world.publisher, None, [])
    assert len(world.subjects()) == 2


def test_forgetting_an_email_of_a_deleted_item_creates_no_empty_item(world: World) -> None:
    assert world.update(world.publisher, state(), [])
    world.dynamodb.delete_item(TableName=names.FARE_ALERT_TABLE, Key={"Zone": {"N": str(ZONE)}})

    world.store.remove_from_outbox(ZONE, [notification("alert").id])  # no error either

    assert world.store.get(ZONE) is None
    assert world.aws.table_items(names.FARE_ALERT_TABLE) == []


def test_a_store_that_fails_while_forgetting_an_email_is_an_error_not_ignored(
    world: World,
) -> None:
    assert world.update(world.publisher, state(), [])
    fail_calls(world.dynamodb, "dynamodb.UpdateItem", "InternalServerError")

    with pytest.raises(StoreError, match="InternalServerError"):
        world.store.remove_from_outbox(ZONE, [notification("alert").id])


def test_a_run_reads_the_state_the_last_run_wrote_not_a_stale_copy(world: World) -> None:
    """A stale read would decide again from the state before the alert and send it twice:
    the store asks DynamoDB for a consistent read."""
    read_stale_unless_consistent(world.dynamodb, names.FARE_ALERT_TABLE, "Zone")
    assert world.update(world.publisher, state(), [notification("alert")])

    kept = world.store.get(ZONE)

    assert kept is not None and kept.state == state() and kept.outbox == {}


def test_a_scan_longer_than_one_page_comes_back_whole(world: World) -> None:
    """/taxi/alerts and /unicorns scan their table: past DynamoDB's 1 MB a scan answers
    in pages, and a listing that stopped at the first would miss zones or unicorns."""
    for zone in range(1, 6):
        world.dynamodb.put_item(
            TableName=names.FARE_ALERT_TABLE,
            Item={"Zone": {"N": str(zone)}, "WindowStart": {"S": "2026-11-23 11:00:00.000"},
                  "Trips": {"N": "20"}, "Version": {"N": "1"}},
        )  # fmt: skip

    found = world.store.scan(page_size=2)  # pages of two, as a large table would come

    assert sorted(state.zone for state in found) == [1, 2, 3, 4, 5]


class RefusesAlerts:
    """A topic that takes recoveries but refuses alerts (one email of two fails)."""

    def __init__(self, publisher: AlertPublisher) -> None:
        self.publisher = publisher

    def publish(self, notification: Notification) -> str:
        if notification.kind == "alert":
            raise PublishError("the topic refused it (test)")
        return self.publisher.publish(notification)


def test_an_email_that_fails_does_not_hold_back_the_next_and_the_log_says_which(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """The operator still gets the recovery when the alert before it could not be sent,
    and the log names the one that waits for a retry and the one that went out."""
    later = "2026-11-23 11:15:00.000"
    alert, recovery = notification("alert"), notification("recovery", later)
    caplog.set_level("INFO", logger="chalicelib.pipeline.incidents")

    assert world.update(RefusesAlerts(world.publisher), state(later), [alert, recovery])

    assert world.subjects() == [f"zone {ZONE}: recovery"]
    assert list(world.store.get(ZONE).outbox) == [alert.id]  # type: ignore[union-attr]
    assert [
        r.getMessage() for r in caplog.records if r.name == "chalicelib.pipeline.incidents"
    ] == [
        f"{alert.id} not sent, will retry later: the topic refused it (test)",
        f"sent recovery: zone {ZONE}: recovery",
    ]


def test_an_email_is_retried_the_moment_its_claim_runs_out(world: World) -> None:
    """A run that failed to send holds the email for `claim` seconds, not a moment longer."""
    assert world.update(Unreachable(), state(), [notification("alert")])

    world.now += CLAIM

    assert world.update(world.publisher, None, [])
    assert world.subjects() == [f"zone {ZONE}: alert"]


def test_a_write_that_may_wait_writes_nothing_and_says_so(world: World) -> None:
    """vitals counts StatusWrites by what the outbox says it wrote: a status held back
    by STATUS_INTERVAL is not a write, in the table or in the count."""
    assert world.update(world.publisher, state(), [])
    newer = state("2026-11-23 11:01:00.000")

    written = world.outbox(world.publisher).update(
        ZONE,
        world.store.get(ZONE),
        lambda previous: (newer, []),
        claim=CLAIM,
        metrics=Metrics("test", enabled=False),
        may_wait=lambda stored, new: True,
    )

    assert written is False
    kept = world.store.get(ZONE)
    assert kept is not None and kept.state == state() and kept.version == 1


def test_a_store_gives_up_on_unread_keys_after_the_attempts_and_pauses_it_was_given(
    world: World,
) -> None:
    """A function's store retries what DynamoDB leaves unread with its own budget and
    pause (bootstrap hands it the Lambda's), not a default that could outlast the timeout."""
    paused: list[float] = []
    store: FareAlertStore = FareAlertStore(
        world.dynamodb,
        names.FARE_ALERT_TABLE,
        attempts=2,
        sleep=paused.append,
    )
    leave_keys_unread(world.dynamodb, names.FARE_ALERT_TABLE)

    with pytest.raises(StoreError, match="left keys unprocessed after 2 attempts"):
        store.get_many([ZONE])
    assert len(paused) == 1
