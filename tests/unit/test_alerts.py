"""Alert emails: what an operator reads, and the attributes a subscriber filters on."""

from __future__ import annotations

import json

import pytest

from chalicelib.unicorns.alerts import SUBJECT_LIMIT, render
from chalicelib.unicorns.vitals import advance
from tests.readings import reading

API = "https://abc123.execute-api.us-east-1.amazonaws.com/api/"


def transitions(name: str = "Shadowfax") -> list:
    points = [
        reading(name, "2026-11-22 14:05:00.000", health=101, magic=140),
        reading(
            name,
            "2026-11-22 14:05:01.000",
            health=99,
            magic=140,
            latitude=40.751,
            longitude=-73.982,
        ),
        reading(name, "2026-11-22 14:06:23.000", health=100, magic=141),
    ]
    _, found = advance(None, points, 100, 1.0)
    return found


def test_the_alert_tells_who_what_when_where_and_how_to_look_closer() -> None:
    alert = render(transitions()[0], 100, API)
    assert alert.subject == "[Wild Rydes] Shadowfax: HealthPoints below 100"
    body = alert.message
    assert "Shadowfax needs attention: HealthPoints 99, below the alert threshold of 100." in body
    assert "HealthPoints:  99   (LOW, threshold 100)" in body
    assert "MagicPoints:   140  (ok, threshold 100)" in body
    assert "Reported at:   2026-11-22 14:05:01.000 UTC" in body
    assert "Position:      40.751000, -73.982000" in body
    assert (
        f"""curl -H "x-api-key: $API_KEY" '{API}unicorns/Shadowfax/summaries"""
        "?from=2026-11-22T13:35:01.000Z'" in body
    )
    assert "one more message when both vitals are back at or above 100" in body
    assert alert.attributes == {
        "unicorn": "Shadowfax",
        "vital": '["HealthPoints"]',
        "kind": "alert",
    }
    assert alert.id == "Shadowfax@2026-11-22 14:05:01.000/alert"


def test_the_recovery_says_when_the_incident_started_and_how_long_it_lasted() -> None:
    recovery = render(transitions()[1], 100, API)
    assert recovery.subject == "[Wild Rydes] Shadowfax recovered: vitals back at 100+"
    assert "opened at 2026-11-22 14:05:01.000 UTC (HealthPoints low) and lasted 1 min 22 s" in (
        recovery.message
    )
    assert "HealthPoints:  100  (ok, threshold 100)" in recovery.message  # at it is not low
    assert recovery.attributes["kind"] == "recovery"
    assert json.loads(recovery.attributes["vital"]) == ["HealthPoints"]


def test_without_an_api_url_the_hint_still_shows_the_path() -> None:
    alert = render(transitions()[0], 100, None)
    assert """curl -H "x-api-key: $API_KEY" '$API_URL/unicorns/Shadowfax'""" in alert.message


def test_names_are_quoted_in_urls_and_long_subjects_are_cut() -> None:
    name = "Sir Galahad the Very Long Named Unicorn of the Northern Meadows and Beyond / Ltd"
    alert = render(transitions(name)[0], 100, API)
    assert len(alert.subject) <= SUBJECT_LIMIT and alert.subject.endswith("...")
    assert "unicorns/Sir%20Galahad%20the%20Very" in alert.message
    assert "%2F%20Ltd/summaries" in alert.message


@pytest.mark.parametrize(
    ("recovered_at", "lasted"),
    [
        ("14:05:01.500", "0 s"),  # under a second
        ("14:06:00.999", "59 s"),
        ("14:06:01.000", "1 min 0 s"),
        ("15:05:00.999", "59 min 59 s"),
        ("15:05:01.000", "1 h 0 min"),
        ("16:06:02.000", "2 h 1 min"),
    ],
)
def test_the_recovery_gives_the_incidents_length_in_the_largest_units(
    recovered_at: str, lasted: str
) -> None:
    points = [
        reading("Shadowfax", "2026-11-22 14:05:01.000", health=99),
        reading("Shadowfax", f"2026-11-22 {recovered_at}", health=100),
    ]
    _, (_, recovery) = advance(None, points, 100, 1.0)
    assert f"and lasted {lasted}." in render(recovery, 100, API).message


def test_when_both_vitals_drop_the_emails_name_both() -> None:
    points = [
        reading("Shadowfax", "2026-11-22 14:05:01.000", health=99, magic=97),
        reading("Shadowfax", "2026-11-22 14:05:31.000", health=100, magic=100),
    ]
    _, (alert, recovery) = advance(None, points, 100, 1.0)

    email = render(alert, 100, API)
    assert email.subject == "[Wild Rydes] Shadowfax: HealthPoints and MagicPoints below 100"
    assert email.message.startswith(
        "Shadowfax needs attention: HealthPoints 99, MagicPoints 97, "
        "below the alert threshold of 100.\n"
    )
    assert "(HealthPoints and MagicPoints low) and lasted 30 s." in (
        render(recovery, 100, API).message
    )


ALERT_EMAIL = """\
Shadowfax needs attention: HealthPoints 99, below the alert threshold of 100.

Unicorn:       Shadowfax
HealthPoints:  99   (LOW, threshold 100)
MagicPoints:   140  (ok, threshold 100)
Reported at:   2026-11-22 14:05:01.000 UTC
Position:      40.751000, -73.982000
Incident:      Shadowfax@2026-11-22 14:05:01.000

Its last 30 minutes, minute by minute:
  curl -H "x-api-key: $API_KEY" '{api}unicorns/Shadowfax/summaries?from=2026-11-22T13:35:01.000Z'
Its current status:
  curl -H "x-api-key: $API_KEY" '{api}unicorns/Shadowfax'
(API_KEY: the API key of this deployment, which the console asks for too.)

You will get one more message when both vitals are back at or above 100.
No other message is sent for Shadowfax while it stays low.

-- \n\
Wild Rydes vitals monitor
"""


def test_the_whole_alert_email_as_the_operator_reads_it() -> None:
    # Blank lines part it, and "-- " sets the signature off, which mail clients dim.
    assert render(transitions()[0], 100, API).message == ALERT_EMAIL.format(api=API)


def test_a_subject_sns_would_refuse_is_cut_to_its_limit_and_loses_control_characters() -> None:
    # "[Wild Rydes] " and ": HealthPoints below 100" take 37 characters of SNS's 100.
    whole = render(transitions("N" * 63)[0], 100, API).subject
    assert whole == f"[Wild Rydes] {'N' * 63}: HealthPoints below 100"
    assert len(whole) == SUBJECT_LIMIT == 100
    cut = render(transitions("N" * 64)[0], 100, API).subject
    assert cut == f"[Wild Rydes] {'N' * 64}: HealthPoints below..."
    assert len(cut) == SUBJECT_LIMIT
    tabbed = render(transitions("Shadow\tfax\x7f")[0], 100, API).subject
    assert tabbed == "[Wild Rydes] Shadow fax : HealthPoints below 100"
