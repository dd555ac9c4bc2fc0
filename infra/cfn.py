"""Small building blocks of CloudFormation templates, shared by the parts of infra."""

from __future__ import annotations

from typing import Any


def ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def get_att(name: str, attribute: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [name, attribute]}


def sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def deny_without_tls(actions: str | list[str], resource: Any) -> dict[str, Any]:
    """A resource policy statement refusing any request not made over TLS."""
    return {
        "Sid": "DenyWithoutTls",
        "Effect": "Deny",
        "Principal": "*",
        "Action": actions,
        "Resource": resource,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
