"""What the local tests over the archive share: a moto account with the archive bucket."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from tests.lambda_events import ACCOUNT, REGION

BUCKET = f"wildrydes-archive-{ACCOUNT}-{REGION}"


@pytest.fixture
def session(aws_env: None) -> Iterator[boto3.session.Session]:
    """A moto session whose account has the archive bucket."""
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        session.client("s3").create_bucket(Bucket=BUCKET)
        yield session
