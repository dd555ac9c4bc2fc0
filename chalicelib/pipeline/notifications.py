"""A message due on an alert topic: what every data set's alert rule makes.

Pure (no AWS): the rules that render notifications (`alerts` for the
unicorns' vitals, `fares` for the taxi fare watch) need nothing else;
`incidents` keeps them in an outbox and `publisher` sends them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Notification:
    """One message due on an alert topic."""

    id: str
    subject: str
    message: str
    attributes: dict[str, str]  # SNS string attributes (a JSON array for String.Array ones)
    at: str  # StatusTime of what caused it; orders delivery

    @property
    def kind(self) -> str:
        return self.attributes["kind"]  # "alert" or "recovery"
