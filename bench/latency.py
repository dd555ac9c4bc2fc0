"""End-to-end latency on the embedded pipeline: p50 and p99 of three delays a user sees.

- produced → alert email: a Maildir file's time against the arrival on the
  stream of the reading the email reports (its "Reported at" line);
- produced → status visible: the unicorn's status item in `UnicornStatus`
  (what `GET /unicorns/{name}` returns), read every POLL_STATUS seconds, against
  the arrival of the reading it shows;
- status age: at every one of those reads, how long ago the reading the status
  shows arrived: what a user of the API or console sees, the freshness budget
  (STATUS_INTERVAL: a steady unicorn's status is written every 5 s) included;
- window end → summary in DynamoDB: the first time a summary row is seen in
  `UnicornSensorData`, read every POLL_SUMMARIES seconds, against its window's end.

Arrival is Kinesis's ApproximateArrivalTimestamp, read back from the stream
afterwards. Polling adds up to its interval to the status and summary figures.
"""

from __future__ import annotations

import email
import email.policy
import re
import time
from pathlib import Path
from typing import Any

from bench.localrun import Producer, percentiles, stream_arrivals
from chalicelib import names
from chalicelib.pipeline.timestamps import format_status_time, from_epoch, parse_status_time
from local.stack import LocalStack
from producer.fleet import fleet_names

POLL_STATUS = 0.05
POLL_SUMMARIES = 0.1
UNICORNS = 8
UNWELL = 8  # falling ill 10 s apart: an alert and a recovery each, in time
DECLINE = 10.0  # points a second: an alert within seconds, and its recovery
DRAIN_MARGIN = 8.0  # seconds after the last window's end for its summaries


def run(stack: LocalStack, *, quick: bool = False) -> dict[str, Any]:
    seconds = 10 if quick else 45
    window = stack.window
    started = time.time()
    producer = Producer(
        stack,
        stack.logs / "producer-latency.log",
        unicorns=UNICORNS,
        rate=1.0,
        seconds=seconds,
        unwell=UNWELL,
        decline=DECLINE,
    )
    dynamodb = stack.session().client("dynamodb")
    unicorns = fleet_names(UNICORNS)
    statuses: dict[str, str] = {}
    status_seen: list[tuple[str, str, float]] = []
    status_read: list[tuple[str, str, float]] = []  # every read, changed or not
    summary_seen: dict[tuple[str, str], float] = {}
    next_summaries = 0.0
    deadline: float | None = None
    last_window: str | None = None
    while deadline is None or time.time() < deadline:
        if deadline is None and not producer.running():
            ended = time.time()
            deadline = ended + window + DRAIN_MARGIN
            last_window = format_status_time(from_epoch(ended // window * window))
        elif last_window is not None and all(
            (name, last_window) in summary_seen for name in unicorns
        ):
            break  # the last window's summaries are in: every delay has been seen
        moment = time.time()
        for name, status_time in _statuses(dynamodb, unicorns).items():
            if producer.running():
                status_read.append((name, status_time, moment))
            if statuses.get(name) != status_time:
                statuses[name] = status_time
                status_seen.append((name, status_time, moment))
        if moment >= next_summaries:
            next_summaries = moment + POLL_SUMMARIES
            for key in _summary_keys(dynamodb):
                summary_seen.setdefault(key, time.time())
        time.sleep(POLL_STATUS)
    produced = producer.wait(timeout=10)
    arrivals = stream_arrivals(stack)
    status_delays = [
        seen - arrivals[(name, status_time)]
        for name, status_time, seen in status_seen
        if (name, status_time) in arrivals and arrivals[(name, status_time)] >= started
    ]
    status_ages = [
        seen - arrivals[(name, status_time)]
        for name, status_time, seen in status_read
        if (name, status_time) in arrivals and arrivals[(name, status_time)] >= started
    ]
    email_delays = [sent - arrivals[key] for key, sent in _emails(stack) if key in arrivals]
    summary_delays = [
        seen - (parse_status_time(start).timestamp() + window)
        for (_, start), seen in summary_seen.items()
        if parse_status_time(start).timestamp() >= started - window
    ]
    return {
        "unicorns": UNICORNS,
        "seconds": seconds,
        "records": produced.sent,
        "window_seconds": window,
        "poll_status_s": POLL_STATUS,
        "poll_summaries_s": POLL_SUMMARIES,
        "produced_to_email": percentiles(email_delays),
        "produced_to_status": percentiles(status_delays),
        "status_age": percentiles(status_ages),
        "window_end_to_summary": percentiles(summary_delays),
    }


def _statuses(dynamodb: Any, unicorns: list[str]) -> dict[str, str]:
    response = dynamodb.batch_get_item(
        RequestItems={
            names.STATUS_TABLE: {
                "Keys": [{"Name": {"S": n}} for n in unicorns],
                "ProjectionExpression": "#n, StatusTime",
                "ExpressionAttributeNames": {"#n": "Name"},
            }
        }
    )
    return {
        item["Name"]["S"]: item["StatusTime"]["S"]
        for item in response["Responses"].get(names.STATUS_TABLE, [])
    }


def _summary_keys(dynamodb: Any) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = []
    kwargs: dict[str, Any] = {
        "TableName": names.SUMMARY_TABLE,
        "ProjectionExpression": "#n, StatusTime",
        "ExpressionAttributeNames": {"#n": "Name"},
    }
    while True:
        page = dynamodb.scan(**kwargs)
        keys.extend((i["Name"]["S"], i["StatusTime"]["S"]) for i in page["Items"])
        if "LastEvaluatedKey" not in page:
            return keys
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _emails(stack: LocalStack) -> list[tuple[tuple[str, str], float]]:
    """((unicorn, reported StatusTime), when the file was written) for every email."""
    found = []
    for path in sorted(stack.mail.glob("*/new/*")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        reported = re.search(r"^Reported at:\s+(\S+ \S+) UTC", text, re.MULTILINE)
        unicorn = str(message["X-SNS-Attribute-unicorn"] or "")
        if reported:
            found.append(((unicorn, reported.group(1)), Path(path).stat().st_mtime))
    return found
