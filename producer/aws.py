"""The Kinesis client the command-line tools use, and the one-line problems setting it up."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError

from chalicelib.adapters.clients import CLIENT_CONFIG

# The producer runs for minutes or hours, not inside a Lambda timeout: a throttled or
# failed call is worth more of botocore's attempts (with its backoff, up to 20 s
# apart) before a run gives up.
PRODUCER_ATTEMPTS = 10


class Fatal(Exception):
    """A problem that ends the run; its message is the one line the user sees."""


def kinesis_client(region: str | None, attempts: int = PRODUCER_ATTEMPTS) -> Any:
    """A Kinesis client for `region` (or the configured one), or Fatal saying what is missing.

    The endpoint comes from the standard settings, so `AWS_ENDPOINT_URL` points the
    tools at a local endpoint. `attempts` is botocore's budget for one call, the first
    attempt included.
    """
    try:
        session = boto3.session.Session(region_name=region)
        if not session.region_name:
            raise Fatal(
                "no AWS region configured: set AWS_DEFAULT_REGION (or a profile's region) "
                "or pass --region"
            )
        if session.get_credentials() is None:
            raise Fatal(
                "no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY"
            )
        retries = Config(retries={"mode": "standard", "total_max_attempts": attempts})
        return session.client("kinesis", config=CLIENT_CONFIG.merge(retries))
    except (BotoCoreError, ValueError) as problem:  # a bad profile, region or endpoint URL
        raise Fatal(f"cannot set up a Kinesis client: {problem}") from None
