"""Who retries what when Kinesis says no: botocore the whole call, the writer the entries.

A throttled or failed `PutRecords` call is retried by botocore as the client is
configured (standard mode); the writer sends again only the entries a successful
call refused. Throttling is answered here as AWS answers it, as an HTTP response
in place of the request's, so botocore's own retry logic sees it and the server
(moto, over HTTP as the running system has it) never stores the throttled call.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from chalicelib.adapters.clients import CLIENT_CONFIG
from chalicelib.adapters.streams import KinesisWriter
from chalicelib.errors import DeliveryError
from tests.streams import read_stream

STREAM = "wildrydes"
THROTTLED = (
    b'{"__type": "ProvisionedThroughputExceededException",'
    b' "message": "Rate exceeded for stream wildrydes (test)"}'
)
KMS_THROTTLED = b'{"__type": "KMSThrottlingException", "message": "Rate exceeded (test)"}'


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def throttle_calls(client: Any, times: int | None = None, body: bytes = THROTTLED) -> list[int]:
    """Answer the first `times` PutRecords requests (all, if None) with HTTP 400 throttling."""
    sent: list[int] = []

    def send(request: Any, **_: Any) -> AWSResponse | None:
        sent.append(1)
        if times is None or len(sent) <= times:
            return AWSResponse(request.url, 400, {}, _Body(body))
        return None

    client.meta.events.register("before-send.kinesis.PutRecords", send)
    return sent


@pytest.fixture
def endpoint(aws_env: None) -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    reset = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    try:
        urllib.request.urlopen(reset, timeout=10).close()  # moto's state is per process
        yield url
    finally:
        server.stop()


def kinesis(endpoint: str, config: Config) -> Any:
    client = boto3.session.Session().client("kinesis", endpoint_url=endpoint, config=config)
    client.create_stream(StreamName=STREAM, ShardCount=1)
    return client


def test_a_throttled_call_is_retried_by_botocore_and_the_records_land_once(endpoint: str) -> None:
    client = kinesis(endpoint, CLIENT_CONFIG)
    sent = throttle_calls(client, times=1)
    writer = KinesisWriter(client, STREAM, sleep=lambda seconds: None)

    stats = writer.put([(b'{"n":1}\n', "Shadowfax"), (b'{"n":2}\n', "Rocinante")])

    assert len(sent) == 2  # botocore's second attempt went through
    assert (stats.sent, stats.calls, stats.retried) == (2, 1, 0)  # the writer called once
    assert [r["Data"] for r in read_stream(client, STREAM)] == [b'{"n":1}\n', b'{"n":2}\n']


def test_when_botocore_gives_up_on_a_call_the_writer_does_not_start_over(endpoint: str) -> None:
    """One call's attempts are the client's to set: the writer adds none of its own, so a
    throttled stream costs a function the client's attempts, not those times six."""
    three = Config(retries={"mode": "standard", "total_max_attempts": 3})
    client = kinesis(endpoint, CLIENT_CONFIG.merge(three))
    sent = throttle_calls(client)
    writer = KinesisWriter(client, STREAM, sleep=lambda seconds: None)

    with pytest.raises(DeliveryError) as refused:
        writer.put([(b'{"n":1}\n', "Shadowfax")])

    assert len(sent) == 3
    assert str(refused.value) == (
        "PutRecords to stream 'wildrydes' failed: ProvisionedThroughputExceededException: "
        "Rate exceeded for stream wildrydes (test)"
    )
    assert refused.value.undelivered == [(b'{"n":1}\n', "Shadowfax")]
    assert writer.totals.calls == 1
    assert read_stream(client, STREAM) == []


def test_a_kms_throttle_botocore_does_not_know_is_retried_by_the_writer(endpoint: str) -> None:
    """The streams are KMS-encrypted: when KMS throttles, Kinesis answers
    KMSThrottlingException, which botocore's standard mode never retries."""
    client = kinesis(endpoint, CLIENT_CONFIG)
    sent = throttle_calls(client, times=1, body=KMS_THROTTLED)
    writer = KinesisWriter(client, STREAM, sleep=lambda seconds: None)

    stats = writer.put([(b'{"n":1}\n', "Shadowfax")])

    assert len(sent) == 2
    assert (stats.sent, stats.calls, stats.retried) == (1, 2, 1)
    assert [r["Data"] for r in read_stream(client, STREAM)] == [b'{"n":1}\n']
