"""The committed `.chalice/policy-*.json` are exactly what infra renders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.policies import policies, policy_files, template_arns, write_policies
from infra.stages import PROJECT_DIR


def test_committed_policy_files_match_the_rendered_ones() -> None:
    files = policy_files()
    assert {path.name for path in files} == {
        "policy-aggregate.json",
        "policy-persist.json",
        "policy-vitals.json",
        "policy-aggregate-trips.json",
        "policy-persist-insights.json",
        "policy-api.json",
        "policy-report.json",
    }
    for path, text in files.items():
        assert path.read_text() == text, f"{path.name} drifted: run python -m infra policies"


def test_no_policy_names_an_account_or_region() -> None:
    for policy in policies().values():
        for statement in policy["Statement"]:
            resources = statement["Resource"]
            for resource in [resources] if isinstance(resources, str) else resources:
                assert resource == "*" or resource.startswith("arn:*:")
                assert "us-east-1" not in resource
                assert not any(part.isdigit() for part in resource.split(":"))


def test_the_report_reads_only_the_raw_archive_and_writes_only_reports() -> None:
    statements = {s["Sid"]: s for s in policies()["report"]["Statement"]}
    assert statements["ReadArchive"]["Action"] == "s3:GetObject"
    assert statements["ReadArchive"]["Resource"] == "arn:*:s3:::wildrydes-archive-*/raw/*"
    assert statements["WriteReports"]["Action"] == "s3:PutObject"
    assert statements["WriteReports"]["Resource"] == "arn:*:s3:::wildrydes-archive-*/reports/*"
    listing = statements["ListArchive"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["raw/*"]}}
    writes = [
        s
        for s in statements.values()
        if any(
            a.startswith(("dynamodb:Put", "dynamodb:Update", "dynamodb:Batch"))
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        )
    ]
    assert writes == []


def test_writing_restores_a_drifted_file(config_path: Path) -> None:
    for path, text in policy_files().items():
        (config_path.parent / path.name).write_text(text)
    drifted = config_path.parent / "policy-vitals.json"
    drifted.write_text(json.dumps({"Version": "2012-10-17", "Statement": []}))

    assert write_policies(config_path) == [drifted]
    assert json.loads(drifted.read_text()) == policies()["vitals"]
    assert write_policies(config_path) == []


@pytest.mark.slow
def test_the_check_command_passes_on_the_committed_files() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "infra", "policies", "--check"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_files_name_the_key_by_its_alias_as_its_id_is_generated() -> None:
    for function, policy in policies().items():
        (key,) = [s for s in policy["Statement"] if s["Sid"] == "UseDataKey"]
        assert key["Resource"] == "arn:*:kms:*:*:key/*", function
        assert key["Condition"] == {
            "ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/wildrydes"}
        }


def test_the_files_name_each_stages_log_group_of_the_function() -> None:
    (logs,) = [s for s in policies()["persist"]["Statement"] if s["Sid"] == "Logs"]
    assert logs["Resource"] == [
        f"arn:*:logs:*:*:log-group:/aws/lambda/wildrydes-{stage}-persist:*"
        for stage in ("dev", "local", "prod")
    ]


def test_the_packaged_roles_grant_what_the_files_grant() -> None:
    def actions(policy: dict[str, Any]) -> dict[str, Any]:
        return {s["Sid"]: s["Action"] for s in policy["Statement"]}

    exact = policies(template_arns("wildrydes", "dev"))
    for function, policy in policies().items():
        assert actions(exact[function]) == actions(policy), function
