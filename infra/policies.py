"""The functions' least-privilege IAM policies, rendered into `.chalice/policy-*.json`.

Chalice's automatic policy reads `app.py` only, and the AWS calls are in
`chalicelib/`, so the config sets `autogen_policy: false` and names a policy
file per function. Each policy allows only the actions its function makes, on
resources named here from `chalicelib.names` and `infra.names`. ARNs use
`arn:*:<service>:*:*:` so no partition, region or account is written down; the
archive bucket, whose name holds the account, is matched by its stem.
`python -m infra policies` rewrites the files; a test fails if they drift.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chalicelib import names
from infra import names as infra_names
from infra.errors import InfraError
from infra.stages import CONFIG_PATH, read_config

Statement = dict[str, Any]


def _arn(service: str, resource: str) -> str:
    return f"arn:*:{service}:*:*:{resource}"


def _allow(sid: str, actions: list[str], resource: str) -> Statement:
    # One action is written as a string, several as a list, as IAM shows them.
    action: str | list[str] = actions[0] if len(actions) == 1 else sorted(actions)
    return {"Sid": sid, "Effect": "Allow", "Action": action, "Resource": resource}


def _logs() -> Statement:
    return _allow(
        "Logs",
        ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        _arn("logs", "*"),
    )


def _read_stream(stream: str) -> list[Statement]:
    """What a Kinesis event source mapping needs of its function's role."""
    return [
        _allow(
            "ReadSourceStream",
            [
                "kinesis:DescribeStream",
                "kinesis:DescribeStreamSummary",
                "kinesis:GetRecords",
                "kinesis:GetShardIterator",
                "kinesis:ListShards",
                "kinesis:SubscribeToShard",
            ],
            _arn("kinesis", f"stream/{stream}"),
        ),
        # ListStreams has no resource to scope it to.
        _allow("ListStreams", ["kinesis:ListStreams"], "*"),
    ]


def _bucket_objects(prefix: str) -> str:
    return f"arn:*:s3:::{infra_names.ARCHIVE_BUCKET_GLOB}/{prefix}*"


def _keep_rejected(function: str) -> Statement:
    prefix = f"{names.DEAD_LETTER_PREFIX}{function}/"
    return _allow("KeepRejectedRecords", ["s3:PutObject"], _bucket_objects(prefix))


def _on_failure() -> Statement:
    """The mapping's on-failure destination is sent to with the function's role."""
    return _allow(
        "OnFailureDestination", ["sqs:SendMessage"], _arn("sqs", infra_names.FAILURE_QUEUE)
    )


def _table(name: str) -> str:
    return _arn("dynamodb", f"table/{name}")


def policies() -> dict[str, dict[str, Any]]:
    """Chalice function name -> its policy document."""
    statements = {
        "aggregate": [
            _logs(),
            *_read_stream(names.RAW_STREAM),
            _allow(
                "EmitSummaries",
                ["kinesis:PutRecords"],
                _arn("kinesis", f"stream/{names.SUMMARY_STREAM}"),
            ),
            _keep_rejected("aggregate"),
            _on_failure(),
        ],
        "persist": [
            _logs(),
            *_read_stream(names.SUMMARY_STREAM),
            _allow(
                "WriteSummaries",
                ["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"],
                _table(names.SUMMARY_TABLE),
            ),
            _keep_rejected("persist"),
            _on_failure(),
        ],
        "vitals": [
            _logs(),
            *_read_stream(names.RAW_STREAM),
            _allow(
                "KeepStatus",
                [
                    "dynamodb:BatchGetItem",
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                ],
                _table(names.STATUS_TABLE),
            ),
            _allow("SendAlerts", ["sns:Publish"], _arn("sns", names.ALERT_TOPIC)),
            _on_failure(),
        ],
        "report": [
            _logs(),
            _allow("ReadFleet", ["dynamodb:Scan"], _table(names.STATUS_TABLE)),
            _allow("ReadSummaries", ["dynamodb:Query"], _table(names.SUMMARY_TABLE)),
            _allow(
                "ListArchive",
                ["s3:ListBucket"],
                f"arn:*:s3:::{infra_names.ARCHIVE_BUCKET_GLOB}",
            )
            | {"Condition": {"StringLike": {"s3:prefix": [f"{names.ARCHIVE_PREFIX}*"]}}},
            _allow("ReadArchive", ["s3:GetObject"], _bucket_objects(names.ARCHIVE_PREFIX)),
            _allow("WriteReports", ["s3:PutObject"], _bucket_objects(names.REPORT_PREFIX)),
        ],
        "api_handler": [
            _logs(),
            _allow("ReadFleet", ["dynamodb:GetItem", "dynamodb:Scan"], _table(names.STATUS_TABLE)),
            _allow("ReadSummaries", ["dynamodb:Query"], _table(names.SUMMARY_TABLE)),
        ],
    }
    return {
        function: {"Version": "2012-10-17", "Statement": statement}
        for function, statement in statements.items()
    }


def render(policy: dict[str, Any]) -> str:
    return json.dumps(policy, indent=2) + "\n"


def policy_files(config_path: Path = CONFIG_PATH) -> dict[Path, str]:
    """Each policy file named in the config (`iam_policy_file`) -> its rendered text."""
    functions = read_config(config_path).get("lambda_functions") or {}
    files = {}
    for function, policy in policies().items():
        file_name = (functions.get(function) or {}).get("iam_policy_file")
        if not file_name:
            raise InfraError(
                f"{config_path}: lambda_functions.{function}.iam_policy_file is not set; "
                "with autogen_policy false every function needs one"
            )
        files[config_path.parent / file_name] = render(policy)
    return files


def write_policies(config_path: Path = CONFIG_PATH) -> list[Path]:
    """Rewrite the policy files; returns those whose content changed."""
    changed = []
    for path, text in policy_files(config_path).items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed.append(path)
    return changed
