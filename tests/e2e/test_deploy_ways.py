"""Both ways to deploy, run as docs/DEPLOYING.md writes them, against the embedded endpoint.

Each test works in a copy of the project (tests/project_copy.py), so what
the deploys record and build stays out of this checkout. The endpoint is
moto's server as `make up` runs it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.names import package_stack
from infra.runtimes import DEFAULT_ARCHITECTURE, DEFAULT_RUNTIME
from infra.stages import PROJECT_DIR
from infra.template_store import BODY_LIMIT
from local.endpoint import Endpoint, client_environment, free_port
from tests.project_copy import copy_project

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = Endpoint(free_port(), log_path=tmp_path_factory.mktemp("endpoint") / "log")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(tmp_path_factory.mktemp("project"))


def shell(script: str, project: Path, endpoint: str) -> subprocess.CompletedProcess[str]:
    """`script` in bash in `project`, with the endpoint's settings and the venv's `aws`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(client_environment(endpoint))
    env["PATH"] = f"{PROJECT_DIR / '.venv' / 'bin'}{os.pathsep}{env['PATH']}"
    return subprocess.run(
        ["bash", "-c", script],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def readme_blocks(section: str) -> list[str]:
    """The bash blocks of a section of docs/DEPLOYING.md, as written."""
    text = (PROJECT_DIR / "docs" / "DEPLOYING.md").read_text()
    start = text.index(section)
    end = text.index("\n## ", start + len(section))
    return re.findall(r"```bash\n(.*?)```", text[start:end], flags=re.DOTALL)


def client(endpoint: str, service: str) -> Any:
    environment = client_environment(endpoint)
    return boto3.session.Session(
        aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
        region_name=environment["AWS_DEFAULT_REGION"],
    ).client(service, endpoint_url=endpoint)


def test_make_deploy_creates_every_function_on_the_stages_runtime_and_architecture(
    project: Path, endpoint: str
) -> None:
    (command,) = readme_blocks("## Way 2: `chalice deploy`")
    lambda_client = client(endpoint, "lambda")

    def platforms() -> set[tuple[str, str]]:
        functions = lambda_client.list_functions()["Functions"]
        assert len(functions) == 7
        return {(f["Runtime"], *f["Architectures"]) for f in functions}

    first = shell(command, project, endpoint)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "deployed stage dev" in first.stderr
    # As created: CreateFunction carried the stage's runtime, not this interpreter's.
    assert platforms() == {(DEFAULT_RUNTIME, DEFAULT_ARCHITECTURE)}
    # Again: Chalice now updates the functions, and sends the runtime once more.
    again = shell(command, project, endpoint)
    assert again.returncode == 0, again.stdout + again.stderr
    assert platforms() == {(DEFAULT_RUNTIME, DEFAULT_ARCHITECTURE)}


def test_way_one_as_written_gets_past_every_check_the_aws_cli_makes_itself(
    project: Path, endpoint: str
) -> None:
    """The make target and the hand-written commands both reach CloudFormation's
    CreateChangeSet with the template and the package uploaded.

    moto cannot go further: it reads an uploaded template back only through AWS's
    own S3 URL forms, not the endpoint's, and it has no SAM transform to run on it.
    """
    target, by_hand = readme_blocks("## Way 1: one CloudFormation stack")
    s3 = client(endpoint, "s3")

    made = shell(target, project, endpoint)
    output = made.stdout + made.stderr
    assert "when calling the CreateChangeSet operation" in output, output
    printed = [line.split("] ", 1)[1] for line in output.splitlines() if "/3] aws " in line]
    assert [p.split()[:3] for p in printed] == [
        ["aws", "cloudformation", "package"],
        ["aws", "cloudformation", "deploy"],
    ]

    packaged = project / "build" / "dev" / "packaged.yaml"
    packaged.unlink()
    typed = shell(by_hand, project, endpoint)
    output = typed.stdout + typed.stderr
    assert "when calling the CreateChangeSet operation" in output, output
    bucket = shell("make -s deploy-bucket", project, endpoint).stdout.strip()
    assert f"s3://{bucket}/packages/wildrydes-dev/" in packaged.read_text()  # its CodeUri
    uploaded = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert any(key.endswith(".template") for key in uploaded)  # the template itself
    # What the target printed is what the page tells a user to type.
    for command in printed:
        assert _normalised(command.replace(bucket, '"$BUCKET"')) in _normalised(by_hand)


def test_without_a_bucket_the_aws_cli_refuses_the_template_itself(
    project: Path, endpoint: str
) -> None:
    """What way 1 did before: the AWS CLI stops it before any call."""
    template = project / "build" / "dev" / "packaged.yaml"
    if not template.exists():
        built = shell("make package STAGE=dev", project, endpoint)
        assert built.returncode == 0, built.stderr
        template = project / "build" / "dev" / "package" / "sam.json"
    assert template.stat().st_size > BODY_LIMIT
    refused = shell(
        f"aws cloudformation deploy --template-file {template} "
        f"--stack-name {package_stack('wildrydes', 'dev')} "
        "--capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND",
        project,
        endpoint,
    )
    assert refused.returncode != 0
    assert "51,200 bytes must be deployed via an S3 Bucket" in refused.stderr


def test_make_package_refuses_a_deprecated_runtime_before_building_anything(
    tmp_path: Path, endpoint: str
) -> None:
    project = copy_project(tmp_path)
    config = json.loads((project / ".chalice" / "config.json").read_text())
    config["stages"]["dev"]["lambda_runtime"] = "python3.11"
    (project / ".chalice" / "config.json").write_text(json.dumps(config))

    refused = shell("make package STAGE=dev", project, endpoint)
    assert refused.returncode != 0
    assert (
        "error: stage 'dev': lambda_runtime 'python3.11' is deprecated by Lambda since "
        "2026-06-30 (creates and then updates are refused); choose one of python3.14"
    ) in refused.stderr
    assert not (project / "build").exists()


def _normalised(command: str) -> str:
    """A shell command on one line, single spaces, continuations joined."""
    return " ".join(command.replace("\\\n", " ").split())


def test_the_deploy_bucket_is_private_and_encrypted(project: Path, endpoint: str) -> None:
    bucket = shell("make -s deploy-bucket", project, endpoint).stdout.strip()
    s3 = client(endpoint, "s3")
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert json.dumps(rules).count("AES256") == 1
