"""The functions' least-privilege IAM policies, rendered two ways from one set of statements.

Chalice's automatic policy reads `app.py` only, and the AWS calls are in
`chalicelib/`, so the config sets `autogen_policy: false` and names a policy
file per function. Each policy allows only the actions its function makes, on
resources named here from `chalicelib.names` and `infra.names`.

- `.chalice/policy-*.json` (the `chalice deploy` path) are written before the
  account is known: ARNs use `arn:*:<service>:*:*:` so no partition, region
  or account is written down, the archive bucket, whose name holds the
  account, is matched by its stem, and the key, whose id is generated, by its
  alias (`kms:ResourceAliases`). `python -m infra policies` rewrites them; a
  test fails if they drift.
- The packaged template's roles (the `chalice package` path) get the same
  statements with exact ARNs (`Fn::Sub` of the stack's partition, region and
  account; the key's `Fn::GetAtt`), through the merge template.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib import names
from infra import names as infra_names
from infra.errors import InfraError
from infra.resources import DATA_KEY_ID, KEY_DATA_ACTIONS
from infra.stages import CONFIG_PATH, read_config

Statement = dict[str, Any]

# IAM actions that have no resource to scope them to, each with the reason;
# the only statements allowed `"Resource": "*"` (a test holds the packaged
# template to this list).
UNSCOPED_ACTIONS = {
    "kinesis:ListStreams": (
        "Lambda's Kinesis event source mapping lists streams with the function's role; "
        "ListStreams has no resource-level permissions"
    ),
}


@dataclass(frozen=True)
class Arns:
    """How a policy names resources: patterns for the files, or the template's exact ARNs."""

    app_name: str
    stages: tuple[str, ...]  # the stages whose log groups the policy names
    exact: bool  # CloudFormation references (one stage) rather than patterns

    def arn(self, service: str, resource: str, *, regional: bool = True) -> Any:
        """`resource` of `service`; S3's ARNs name no region or account (`regional=False`)."""
        if self.exact:
            partition, where = "${AWS::Partition}", "${AWS::Region}:${AWS::AccountId}"
        else:
            partition, where = "*", "*:*"
        text = f"arn:{partition}:{service}:{where if regional else ':'}:{resource}"
        return {"Fn::Sub": text} if self.exact else text

    def bucket(self, path: str = "") -> Any:
        name = infra_names.ARCHIVE_BUCKET if self.exact else infra_names.ARCHIVE_BUCKET_GLOB
        return self.arn("s3", name + path, regional=False)

    def log_streams(self, function: str) -> list[Any]:
        return [
            self.arn(
                "logs", f"log-group:{infra_names.log_group(self.app_name, stage, function)}:*"
            )
            for stage in self.stages
        ]

    def key(self) -> tuple[Any, dict[str, Any] | None]:
        """The data key's ARN, and the condition that picks it out when the ARN is a pattern."""
        if self.exact:
            return {"Fn::GetAtt": [DATA_KEY_ID, "Arn"]}, None
        aliases = {"kms:ResourceAliases": infra_names.DATA_KEY_ALIAS}
        return self.arn("kms", "key/*"), {"ForAnyValue:StringEquals": aliases}


def _allow(sid: str, actions: Sequence[str], resource: Any) -> Statement:
    # One action is written as a string, several as a list, as IAM shows them;
    # so is one resource.
    action: str | list[str] = actions[0] if len(actions) == 1 else sorted(actions)
    if isinstance(resource, list) and len(resource) == 1:
        resource = resource[0]
    return {"Sid": sid, "Effect": "Allow", "Action": action, "Resource": resource}


def _logs(arns: Arns, function: str) -> Statement:
    # The log group is made by the stack (infra.resources), so only its streams.
    return _allow(
        "Logs", ["logs:CreateLogStream", "logs:PutLogEvents"], arns.log_streams(function)
    )


def _read_stream(arns: Arns, stream: str) -> list[Statement]:
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
            arns.arn("kinesis", f"stream/{stream}"),
        ),
        _allow("ListStreams", ["kinesis:ListStreams"], "*"),
    ]


def _keep_rejected(arns: Arns, function: str) -> Statement:
    prefix = f"{names.DEAD_LETTER_PREFIX}{function}/"
    return _allow("KeepRejectedRecords", ["s3:PutObject"], arns.bucket(f"/{prefix}*"))


def _on_failure(arns: Arns) -> Statement:
    """The mapping's on-failure destination is sent to with the function's role."""
    return _allow(
        "OnFailureDestination", ["sqs:SendMessage"], arns.arn("sqs", infra_names.FAILURE_QUEUE)
    )


def _use_key(arns: Arns, actions: Sequence[str]) -> Statement:
    """The data key, for the encrypted streams, tables, objects, topic and queue used."""
    key, condition = arns.key()
    statement = _allow("UseDataKey", actions, key)
    return statement | {"Condition": condition} if condition else statement


def _table(arns: Arns, name: str) -> Any:
    return arns.arn("dynamodb", f"table/{name}")


