"""Creating the supporting resources on the embedded endpoint from infra's definitions.

The supporting template (`infra.template.supporting_template`) is created as
a CloudFormation stack, exactly as `make deploy` does on AWS. moto's
CloudFormation creates the streams, tables, topic, bucket, queue, key, log
groups and role and silently skips the rest. The Glue database and tables,
the Athena workgroup and named queries and the CloudWatch alarms are created
here through moto's own APIs, from their rendered properties with the values
only a deployment knows filled in (`Provisioned.resolve`: the bucket's
generated name, ARNs; the one resolver of template values in `local/`). The
Firehose delivery streams and the email subscriptions are emulated
(`local.firehose`, `local.mailbox`), built from `infra.system` directly.
Nothing is named or set twice. The resource policies that refuse plain HTTP
are left out (`NOT_LOCAL`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.names import resources_stack
from infra.stages import CONFIG_PATH, load_stage
from infra.template import stack_body, supporting_template
from local.endpoint import ACCOUNT, REGION

log = logging.getLogger(__name__)

# Types moto's CloudFormation skips, and who provisions them locally.
EMULATED = ("AWS::KinesisFirehose::DeliveryStream", "AWS::SNS::Subscription")
CREATED_HERE = (
    "AWS::Glue::Database",
    "AWS::Glue::Table",
    "AWS::Athena::WorkGroup",
    "AWS::Athena::NamedQuery",
    "AWS::CloudWatch::Alarm",
)
# Types skipped on purpose: the bucket, topic and queue policies only refuse
# requests not made over TLS, and the local endpoint is plain HTTP on
# loopback. (moto would also evaluate the bucket's Deny without its condition
# and refuse every object request.)
NOT_LOCAL = ("AWS::S3::BucketPolicy", "AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy")


class ProvisionError(Exception):
    """The definitions hold something the local endpoint cannot provide."""


@dataclass
class Provisioned:
    """What provisioning made, and how to turn template values into concrete ones."""

    stack: str
    template: dict[str, Any]
    parameters: dict[str, str]
    physical: dict[str, str]  # logical id -> physical id, for what CloudFormation created
    outputs: dict[str, str]
    arns: dict[str, str] = field(default_factory=dict)  # logical id -> ARN, where known

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.template["Resources"]
        return resources

    def resolve(self, value: Any) -> Any:
        """A template value with Ref, Fn::GetAtt, Fn::Sub and Fn::Join worked out."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self._ref(argument)
            if key == "Fn::GetAtt":
                logical, attribute = (
                    argument if isinstance(argument, list) else argument.split(".", 1)
                )
                return self._attribute(logical, attribute)
            if key == "Fn::Sub":
                return self._sub(argument)
            if key == "Fn::Join":
                separator, parts = argument
                return separator.join(str(self.resolve(p)) for p in parts)
        return {k: self.resolve(v) for k, v in value.items()}

    def _ref(self, name: str) -> Any:
        pseudo = {
            "AWS::AccountId": ACCOUNT,
            "AWS::Region": REGION,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical:
            return self.physical[name]
        raise ProvisionError(f"cannot resolve Ref {name!r} locally")

    def _attribute(self, logical: str, attribute: str) -> Any:
        if attribute == "Arn" and logical in self.arns:
            return self.arns[logical]
        raise ProvisionError(f"cannot resolve Fn::GetAtt {logical}.{attribute} locally")

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name:
                logical, attribute = name.split(".", 1)
                return str(self._attribute(logical, attribute))
            return str(self._ref(name))

        return re.sub(r"\$\{([^!}][^}]*)\}", replace, text)


def provision(
    session: Any,
    stage: str,
    parameters: Mapping[str, str],
    *,
    config_path: Any = CONFIG_PATH,
) -> Provisioned:
    """Create the stage's supporting resources on the endpoint `session` talks to."""
    template = supporting_template(stage, config_path)
    stack = resources_stack(load_stage(stage, config_path).app_name, stage)
    declared = template.get("Parameters", {})
    values = {k: str(v.get("Default", "")) for k, v in declared.items()}
    values.update(parameters)
    cloudformation = session.client("cloudformation")
    cloudformation.create_stack(
        StackName=stack,
        TemplateBody=stack_body(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    description = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    if description["StackStatus"] != "CREATE_COMPLETE":
        raise ProvisionError(f"stack {stack} ended in {description['StackStatus']}")
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cloudformation.describe_stack_resources(StackName=stack)["StackResources"]
        if "LogicalResourceId" in r
    }
    done = Provisioned(
        stack=stack,
        template=template,
        parameters=values,
        physical=physical,
        outputs={o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])},
    )
    done.arns = _arns(session, done)
    _create_skipped(session, done)
    return done


