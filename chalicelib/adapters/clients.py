"""The one place AWS clients are made: lazily, once per process, never at import.

Lambda reuses the process between invocations, so a client made on the first
invocation serves the rest; tests start moto before the first client exists.
The endpoint and region come from the standard `AWS_ENDPOINT_URL` and
`AWS_DEFAULT_REGION` settings, which is how the same code runs on AWS and on a
local endpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

# The most calls a function makes at the same time through one client (vitals'
# status writes); each client's connection pool holds that many connections.
CONCURRENT_CALLS = 16

CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4},
    connect_timeout=5,
    read_timeout=20,
    max_pool_connections=CONCURRENT_CALLS,
)


class Clients:
    """boto3 clients by service name, each created on first use."""

    def __init__(
        self,
        session: boto3.session.Session | None = None,
        configure: Callable[[Any], None] | None = None,
        endpoint_url: str | None = None,
    ) -> None:
        self._session = session
        self._configure = configure  # given each new client (the local fault injector uses it)
        self._endpoint_url = endpoint_url  # None: the standard settings decide (AWS's own)
        self._clients: dict[str, Any] = {}

    def get(self, service: str) -> Any:
        client = self._clients.get(service)
        if client is None:
            if self._session is None:
                self._session = boto3.session.Session()
            client = self._session.client(
                service, config=CLIENT_CONFIG, endpoint_url=self._endpoint_url
            )
            if self._configure is not None:
                self._configure(client)
            self._clients[service] = client
        return client
