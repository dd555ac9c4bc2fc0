"""Way 1: the packaged template as one CloudFormation stack, through the stock AWS CLI.

`make deploy-stack` runs what docs/DEPLOYING.md tells a user to type: package the
app (`python -m infra package`), then the AWS CLI's `cloudformation package`
(the deployment package to S3, its `CodeUri` rewritten) and
`cloudformation deploy` (a change set, executed, waited for). The packaged
template is about twice the 51,200 bytes a template may have inline, and the
AWS CLI refuses such a template unless it is given `--s3-bucket` to upload it
to: the deploy bucket, which also takes the package, under `packages/`
(kept: a rollback may need a function's earlier code). It is the bucket the
`chalice deploy` path sends large templates through (`infra.template_store`):
private, encrypted, one per account and region; or one of the user's own
(`BUCKET=`).

The AWS CLI is run as a program, as the user would run it, each command
printed before it runs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from infra import names as infra_names
from infra.errors import InfraError
from infra.template_store import PACKAGES

Echo = Callable[[str], None]
# Runs `aws <arguments>`; raises InfraError if it fails.
AwsRunner = Callable[[Sequence[str]], None]

CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND")


@dataclass(frozen=True)
class StackFiles:
    """Where a stage's way-1 files are, relative to the project (as docs/DEPLOYING.md has them)."""

    stage: str
    out: Path = Path("build")

    @property
    def template(self) -> Path:
        return self.out / self.stage / "package" / "sam.json"

    @property
    def packaged(self) -> Path:
        return self.out / self.stage / "packaged.yaml"


def commands(
    files: StackFiles,
    stack: str,
    bucket: str,
    parameters: Mapping[str, str],
) -> list[list[str]]:
    """The AWS CLI commands of way 1, in order (arguments after `aws`)."""
    overrides = [f"{name}={value}" for name, value in parameters.items()]
    prefix = f"{PACKAGES}{stack}"
    return [
        [
            "cloudformation",
            "package",
            "--template-file",
            str(files.template),
            "--s3-bucket",
            bucket,
            "--s3-prefix",
            prefix,
            "--output-template-file",
            str(files.packaged),
        ],
        [
            "cloudformation",
            "deploy",
            "--template-file",
            str(files.packaged),
            "--stack-name",
            stack,
            "--s3-bucket",
            bucket,
            "--s3-prefix",
            prefix,
            "--capabilities",
            *CAPABILITIES,
            "--no-fail-on-empty-changeset",
            *(["--parameter-overrides", *overrides] if overrides else []),
        ],
        [
            "cloudformation",
            "describe-stacks",
            "--stack-name",
            stack,
            "--query",
            "Stacks[0].Outputs[].[OutputKey,OutputValue]",
            "--output",
            "text",
        ],
    ]


def deploy_stack(
    stage: str,
    app_name: str,
    *,
    bucket: str,
    parameters: Mapping[str, str],
    aws: AwsRunner,
    echo: Echo,
    files: StackFiles | None = None,
) -> str:
    """Deploy the packaged template of `stage` (already built) as its stack; its name."""
    chosen = files or StackFiles(stage)
    stack = infra_names.package_stack(app_name, stage)
    if not chosen.template.exists():
        raise InfraError(f"{chosen.template} not found: run `make package STAGE={stage}` first")
    for number, arguments in enumerate(commands(chosen, stack, bucket, parameters), start=1):
        echo(f"[{number}/3] aws {' '.join(_quoted(a) for a in arguments)}")
        aws(arguments)
    echo(f"deployed stack {stack} (way 1); its outputs are above")
    return stack


def aws_runner(project_dir: Path) -> AwsRunner:
    """A runner of the stock AWS CLI (the one beside this Python, else on PATH), in
    `project_dir` so that the relative paths of `commands` hold; its output goes to stderr."""
    beside = Path(sys.executable).with_name("aws")
    program = str(beside) if beside.exists() else shutil.which("aws")
    if program is None:
        raise InfraError("the AWS CLI (aws) is not installed; run `make venv`")

    def run(arguments: Sequence[str]) -> None:
        result = subprocess.run(
            [program, *arguments], cwd=project_dir, stdout=sys.stderr, check=False
        )
        if result.returncode != 0:
            raise InfraError(
                f"`aws {' '.join(arguments[:2])}` failed (exit {result.returncode}); "
                "its output is above"
            )

    return run


def _quoted(argument: str) -> str:
    return f'"{argument}"' if any(c in argument for c in " []*?") else argument