def statements(arns: Arns) -> dict[str, list[Statement]]:
    """Chalice function name -> the statements of its policy."""
    # Of the key: Decrypt to read (stream records, table keys, objects) and to
    # send to the encrypted topic and queue; GenerateDataKey to write (records,
    # objects, messages). DynamoDB needs only Decrypt, for the table's key.
    read_write = KEY_DATA_ACTIONS
    return {
        "aggregate": [
            _logs(arns, "aggregate"),
            *_read_stream(arns, names.RAW_STREAM),
            _allow(
                "EmitSummaries",
                ["kinesis:PutRecords"],
                arns.arn("kinesis", f"stream/{names.SUMMARY_STREAM}"),
            ),
            _keep_rejected(arns, "aggregate"),
            _on_failure(arns),
            _use_key(arns, read_write),
        ],
        "persist": [
            _logs(arns, "persist"),
            *_read_stream(arns, names.SUMMARY_STREAM),
            _allow(
                "WriteSummaries",
                ["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"],
                _table(arns, names.SUMMARY_TABLE),
            ),
            _keep_rejected(arns, "persist"),
            _on_failure(arns),
            _use_key(arns, read_write),
        ],
        "vitals": [
            _logs(arns, "vitals"),
            *_read_stream(arns, names.RAW_STREAM),
            _allow(
                "KeepStatus",
                [
                    "dynamodb:BatchGetItem",
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                ],
                _table(arns, names.STATUS_TABLE),
            ),
            _allow("TakeShardTurns", ["dynamodb:PutItem"], _table(arns, names.SHARD_TURN_TABLE)),
            _allow("SendAlerts", ["sns:Publish"], arns.arn("sns", names.ALERT_TOPIC)),
            _on_failure(arns),
            _use_key(arns, read_write),
        ],
        "aggregate_trips": [
            _logs(arns, "aggregate_trips"),
            *_read_stream(arns, names.TRIP_STREAM),
            _allow(
                "EmitInsights",
                ["kinesis:PutRecords"],
                arns.arn("kinesis", f"stream/{names.INSIGHT_STREAM}"),
            ),
            _keep_rejected(arns, "aggregate_trips"),
            _on_failure(arns),
            _use_key(arns, read_write),
        ],
        "persist_insights": [
            _logs(arns, "persist_insights"),
            *_read_stream(arns, names.INSIGHT_STREAM),
            _allow(
                "WriteInsights",
                ["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:Query"],
                _table(arns, names.INSIGHT_TABLE),
            ),
            _allow(
                "KeepFareAlerts",
                [
                    "dynamodb:BatchGetItem",
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                ],
                _table(arns, names.FARE_ALERT_TABLE),
            ),
            _allow("SendFareAlerts", ["sns:Publish"], arns.arn("sns", names.FARE_TOPIC)),
            _keep_rejected(arns, "persist_insights"),
            _on_failure(arns),
            _use_key(arns, read_write),
        ],
        "report": [
            _logs(arns, "report"),
            _allow("ReadFleet", ["dynamodb:Scan"], _table(arns, names.STATUS_TABLE)),
            _allow("ReadSummaries", ["dynamodb:Query"], _table(arns, names.SUMMARY_TABLE)),
            _allow("ListArchive", ["s3:ListBucket"], arns.bucket())
            | {"Condition": {"StringLike": {"s3:prefix": [f"{names.ARCHIVE_PREFIX}*"]}}},
            _allow("ReadArchive", ["s3:GetObject"], arns.bucket(f"/{names.ARCHIVE_PREFIX}*")),
            _allow("WriteReports", ["s3:PutObject"], arns.bucket(f"/{names.REPORT_PREFIX}*")),
            _use_key(arns, read_write),
        ],
        "api_handler": [
            _logs(arns, "api_handler"),
            _allow(
                "ReadFleet",
                ["dynamodb:GetItem", "dynamodb:Scan"],
                _table(arns, names.STATUS_TABLE),
            ),
            _allow("ReadSummaries", ["dynamodb:Query"], _table(arns, names.SUMMARY_TABLE)),
            _allow(
                "ReadTaxiInsights",
                ["dynamodb:Query"],
                [
                    _table(arns, names.INSIGHT_TABLE),
                    _table(arns, f"{names.INSIGHT_TABLE}/index/{names.INSIGHT_BY_DAY_INDEX}"),
                ],
            ),
            _allow("ReadFareAlerts", ["dynamodb:Scan"], _table(arns, names.FARE_ALERT_TABLE)),
            # POST /trips: the trips accepted before (idempotence) and the stream.
            _allow(
                "RememberTrips",
                ["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"],
                _table(arns, names.TRIP_ID_TABLE),
            ),
            _allow(
                "IngestTrips",
                ["kinesis:PutRecords"],
                arns.arn("kinesis", f"stream/{names.TRIP_STREAM}"),
            ),
            _use_key(arns, KEY_DATA_ACTIONS),
        ],
    }


def file_arns(config_path: Path = CONFIG_PATH) -> Arns:
    """How the policy files name resources: patterns, and every stage of the config."""
    config = read_config(config_path)
    stages = tuple(sorted(config.get("stages") or {}))
    return Arns(app_name=str(config.get("app_name", "")), stages=stages, exact=False)


def template_arns(app_name: str, stage: str) -> Arns:
    """How the packaged template's roles name resources: exactly, for one stage."""
    return Arns(app_name=app_name, stages=(stage,), exact=True)


def policies(arns: Arns | None = None) -> dict[str, dict[str, Any]]:
    """Chalice function name -> its policy document (as in the files unless `arns` says)."""
    chosen = file_arns() if arns is None else arns
    return {
        function: {"Version": "2012-10-17", "Statement": statement}
        for function, statement in statements(chosen).items()
    }


def render(policy: dict[str, Any]) -> str:
    return json.dumps(policy, indent=2) + "\n"


def policy_files(config_path: Path = CONFIG_PATH) -> dict[Path, str]:
    """Each policy file named in the config (`iam_policy_file`) -> its rendered text."""
    functions = read_config(config_path).get("lambda_functions") or {}
    files = {}
    for function, policy in policies(file_arns(config_path)).items():
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
