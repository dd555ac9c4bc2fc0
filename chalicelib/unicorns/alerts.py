"""Alert and recovery messages, written for a person reading them as email.

A notification is rendered once, when the incident opens or closes, and kept
with the unicorn's status until it is published, so a retried publish sends
exactly the same text. Message attributes (`unicorn`, `vital`, `kind`) let a
subscriber filter with an SNS filter policy.
"""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote

from chalicelib.pipeline.notifications import Notification
from chalicelib.pipeline.timestamps import parse_status_time, to_iso
from chalicelib.unicorns.vitals import Transition

SUBJECT_LIMIT = 100  # SNS rejects longer subjects
HISTORY_MINUTES = 30


def render(transition: Transition, threshold: int, api_url: str | None) -> Notification:
    """The notification for an incident opening or closing."""
    reading = transition.reading
    incident = transition.incident
    if transition.kind == "alert":
        vitals = " and ".join(transition.low_vitals)
        values = ", ".join(f"{v} {_value(transition, v)}" for v in transition.low_vitals)
        subject = f"[Wild Rydes] {reading.name}: {vitals} below {threshold}"
        opening = (
            f"{reading.name} needs attention: {values}, below the alert threshold of {threshold}."
        )
        closing = (
            f"You will get one more message when both vitals are back at or above "
            f"{threshold}.\nNo other message is sent for {reading.name} while it stays low."
        )
    else:
        started = parse_status_time(incident.started_at)
        lasted = parse_status_time(reading.status_time) - started
        subject = f"[Wild Rydes] {reading.name} recovered: vitals back at {threshold}+"
        opening = (
            f"{reading.name} has recovered: HealthPoints and MagicPoints are both at "
            f"or above {threshold} again."
        )
        closing = (
            f"The incident opened at {incident.started_at} UTC "
            f"({' and '.join(incident.vitals)} low) and lasted {_duration(lasted)}."
        )
    lines = [
        opening,
        "",
        f"Unicorn:       {reading.name}",
        f"HealthPoints:  {_vital_line(transition, 'HealthPoints', threshold)}",
        f"MagicPoints:   {_vital_line(transition, 'MagicPoints', threshold)}",
        f"Reported at:   {reading.status_time} UTC",
        f"Position:      {reading.latitude:.6f}, {reading.longitude:.6f}",
        f"Incident:      {incident.id}",
        "",
        *_history_hint(transition, api_url),
        "",
        closing,
        "",
        "-- ",
        "Wild Rydes vitals monitor",
    ]
    vitals_json = json.dumps(list(incident.vitals))
    return Notification(
        id=f"{incident.id}/{transition.kind}",
        subject=_clean_subject(subject),
        message="\n".join(lines) + "\n",
        attributes={"unicorn": reading.name, "vital": vitals_json, "kind": transition.kind},
        at=reading.status_time,
    )


def _value(transition: Transition, vital: str) -> int:
    reading = transition.reading
    return {"HealthPoints": reading.health, "MagicPoints": reading.magic}[vital]


def _vital_line(transition: Transition, vital: str, threshold: int) -> str:
    value = _value(transition, vital)
    flag = "LOW" if value < threshold else "ok"
    return f"{value:<4} ({flag}, threshold {threshold})"


def _history_hint(transition: Transition, api_url: str | None) -> list[str]:
    reading = transition.reading
    since = parse_status_time(reading.status_time) - timedelta(minutes=HISTORY_MINUTES)
    name = quote(reading.name, safe="")  # pragma: no mutate: safe="XXXX" also quotes "/"
    base = api_url.removesuffix("/") if api_url else "$API_URL"
    # Deployed, the data routes want the stage's API key (docs/OPERATIONS.md, Security).
    curl = 'curl -H "x-api-key: $API_KEY"'
    return [
        f"Its last {HISTORY_MINUTES} minutes, minute by minute:",
        f"  {curl} '{base}/unicorns/{name}/summaries?from={to_iso(since)}'",
        "Its current status:",
        f"  {curl} '{base}/unicorns/{name}'",
        "(API_KEY: the API key of this deployment, which the console asks for too.)",
    ]


def _duration(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {seconds} s"
    return f"{seconds} s"


def _clean_subject(subject: str) -> str:
    subject = "".join(c if c.isprintable() else " " for c in subject)
    if len(subject) > SUBJECT_LIMIT:
        subject = subject[: SUBJECT_LIMIT - 3] + "..."
    return subject
