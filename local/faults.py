"""Making AWS calls fail the way AWS fails them, at chosen rates, for fault-injection runs.

A `FaultInjector` attaches to boto3 clients (the functions' through
`chalicelib.adapters.clients.Clients(configure=...)`, the producer's directly) and, for
the operations it is given, answers a share of the calls itself before they
reach the endpoint:

- `throttle`: the service's own throttling error as an HTTP response
  (DynamoDB and Kinesis `ProvisionedThroughputExceededException`, SNS
  `Throttling`, S3 `SlowDown`), which botocore parses and retries as it
  would AWS's;
- `server`: a 500 with the service's internal error;
- `timeout`: a read timeout (raised before the request is sent, so the
  endpoint never sees it: a timeout after a write landed would be a
  duplicate delivery, which Kinesis producers cannot tell from a loss);
- `race`: for a conditional DynamoDB write, another writer gets there
  first: the item's `Version` is bumped for real just before the call, so
  the endpoint refuses the condition as DynamoDB would.

Every fault is counted by operation and kind, for the figures a run prints.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

KINDS = ("throttle", "server", "timeout")

_XML_ERROR = "<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>injected</RequestId></ErrorResponse>"  # noqa: E501
_S3_ERROR = "<Error><Code>{code}</Code><Message>{message}</Message></Error>"

# service -> kind -> (HTTP status, body)
RESPONSES: dict[str, dict[str, tuple[int, str]]] = {
    "dynamodb": {
        "throttle": (
            400,
            json.dumps(
                {
                    "__type": "com.amazonaws.dynamodb.v20120810#"
                    "ProvisionedThroughputExceededException",
                    "message": "The level of configured provisioned throughput was exceeded "
                    "(injected)",
                }
            ),
        ),
        "server": (500, json.dumps({"__type": "InternalServerError", "message": "(injected)"})),
    },
    "kinesis": {
        "throttle": (
            400,
            json.dumps(
                {
                    "__type": "ProvisionedThroughputExceededException",
                    "message": "Rate exceeded for stream (injected)",
                }
            ),
        ),
        "server": (500, json.dumps({"__type": "InternalFailure", "message": "(injected)"})),
    },
    "sns": {
        "throttle": (
            400,
            _XML_ERROR.format(kind="Sender", code="Throttling", message="Rate exceeded"),
        ),
        "server": (
            500,
            _XML_ERROR.format(kind="Receiver", code="InternalError", message="(injected)"),
        ),
    },
    "s3": {
        "throttle": (503, _S3_ERROR.format(code="SlowDown", message="Reduce your request rate")),
        "server": (500, _S3_ERROR.format(code="InternalError", message="(injected)")),
    },
}


class _Body:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


class FaultInjector:
    """Fails `rate` of the calls to each of `operations` ("service.Operation")."""

    def __init__(
        self,
        operations: Sequence[str],
        rate: float,
        *,
        kinds: Sequence[str] = KINDS,
        races: Sequence[str] = (),
        first: bool = True,
        label: str = "",
        seed: int = 0,
    ) -> None:
        if not 0 <= rate < 1:
            raise ValueError(f"a fault rate is at least 0 and below 1, got {rate}")
        self.operations = list(operations)
        self.rate = rate
        self.kinds = list(kinds)
        self.races = list(races)  # conditional writes that may lose a race, e.g. dynamodb.PutItem
        self.first = first  # fail the first call of each operation, so each one sees a fault
        self.label = label  # e.g. "producer", to tell two injectors apart in the figures
        self._rivals: dict[str, Any] = {}  # service -> the competing writer's client
        self.random = random.Random(seed)
        self.counts: Counter[tuple[str, str]] = Counter()
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()  # the producer's thread and the runtime's share it

    def attach(self, client: Any) -> None:
        service = client.meta.service_model.service_id.hyphenize()
        for operation in self.operations:
            prefix, _, name = operation.partition(".")
            if prefix != service:
                continue
            client.meta.events.register(
                f"before-send.{service}.{name}", self._failing(service, operation)
            )
            if operation in self.races:
                client.meta.events.register(
                    f"before-parameter-build.{service}.{name}", self._racing(operation)
                )

    def _draw(self, operation: str, choices: Sequence[str]) -> str | None:
        operation = f"{self.label} {operation}".strip()
        with self._lock:
            self.calls[operation] += 1
            first = self.first and self.calls[operation] == 1
            if not first and self.random.random() >= self.rate:
                return None
            kind = self.random.choice(list(choices))
            self.counts[(operation, kind)] += 1
            return kind

    def _failing(self, service: str, operation: str) -> Any:
        def send(request: Any, **_: Any) -> AWSResponse | None:
            kind = self._draw(operation, self.kinds)
            if kind is None:
                return None
            if kind == "timeout":
                raise ReadTimeoutError(endpoint_url=request.url)
            status, body = RESPONSES[service][kind]
            return AWSResponse(request.url, status, {}, _Body(body.encode()))

        return send

    def _rival(self, service: str) -> Any:
        # Made on first use, from the environment then (pointing at the endpoint),
        # and never given faults: it is another writer, not this one.
        if service not in self._rivals:
            self._rivals[service] = boto3.session.Session().client(service)
        return self._rivals[service]

    def _racing(self, operation: str) -> Any:
        service = operation.partition(".")[0]

        def call(params: dict[str, Any], **_: Any) -> None:
            condition = params.get("ConditionExpression", "")
            version = (params.get("ExpressionAttributeValues") or {}).get(":v")
            if "#v = :v" not in condition or version is None:
                return  # only a write conditional on the version it read can lose a race
            if self._draw(f"{operation} (race)", ["race"]) is None:
                return
            key = {"Name": params["Item"]["Name"]}
            self._rival(service).update_item(
                TableName=params["TableName"],
                Key=key,
                UpdateExpression="SET #v = #v + :one",
                ConditionExpression="attribute_exists(#v)",
                ExpressionAttributeNames={"#v": "Version"},
                ExpressionAttributeValues={":one": {"N": "1"}},
            )

        return call

    @property
    def injected(self) -> int:
        return sum(self.counts.values())

    def table(self) -> list[tuple[str, str, int, int]]:
        """(operation, kind, faults, calls) per operation called and kind injected."""
        rows = [
            (operation, kind, count, self.calls[operation])
            for (operation, kind), count in sorted(self.counts.items())
        ]
        faulted = {operation for operation, _ in self.counts}
        rows += [
            (op, "-", 0, calls) for op, calls in sorted(self.calls.items()) if op not in faulted
        ]
        return rows
