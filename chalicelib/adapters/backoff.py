"""How long to wait before trying again: exponential backoff with full jitter.

The writers retry only what a successful call handed back (Kinesis entries it
refused, DynamoDB items it left unprocessed); a whole call that failed has been
retried by botocore already (standard mode, `clients.CLIENT_CONFIG`).
"""

from __future__ import annotations

from collections.abc import Callable


def backoff_delay(attempt: int, base: float, cap: float, rand: Callable[[], float]) -> float:
    """Seconds to wait after attempt number `attempt` (1-based): up to base * 2^(attempt-1),
    at most `cap`, a random share of it so that writers held back together spread out."""
    return float(rand() * min(cap, base * 2 ** (attempt - 1)))
