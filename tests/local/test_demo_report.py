"""The demo's report: what it reads back from the Maildir."""

from __future__ import annotations

import mailbox
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from local.report import read_emails


def deliver(maildir: mailbox.Maildir, date: str, subject: str) -> None:
    message = EmailMessage()
    message["Date"] = date
    message["Subject"] = subject
    message["X-SNS-Attribute-kind"] = "alert"
    message["X-SNS-Attribute-unicorn"] = "Shadowfax"
    maildir.add(message)


def test_a_run_reports_its_own_emails_not_those_of_earlier_runs(tmp_path: Path) -> None:
    maildir = mailbox.Maildir(tmp_path / "ops", create=True)
    deliver(maildir, "Sun, 22 Nov 2026 16:22:36 +0000", "[Wild Rydes] today")
    deliver(maildir, "Sun, 22 Nov 2026 15:39:12 +0000", "[Wild Rydes] an earlier run")

    everything = read_emails(tmp_path / "ops")
    assert [e.subject for e in everything] == ["[Wild Rydes] an earlier run", "[Wild Rydes] today"]
    since = datetime(2026, 11, 22, 16, 22, 36, tzinfo=UTC)
    assert [e.subject for e in read_emails(tmp_path / "ops", since)] == ["[Wild Rydes] today"]
    assert read_emails(tmp_path / "nobody") == []
