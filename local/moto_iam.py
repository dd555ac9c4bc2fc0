"""IAM on the embedded endpoint: every role session held to its role's policies, on real ARNs.

The local run gives each function (and the Firehose emulation) the
credentials of its own role, assumed through STS (`local.roles`), as Lambda
does. This makes the endpoint judge every call made with such credentials
as IAM would: the request's signature is checked (moto's own check), the
call is described as IAM sees it (the action, every resource it touches by
its ARN, the context keys) and the role's policies are evaluated
(`local.iam_policy`). A refused call gets AWS's own error (AccessDenied
for the service's protocol) with AWS's message, naming the principal, the
action and the resource, and is recorded: one JSON line per denial in the
file named by `WILDRYDES_IAM_DENIALS` (`local.endpoint`).

Calls signed with anything but an STS session's key are the account's own
(`local`/`local`: provisioning, the producers, the AWS CLI, the mailbox)
and are not judged, as the account root is not held to policies.

moto ships an evaluator of its own behind `INITIAL_NO_AUTH_ACTION_COUNT`,
but it authorizes DynamoDB, Kinesis and SNS calls against `*` rather than the
table, stream or topic, and treats an Allow whose condition is unmet as a
Deny; `install()` replaces its entry point in the server process.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import JsonRESTError, _RESTError
from moto.s3.exceptions import S3ClientError

from local.endpoint import DENIALS_VARIABLE
from local.iam_policy import Call, evaluate

log = logging.getLogger(__name__)

TOKEN_HEADER = "X-Amz-Security-Token"
SESSION_KEY = "ASIA"  # how the access key of an STS session starts
# What IAM never refuses, whatever the policies say.
ALWAYS_ALLOWED = {"sts:GetCallerIdentity"}

# S3 operations whose IAM action has another name.
S3_ACTIONS = {
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "HeadBucket": "ListBucket",
    "HeadObject": "GetObject",
    "ListObjectVersions": "ListBucketVersions",
    "ListBuckets": "ListAllMyBuckets",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "DeleteObjects": "DeleteObject",
}


@dataclass(frozen=True)
class Denial:
    """A call the endpoint refused."""

    principal: str  # arn:aws:sts::<account>:assumed-role/<role>/<session>
    action: str
    resource: str
    message: str


def install() -> None:
    """Judge role sessions' calls from now on, in this process (the endpoint's)."""
    ActionAuthenticatorMixin._authenticate_and_authorize_action = _authorize  # type: ignore[method-assign]


def _authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
    headers = self.headers
    if not headers.get(TOKEN_HEADER) or not self.get_access_key().startswith(SESSION_KEY):
        return  # the account's own credentials (a token from elsewhere changes nothing)
    query = urlparse(self.uri).query
    path = self.raw_path + (f"?{query}" if query else "")
    # moto's request object finds the session by its key (InvalidClientTokenId if
    # unknown or its token differs) and checks the signature with its secret.
    request = iam_request_cls(
        account_id=self.current_account,
        method=self.method,
        path=path,
        data=self.data,
        body=self.raw_body,
        headers=headers,
        action=self._get_action(),
    )
    request.check_signature()
    service, region = request._service, request._region
    call = describe(self, service, region, resource)
    if call.action in ALWAYS_ALLOWED:
        return
    documents = [_document(p) for p in request._access_key.collect_policies()]
    decision = evaluate(documents, call)
    if decision.allowed:
        return
    principal = request._access_key.arn
    refused = decision.resource or "*"
    message = (
        f"User: {principal} is not authorized to perform: {call.action} on resource: "
        f"{refused} {decision.reason(call.action)}"
    )
    _record(Denial(principal, call.action, refused, message))
    raise _access_denied(service, message)


def describe(response: Any, service: str, region: str, resource: str) -> Call:
    """The call `response` is handling, as IAM sees it."""
    account = response.current_account
    if service == "s3":
        operation = response.data.get("Action") or response._get_action()
        action = f"s3:{S3_ACTIONS.get(operation, operation)}"
        prefix = response.querystring.get("prefix")
        context = {"s3:prefix": list(prefix)} if prefix else {}
        return Call(action, (resource,), context)
    action = f"{service}:{response._get_action()}"
    if resource != "*":  # moto named it (SQS queues, STS roles)
        return Call(action, (resource,))
    if service == "dynamodb":
        return Call(action, _tables(_json(response), region, account))
    if service == "kinesis":
        return Call(action, _streams(_json(response), region, account))
    if service == "sns":
        query = response.querystring
        arns = [query[k][0] for k in ("TopicArn", "TargetArn") if query.get(k)]
        return Call(action, tuple(arns) or ("*",))
    return Call(action, ("*",))


def _json(response: Any) -> Mapping[str, Any]:
    """The parameters of a JSON-protocol request (moto may have parsed them already)."""
    for parsed in (getattr(response, "params", None), response.body):
        if isinstance(parsed, Mapping) and parsed:
            return parsed
    try:
        body = json.loads(response.raw_body or b"{}")
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def _tables(body: Mapping[str, Any], region: str, account: str) -> tuple[str, ...]:
    arn = f"arn:aws:dynamodb:{region}:{account}:table/"
    names: list[str] = []
    if "TableName" in body:
        index = f"/index/{body['IndexName']}" if body.get("IndexName") else ""
        names.append(f"{body['TableName']}{index}")
    names.extend(body.get("RequestItems") or {})
    for item in body.get("TransactItems") or []:
        names.extend(part["TableName"] for part in item.values() if "TableName" in part)
    return tuple(arn + name for name in dict.fromkeys(names)) or ("*",)


def _streams(body: Mapping[str, Any], region: str, account: str) -> tuple[str, ...]:
    if body.get("StreamARN"):
        return (str(body["StreamARN"]),)
    name = body.get("StreamName")
    if not name and body.get("ShardIterator"):
        name = _iterator_stream(str(body["ShardIterator"]))
    return (f"arn:aws:kinesis:{region}:{account}:stream/{name}",) if name else ("*",)


def _iterator_stream(iterator: str) -> str | None:
    from moto.kinesis.utils import decompose_shard_iterator

    try:
        return decompose_shard_iterator(iterator)[0] or None
    except (ValueError, UnicodeDecodeError):
        return None


def _document(policy: Any) -> dict[str, Any]:
    """A policy moto keeps (inline: text; managed: its default version) as a document."""
    if isinstance(policy, str):
        document: dict[str, Any] = json.loads(policy)
        return document
    if isinstance(policy, Mapping):  # a document itself (CloudFormation's roles), or moto's
        return dict(policy) if "Statement" in policy else _document(policy["policy_document"])
    default = next(v for v in policy.versions if v.is_default)
    return _document(default.document)


def _access_denied(service: str, message: str) -> Exception:
    """AccessDenied as the service's protocol spells it, so that botocore reads its code."""
    if service == "s3":
        return S3ClientError("AccessDenied", message)
    if service in ("sns", "sts", "iam"):  # the query protocol's XML
        error = _RESTError("AuthorizationError" if service == "sns" else "AccessDenied", message)
        error.code = 403
    elif service == "sqs":  # JSON, with the query protocol's code
        error = JsonRESTError("AccessDenied", message)
        error.code = 403
    else:  # DynamoDB, Kinesis and the other JSON protocols
        error = JsonRESTError("AccessDeniedException", message)
    return error


def _record(denial: Denial) -> None:
    log.warning("IAM denied: %s", denial.message)
    path = os.environ.get(DENIALS_VARIABLE)
    if path:
        with Path(path).open("a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(denial)) + "\n")
