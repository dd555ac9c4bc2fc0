"""`vitals` through Chalice: latest status per unicorn, one email per incident change."""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.test import Client

from app import app
from chalicelib import bootstrap, names
from chalicelib.adapters.clients import Clients
from chalicelib.bootstrap import Services
from chalicelib.errors import ConfigurationError, PublishError
from chalicelib.pipeline.incidents import Kept
from chalicelib.pipeline.statecache import Remembered, RememberingStore
from chalicelib.settings import load_settings
from chalicelib.unicorns.monitor import VitalsMonitor
from chalicelib.unicorns.records import encode_reading
from chalicelib.unicorns.vitals import Status
from tests.faults import fail_calls
from tests.functional.conftest import API_URL, Aws
from tests.lambda_events import kinesis_event, kinesis_record
from tests.readings import reading

sequence = iter(range(1, 10**6))
# After the reports' StatusTimes (14:05 to 14:08): a report stamped more than
# 5 minutes after its arrival is refused.
ARRIVAL = datetime(2026, 11, 22, 14, 10, tzinfo=UTC).timestamp()


def reports(*points: tuple[str, int, int], arrival: float = ARRIVAL) -> dict[str, Any]:
    """A batch of (name, health, magic) reports, one second apart per unicorn."""
    records = []
    seconds: dict[str, int] = {}
    for name, health, magic in points:
        second = seconds[name] = seconds.get(name, -1) + 1
        data = encode_reading(
            reading(name, f"2026-11-22 14:05:{second:02d}.000", health=health, magic=magic)
        )
        records.append(kinesis_record(data, str(next(sequence)), name, arrival + second))
    return kinesis_event(records)


def later(event: dict[str, Any], minutes: int) -> dict[str, Any]:
    """The same reports, `minutes` later (new StatusTimes, new sequence numbers)."""
    moved = json.loads(json.dumps(event))
    for record in moved["Records"]:
        data = base64.b64decode(record["kinesis"]["data"])
        data = data.replace(b" 14:05:", f" 14:{5 + minutes:02d}:".encode())
        record["kinesis"]["data"] = base64.b64encode(data).decode()
        record["kinesis"]["sequenceNumber"] = str(next(sequence))
    return moved


def subjects(aws: Aws) -> list[str]:
    return [m["Subject"] for m in aws.emails()]


def status_item(aws: Aws, name: str) -> dict[str, Any]:
    item = aws.client("dynamodb").get_item(TableName=names.STATUS_TABLE, Key={"Name": {"S": name}})
    return item["Item"]


def test_the_latest_report_of_each_unicorn_is_kept_with_one_write_each(
    client: Client, aws: Aws
) -> None:
    dynamodb = bootstrap.services().clients.get("dynamodb")
    writes: list[str | None] = []
    dynamodb.meta.events.register(
        "provide-client-params.dynamodb.PutItem",
        lambda params, **_: writes.append(params["Item"].get("Name", {}).get("S")),
    )
    event = reports(("Shadowfax", 150, 150), ("Rocinante", 140, 141), ("Shadowfax", 149, 151))

    response = client.lambda_.invoke("vitals", event).payload

    assert response == {"batchItemFailures": []}
    # The statuses, and the shard's turn (`chalicelib.adapters.turns`), which has no Name.
    assert sorted(w for w in writes if w is not None) == ["Rocinante", "Shadowfax"]
    assert writes.count(None) == 1
    item = status_item(aws, "Shadowfax")
    assert item["StatusTime"] == {"S": "2026-11-22 14:05:01.000"}
    assert item["HealthPoints"] == {"N": "149"} and item["MagicPoints"] == {"N": "151"}
    assert item["AlertState"] == {"S": "ok"}
    assert subjects(aws) == []


