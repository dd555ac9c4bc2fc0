"""The roles the local run's functions act as, made on the embedded endpoint as the template
deploys them, and sessions of them assumed through STS.

Each function gets the role Chalice would make (`<app>-<stage>-<function>`,
trusted by Lambda) with the very policy the packaged template gives it
(`infra.template.role_overrides`: exact ARNs, worked out for the endpoint's
account and region). A session of it, assumed through STS with the
account's own credentials, is what the function's code, its event-source
mapping's reads and its on-failure destination use, as Lambda uses the
execution role for all three; the endpoint holds the session to the policy
(`local.moto_iam`). The Firehose emulation assumes the delivery role the
supporting stack made, as Firehose does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from infra.stages import CONFIG_PATH, load_stage
from infra.template import role_overrides
from infra.triggers import function_logical_ids, role_logical_id
from local.endpoint import REGION
from local.provision import Provisioned

# Long enough for any local run (the endpoint does not expire sessions anyway).
SESSION_SECONDS = 12 * 3600
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


@dataclass(frozen=True)
class RoleSession:
    """Temporary credentials of a role, as Lambda hands them to a function."""

    role_arn: str
    access_key_id: str
    secret_access_key: str
    session_token: str

    def environment(self) -> dict[str, str]:
        """The variables Lambda sets in a function's environment for its role."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }

    def session(self) -> Any:
        """A boto3 session acting as the role (the endpoint comes from AWS_ENDPOINT_URL)."""
        return boto3.session.Session(
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            aws_session_token=self.session_token,
            region_name=REGION,
        )


def function_policies(
    provisioned: Provisioned, stage: str, config_path: Path = CONFIG_PATH
) -> dict[str, dict[str, Any]]:
    """Function name -> its role's policy document, as the packaged template deploys it,
    with the endpoint's account, region and resources in place of the references."""
    overrides = role_overrides(stage, config_path)
    return {
        function: provisioned.resolve(
            overrides[role_logical_id(function)]["Properties"]["Policies"][0]["PolicyDocument"]
        )
        for function in function_logical_ids()
    }


def role_name(app_name: str, stage: str, function: str) -> str:
    """The name `chalice deploy` gives the role of `function`."""
    return f"{app_name}-{stage}-{function}"


def function_roles(
    session: Any,
    provisioned: Provisioned,
    stage: str,
    config_path: Path = CONFIG_PATH,
) -> dict[str, RoleSession]:
    """Function name -> a session of its own role, made on the endpoint `session` talks to."""
    app_name = load_stage(stage, config_path).app_name
    return {
        function: make_role(
            session, role_name(app_name, stage, function), document, session_name=function
        )
        for function, document in function_policies(provisioned, stage, config_path).items()
    }


def make_role(
    session: Any, name: str, document: Mapping[str, Any], *, session_name: str
) -> RoleSession:
    """Role `name` trusted by Lambda, with `document` as its one policy (replacing any it
    had), and a session of it."""
    iam = session.client("iam")
    try:
        arn = iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST),
            MaxSessionDuration=SESSION_SECONDS,
        )["Role"]["Arn"]
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") != "EntityAlreadyExists":
            raise
        arn = iam.get_role(RoleName=name)["Role"]["Arn"]
    iam.put_role_policy(
        RoleName=name, PolicyName=f"{name}-policy", PolicyDocument=json.dumps(document)
    )
    return assume(session, arn, session_name)


def assume(session: Any, role_arn: str, session_name: str) -> RoleSession:
    """A session of `role_arn`, assumed with the credentials of `session`."""
    credentials = session.client("sts").assume_role(
        RoleArn=role_arn, RoleSessionName=session_name, DurationSeconds=SESSION_SECONDS
    )["Credentials"]
    return RoleSession(
        role_arn=role_arn,
        access_key_id=credentials["AccessKeyId"],
        secret_access_key=credentials["SecretAccessKey"],
        session_token=credentials["SessionToken"],
    )