def _arns(session: Any, done: Provisioned) -> dict[str, str]:
    """ARNs of what CloudFormation created, for Fn::GetAtt."""
    arns = {}
    for logical, physical in done.physical.items():
        kind = done.resources[logical]["Type"]
        if kind == "AWS::Kinesis::Stream":
            arns[logical] = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{physical}"
        elif kind == "AWS::S3::Bucket":
            arns[logical] = f"arn:aws:s3:::{physical}"
        elif kind == "AWS::SQS::Queue":
            arns[logical] = session.client("sqs").get_queue_attributes(
                QueueUrl=physical, AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
        elif kind == "AWS::SNS::Topic":
            arns[logical] = physical
        elif kind == "AWS::DynamoDB::Table":
            arns[logical] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{physical}"
        elif kind == "AWS::IAM::Role":
            arns[logical] = session.client("iam").get_role(RoleName=physical)["Role"]["Arn"]
        elif kind == "AWS::KMS::Key":
            # Not DescribeKey: moto keeps a CloudFormation key's policy as an
            # object where its own policy check expects text, and fails.
            arns[logical] = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{physical}"
    return arns


def _create_skipped(session: Any, done: Provisioned) -> None:
    """Create what moto's CloudFormation skipped, in dependency order."""
    skipped = {k: v for k, v in done.resources.items() if k not in done.physical}
    kinds = {v["Type"] for v in skipped.values()}
    unknown = sorted(kinds - set(EMULATED) - set(CREATED_HERE) - set(NOT_LOCAL))
    if unknown:
        raise ProvisionError(
            "the definitions use resource types the local endpoint does not provide: "
            + ", ".join(unknown)
        )
    glue = session.client("glue")
    athena = session.client("athena")
    by_type = {
        kind: {k: v for k, v in skipped.items() if v["Type"] == kind} for kind in CREATED_HERE
    }
    for logical, resource in by_type["AWS::Glue::Database"].items():
        properties = done.resolve(resource["Properties"])
        glue.create_database(DatabaseInput=properties["DatabaseInput"])
        done.physical[logical] = properties["DatabaseInput"]["Name"]
    for logical, resource in by_type["AWS::Glue::Table"].items():
        properties = done.resolve(resource["Properties"])
        glue.create_table(
            DatabaseName=properties["DatabaseName"], TableInput=properties["TableInput"]
        )
        done.physical[logical] = properties["TableInput"]["Name"]
    for logical, resource in by_type["AWS::Athena::WorkGroup"].items():
        properties = done.resolve(resource["Properties"])
        athena.create_work_group(
            Name=properties["Name"],
            Configuration=_athena_configuration(properties.get("WorkGroupConfiguration", {})),
            Description=properties.get("Description", ""),
        )
        done.physical[logical] = properties["Name"]
    for logical, resource in by_type["AWS::Athena::NamedQuery"].items():
        properties = done.resolve(resource["Properties"])
        done.physical[logical] = athena.create_named_query(
            Name=properties["Name"],
            Database=properties["Database"],
            QueryString=properties["QueryString"],
            WorkGroup=properties.get("WorkGroup", "primary"),
            Description=properties.get("Description", properties["Name"]),
        )["NamedQueryId"]
    _create_alarms(session, done, by_type["AWS::CloudWatch::Alarm"])


def _create_alarms(session: Any, done: Provisioned, alarms: Mapping[str, Any]) -> None:
    # The API takes the alarm's CloudFormation properties as they are.
    cloudwatch = session.client("cloudwatch")
    for logical, resource in alarms.items():
        properties = done.resolve(resource["Properties"])
        cloudwatch.put_metric_alarm(**properties)
        done.physical[logical] = properties["AlarmName"]


def _athena_configuration(configuration: Mapping[str, Any]) -> dict[str, Any]:
    # The API spells a few keys differently from CloudFormation.
    result = dict(configuration)
    if "EnforceWorkGroupConfiguration" in result:
        result["EnforceWorkGroupConfiguration"] = bool(result["EnforceWorkGroupConfiguration"])
    return result