def test_an_unwell_unicorn_gets_one_alert_then_silence_then_one_recovery(
    client: Client, aws: Aws
) -> None:
    client.lambda_.invoke("vitals", reports(("Shadowfax", 101, 150), ("Shadowfax", 99, 150)))
    first = aws.emails()
    client.lambda_.invoke(
        "vitals", later(reports(("Shadowfax", 98, 150), ("Shadowfax", 95, 97)), 1)
    )
    while_low = aws.emails()
    client.lambda_.invoke("vitals", later(reports(("Shadowfax", 100, 100)), 2))
    recovered = aws.emails()

    (alert,) = first
    assert alert["Subject"] == "[Wild Rydes] Shadowfax: HealthPoints below 100"
    assert "HealthPoints 99, below the alert threshold of 100" in alert["Message"]
    assert f"'{API_URL}unicorns/Shadowfax/summaries?from=" in alert["Message"]
    assert 'curl -H "x-api-key: $API_KEY"' in alert["Message"]
    assert alert["MessageAttributes"]["unicorn"] == {"Type": "String", "Value": "Shadowfax"}
    assert alert["MessageAttributes"]["kind"] == {"Type": "String", "Value": "alert"}
    assert alert["MessageAttributes"]["vital"]["Type"] == "String.Array"
    assert while_low == []
    assert [m["Subject"] for m in recovered] == [
        "[Wild Rydes] Shadowfax recovered: vitals back at 100+"
    ]
    assert status_item(aws, "Shadowfax")["Outbox"] == {"M": {}}


def test_a_retried_batch_sends_nothing_twice(client: Client, aws: Aws) -> None:
    event = reports(("Shadowfax", 99, 150), ("Pegasus", 150, 90), ("Pegasus", 150, 120))
    client.lambda_.invoke("vitals", event)
    before = aws.table_items(names.STATUS_TABLE)
    client.lambda_.invoke("vitals", event)
    client.lambda_.invoke("vitals", event)

    assert sorted(subjects(aws)) == [
        "[Wild Rydes] Pegasus recovered: vitals back at 100+",
        "[Wild Rydes] Pegasus: MagicPoints below 100",
        "[Wild Rydes] Shadowfax: HealthPoints below 100",
    ]
    assert aws.table_items(names.STATUS_TABLE) == before


class RacingStore(RememberingStore[Status]):
    """Vitals' statuses, letting a rival invocation run between our read and our write."""

    def __init__(self, inner: RememberingStore[Status], rival: Any) -> None:
        super().__init__(inner.store, inner.turns, inner.key_of)
        self.inner = inner
        self.rival = rival

    def begin(self, shard: str) -> Remembered[Status]:
        batch = self.inner.begin(shard)
        read = batch.get_many

        def then_the_rival(names: Any) -> dict[str, Kept[Status]]:
            found = read(names)
            rival, self.rival = self.rival, None
            if rival is not None:
                rival()
            return found

        batch.get_many = then_the_rival  # type: ignore[method-assign, assignment]
        return batch


@pytest.mark.parametrize("known_before", [False, True])
def test_two_invocations_racing_on_one_incident_send_one_alert(
    client: Client, aws: Aws, known_before: bool
) -> None:
    if known_before:
        client.lambda_.invoke("vitals", reports(("Shadowfax", 150, 150)))
    event = later(reports(("Shadowfax", 150, 150), ("Shadowfax", 99, 150)), 1)
    services = bootstrap.services()
    monitor = services.vitals
    monitor.statuses = RacingStore(
        monitor.statuses, rival=lambda: client.lambda_.invoke("vitals", event)
    )
    bootstrap.install(Services(services.settings, services.clients, sleep=services.sleep))

    # We read (or remember); the rival (fresh services) reads and wins the write; we
    # lose and re-read.
    response = monitor.handle(event)

    assert response == {"batchItemFailures": []}
    assert subjects(aws) == ["[Wild Rydes] Shadowfax: HealthPoints below 100"]
    # The rival's write and its delivery are the only changes: we lost the
    # condition and wrote nothing.
    assert status_item(aws, "Shadowfax")["Version"] == {"N": "3" if known_before else "2"}


def test_an_alert_that_could_not_be_published_is_sent_later_exactly_once(aws: Aws) -> None:
    now = [1000.0]
    current = bootstrap.services()
    services = bootstrap.install(
        Services(current.settings, current.clients, sleep=current.sleep, clock=lambda: now[0])
    )
    failures = fail_calls(services.clients.get("sns"), "sns.Publish", "InternalError", times=1)
    with Client(app, stage_name="dev") as client:
        client.lambda_.invoke("vitals", reports(("Shadowfax", 99, 150)))
        assert subjects(aws) == []
        assert list(status_item(aws, "Shadowfax")["Outbox"]["M"]) == [
            "Shadowfax@2026-11-22 14:05:00.000/alert"
        ]

        now[0] += 30  # a rival could still be sending it: leave it alone
        client.lambda_.invoke("vitals", later(reports(("Shadowfax", 98, 150)), 1))
        assert subjects(aws) == []

        now[0] += 200  # the claim has lapsed: the next report sends it
        client.lambda_.invoke("vitals", later(reports(("Shadowfax", 97, 150)), 2))
        client.lambda_.invoke("vitals", later(reports(("Shadowfax", 96, 150)), 3))

    assert subjects(aws) == ["[Wild Rydes] Shadowfax: HealthPoints below 100"]
    assert len(failures) == 2
    assert status_item(aws, "Shadowfax")["Outbox"] == {"M": {}}


