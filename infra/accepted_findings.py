"""The static scan's findings this system accepts, each with the reason, written into the template.

`make scan` runs checkov on the packaged template and fails on any finding
not listed here. Each accepted finding travels with its resource as
checkov's own suppression (`Metadata.checkov.skip`, id and comment), so the
template says why wherever it goes. Keyed by what a finding is about: the
kind of function (how Lambda invokes it decides which checks apply), the
REST API, the archive bucket.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Why no function has these, whatever invokes it.
_EVERY_FUNCTION = {
    "CKV_AWS_117": (
        "not in a VPC: the functions reach only AWS APIs (Kinesis, DynamoDB, S3, SNS, SQS) "
        "over TLS under IAM; a VPC would add NAT or interface endpoints and nothing to reach"
    ),
    "CKV_AWS_173": (
        "the environment holds names and settings (bucket, topic ARN, API URL, threshold, "
        "log level), no secrets; Lambda encrypts it at rest with its AWS managed key"
    ),
}

STREAM_FUNCTION = {
    **_EVERY_FUNCTION,
    "CKV_AWS_116": (
        "invoked synchronously by its Kinesis event source mapping, whose on-failure "
        "destination (the failure queue) describes every discarded batch; a function's "
        "dead-letter queue applies to asynchronous invocations only"
    ),
    "CKV_AWS_115": (
        "concurrency is bounded by the event source mapping: one batch in flight per shard "
        "(ParallelizationFactor 1)"
    ),
}

API_FUNCTION = {
    **_EVERY_FUNCTION,
    "CKV_AWS_116": (
        "invoked synchronously by API Gateway, which answers the caller with the error; a "
        "dead-letter queue applies to asynchronous invocations only"
    ),
    "CKV_AWS_115": (
        "bounded by the usage plan's throttle in front of it (infra/api_keys.py); a "
        "reservation would fail in accounts still at the new-account quota of 10"
    ),
}

SCHEDULED_FUNCTION = {
    **_EVERY_FUNCTION,
    "CKV_AWS_116": (
        "a failed report is retried by Lambda and superseded by the next run 15 minutes "
        "later, which reads the archive afresh: a dead letter would hold nothing to replay"
    ),
    "CKV_AWS_115": "one run per 15-minute schedule; there is nothing to bound",
}

REST_API = {
    "CKV_AWS_73": (
        "X-Ray tracing is observability, not protection, and billed per trace; the "
        "functions' tracing is PassThrough, so it can be switched on here alone"
    ),
    "CKV_AWS_76": (
        "access logs need API Gateway's account-wide CloudWatch role "
        "(AWS::ApiGateway::Account), one setting per account and region that this stack "
        "must not take over; the stage's metrics count requests and 4xx/5xx answers"
    ),
    "CKV_AWS_120": (
        "the data is live (the console polls every 2 s): a cache would serve stale "
        "positions, and is billed by the hour"
    ),
}

ARCHIVE_BUCKET = {
    "CKV_AWS_18": (
        "server access logs need a second bucket (that would in turn log nowhere); only "
        "this stack's roles read or write here (IAM, TLS-only policy, public access "
        "blocked), and CloudTrail data events are the account-wide record if one is needed"
    ),
    "CKV_AWS_21": (
        "objects are written once under unique keys (Firehose, dead letters, dated "
        "reports) and the bucket outlives the stack; versioning would keep every "
        "reports/latest.html for ever and make `aws s3 rb --force`, the documented "
        "teardown, fail"
    ),
}


def checkov_metadata(accepted: Mapping[str, str]) -> dict[str, Any]:
    """A resource's `Metadata` telling checkov to skip `accepted` (check id -> reason)."""
    return {
        "checkov": {
            "skip": [
                {"id": check, "comment": reason} for check, reason in sorted(accepted.items())
            ]
        }
    }