def test_invalid_records_are_skipped(client: Client, aws: Aws) -> None:
    event = reports(("Shadowfax", 150, 150))
    event["Records"].append(kinesis_record(b"garbage", str(next(sequence)), "x", 1.0))
    assert client.lambda_.invoke("vitals", event).payload == {"batchItemFailures": []}
    assert [i["Name"]["S"] for i in aws.table_items(names.STATUS_TABLE)] == ["Shadowfax"]


def test_a_unicorn_whose_status_cannot_be_written_is_reported_for_retry(
    client: Client, aws: Aws
) -> None:
    dynamodb = bootstrap.services().clients.get("dynamodb")

    def refuse_pegasus(params: dict[str, Any], **_: Any) -> None:
        if params["Item"].get("Name", {}).get("S") == "Pegasus":
            params["TableName"] = "NoSuchTable"

    dynamodb.meta.events.register("before-parameter-build.dynamodb.PutItem", refuse_pegasus)
    event = reports(("Shadowfax", 150, 150), ("Pegasus", 150, 150))
    pegasus_sequence = event["Records"][1]["kinesis"]["sequenceNumber"]

    response = client.lambda_.invoke("vitals", event).payload

    assert response == {"batchItemFailures": [{"itemIdentifier": pegasus_sequence}]}
    assert [i["Name"]["S"] for i in aws.table_items(names.STATUS_TABLE)] == ["Shadowfax"]


def test_a_writer_that_read_before_a_delivery_cannot_put_the_alert_back(
    client: Client, aws: Aws
) -> None:
    store = bootstrap.services().status_store
    client.lambda_.invoke("vitals", reports(("Shadowfax", 150, 150)))
    # A rival reads while the alert is written but not yet delivered ...
    monitor = bootstrap.services().vitals
    monitor.publisher = Unreachable()
    client.lambda_.invoke("vitals", later(reports(("Shadowfax", 99, 150)), 1))
    stale = store.get("Shadowfax")
    assert stale is not None and list(stale.outbox) == ["Shadowfax@2026-11-22 14:06:00.000/alert"]
    # ... then the alert is delivered and removed from the outbox ...
    store.remove_from_outbox("Shadowfax", list(stale.outbox))
    # ... so the rival's write, based on what it read, must fail and read again.
    assert store.save(stale.state, stale.outbox, stale.version) is False
    assert store.get("Shadowfax").outbox == {}  # type: ignore[union-attr]


class Unreachable:
    """A publisher whose topic cannot be reached (the alert stays in the outbox)."""

    def publish(self, notification: Any) -> str:
        raise PublishError("the topic cannot be reached (test)")


def test_without_a_topic_vitals_fails_before_writing_anything(
    client: Client, aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ALERT_TOPIC_ARN")
    bootstrap.reset()  # a cold start, which reads the function's environment
    with pytest.raises(ConfigurationError, match="ALERT_TOPIC_ARN is not set"):
        client.lambda_.invoke("vitals", reports(("Shadowfax", 99, 150)))
    assert aws.table_items(names.STATUS_TABLE) == []


def test_the_status_writes_of_different_unicorns_overlap(client: Client, aws: Aws) -> None:
    # Each write is held, as a round trip to DynamoDB would hold it, until as
    # many are in flight as the monitor has writers: on a busy machine a fixed
    # hold can end before the last thread starts. A pool with fewer writers
    # never gets there; then the first hold gives up after a while and the
    # rest pass, so the assertion below fails rather than hangs.
    dynamodb = bootstrap.services().clients.get("dynamodb")
    lock = threading.Lock()
    in_flight, most = [0], [0]
    all_in = threading.Event()

    def mark(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["status"] = params["TableName"] == names.STATUS_TABLE

    def started(context: dict[str, Any], **_: Any) -> None:
        if not context.get("status"):
            return  # the shard's turn, taken before any status is written
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
            if in_flight[0] >= VitalsMonitor.WRITERS:
                all_in.set()
        if not all_in.wait(timeout=10):
            all_in.set()

    def ended(context: dict[str, Any], **_: Any) -> None:
        if not context.get("status"):
            return
        with lock:
            in_flight[0] -= 1

    dynamodb.meta.events.register("before-parameter-build.dynamodb.PutItem", mark)
    dynamodb.meta.events.register("before-call.dynamodb.PutItem", started)
    dynamodb.meta.events.register("after-call.dynamodb.PutItem", ended)
    fleet = [f"Unicorn {n}" for n in range(40)]

    response = client.lambda_.invoke("vitals", reports(*[(n, 150, 150) for n in fleet]))

    assert response.payload == {"batchItemFailures": []}
    assert most[0] == VitalsMonitor.WRITERS == 16
    stored = aws.table_items(names.STATUS_TABLE)
    assert sorted(item["Name"]["S"] for item in stored) == sorted(fleet)


def one_report(name: str, second: int, health: int = 150) -> dict[str, Any]:
    data = encode_reading(reading(name, f"2026-11-22 14:05:{second:02d}.000", health=health))
    return kinesis_event([kinesis_record(data, str(next(sequence)), name, ARRIVAL + second)])


def test_with_a_status_interval_a_steady_unicorn_is_written_that_often_and_an_alert_at_once(
    client: Client, aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATUS_INTERVAL", "10")
    previous = bootstrap.services()
    bootstrap.install(Services(load_settings(), previous.clients, sleep=previous.sleep))
    stored_times = []
    for second, health in ((0, 150), (5, 150), (9, 150), (10, 150), (12, 90), (13, 85), (14, 150)):
        assert client.lambda_.invoke(
            "vitals", one_report("Shadowfax", second, health)
        ).payload == {"batchItemFailures": []}
        stored_times.append(status_item(aws, "Shadowfax")["StatusTime"]["S"][-6:])

    # :05 and :09 wait (less than 10 s after :00); :12 opens an incident and
    # :14 closes it, each written and emailed at once; :13 changes nothing.
    assert stored_times == ["00.000", "00.000", "00.000", "10.000", "12.000", "12.000", "14.000"]
    assert len(aws.emails()) == 2


@pytest.mark.parametrize(
    ("setting", "writes"),
    [
        (None, [0, 5, 10, 15, 20, 25]),  # the default freshness budget: 5 s
        ("0", list(range(30))),  # every batch
    ],
)
def test_by_default_a_steady_unicorns_status_is_under_5_s_behind_its_newest_reading(
    client: Client,
    aws: Aws,
    monkeypatch: pytest.MonkeyPatch,
    setting: str | None,
    writes: list[int],
) -> None:
    if setting is None:
        monkeypatch.delenv("STATUS_INTERVAL", raising=False)
    else:
        monkeypatch.setenv("STATUS_INTERVAL", setting)
    previous = bootstrap.services()
    bootstrap.install(Services(load_settings(), previous.clients, sleep=previous.sleep))
    written: list[int] = []
    for second in range(30):
        assert client.lambda_.invoke("vitals", one_report("Bucephalus", second)).payload == {
            "batchItemFailures": []
        }
        stored = int(status_item(aws, "Bucephalus")["StatusTime"]["S"][-6:-4])
        assert second - stored < 5  # never as much as the budget behind the newest reading
        if not written or written[-1] != stored:
            written.append(stored)

    assert written == writes


def status_reads(services: Services) -> list[int]:
    """Keys of the status table each BatchGetItem of these services' client asks for."""
    reads: list[int] = []

    def count(params: dict[str, Any], **_: Any) -> None:
        keys = params["RequestItems"].get(names.STATUS_TABLE, {}).get("Keys", [])
        reads.append(len(keys))

    services.clients.get("dynamodb").meta.events.register(
        "provide-client-params.dynamodb.BatchGetItem", count
    )
    return reads


def test_an_environment_that_kept_its_shards_turn_reads_no_status_again(
    client: Client, aws: Aws
) -> None:
    reads = status_reads(bootstrap.services())
    for second in range(12):
        assert client.lambda_.invoke("vitals", one_report("Pegasus", second)).payload == {
            "batchItemFailures": []
        }

    assert reads == [1]  # the first batch's, which found nothing: then what it wrote
    assert status_item(aws, "Pegasus")["StatusTime"]["S"].endswith(":10.000")


def test_a_change_another_environment_made_is_seen_at_once(client: Client, aws: Aws) -> None:
    # Environment A has Shadowfax well; B takes the shard's next batch and opens an
    # incident; A, given the batch after, must read again and send the recovery at once,
    # though what it remembers (well, 2 s ago) would change nothing.
    first = bootstrap.services()
    other = Services(first.settings, first.clients, sleep=first.sleep)
    reads = status_reads(first)
    for second, health, services in ((0, 150, first), (1, 90, other), (2, 150, first)):
        bootstrap.install(services)
        assert client.lambda_.invoke(
            "vitals", one_report("Shadowfax", second, health)
        ).payload == {"batchItemFailures": []}

    assert subjects(aws) == [
        "[Wild Rydes] Shadowfax: HealthPoints below 100",
        "[Wild Rydes] Shadowfax recovered: vitals back at 100+",
    ]
    assert status_item(aws, "Shadowfax")["StatusTime"]["S"].endswith(":02.000")
    assert len(reads) == 3  # A's first, B's (shared client), A's again after B's turn


def lose_the_turn(services: Services) -> None:
    """These services' turn on any shard fails, as on a throttled or unreachable table."""

    def elsewhere(params: dict[str, Any], **_: Any) -> None:
        if params["TableName"] == names.SHARD_TURN_TABLE:
            params["TableName"] = "NoSuchTable"

    services.clients.get("dynamodb").meta.events.register(
        "before-parameter-build.dynamodb.PutItem", elsewhere
    )


def test_a_batch_whose_turn_cannot_be_taken_is_retried_whole_and_writes_nothing(
    client: Client, aws: Aws
) -> None:
    # Environment A knows Shadowfax well. B cannot take the shard's turn: had it written
    # the alert anyway, A, still holding the turn, would trust its memory ("well") and
    # hold back the recovery. B fails the batch instead; Lambda retries it (here on A).
    first = bootstrap.services()
    other = Services(first.settings, Clients(), sleep=first.sleep)
    lose_the_turn(other)
    assert client.lambda_.invoke("vitals", one_report("Shadowfax", 0)).payload == {
        "batchItemFailures": []
    }

    bootstrap.install(other)
    low = one_report("Shadowfax", 1, health=90)
    failed = client.lambda_.invoke("vitals", low).payload
    assert failed == {
        "batchItemFailures": [{"itemIdentifier": low["Records"][0]["kinesis"]["sequenceNumber"]}]
    }
    assert status_item(aws, "Shadowfax")["StatusTime"]["S"].endswith(":00.000")
    assert subjects(aws) == []

    bootstrap.install(first)
    for event in (low, one_report("Shadowfax", 2), one_report("Shadowfax", 3, health=80)):
        assert client.lambda_.invoke("vitals", event).payload == {"batchItemFailures": []}
    assert subjects(aws) == [
        "[Wild Rydes] Shadowfax: HealthPoints below 100",
        "[Wild Rydes] Shadowfax recovered: vitals back at 100+",
        "[Wild Rydes] Shadowfax: HealthPoints below 100",
    ]


def test_a_late_reading_older_than_one_held_back_changes_nothing(client: Client, aws: Aws) -> None:
    # :04 is held back (within 5 s of :00); :03, low, arrives after it. As with a
    # write in every batch, it is older than what vitals has seen: no alert, and so
    # no recovery at :06.
    for second, health in ((0, 150), (4, 150), (3, 50), (6, 150)):
        assert client.lambda_.invoke(
            "vitals", one_report("Shadowfax", second, health)
        ).payload == {"batchItemFailures": []}

    assert subjects(aws) == []
    assert status_item(aws, "Shadowfax")["StatusTime"]["S"].endswith(":06.000")


@pytest.mark.parametrize("value", ["-1", "61", "soon"])
def test_a_status_interval_that_is_not_0_to_60_seconds_is_refused(value: str) -> None:
    with pytest.raises(ConfigurationError, match="STATUS_INTERVAL must be seconds from 0 to 60"):
        load_settings({"STATUS_INTERVAL": value})
