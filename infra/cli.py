"""`python -m infra`: template, package, deploy, deploy-stack, deploy-bucket, destroy, platform,
policies.

Each command turns its arguments into one call of a plain function; AWS
clients and the Chalice runner are made here, at the edge. Progress goes to
stderr, failures end in a one-line `error: ...` and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from infra import deploy, stack_deploy
from infra.chalice_cli import chalice_runner, region
from infra.errors import InfraError
from infra.monitoring import OPERATIONS_EMAIL
from infra.policies import policy_files, write_policies
from infra.runtimes import check_platform
from infra.stack_deploy import StackFiles
from infra.stages import CONFIG_PATH, PROJECT_DIR, check_deployable, load_platform, load_stage
from infra.system import ALERT_EMAIL, FARE_EMAIL, SHARD_COUNT
from infra.template import merge_template, render
from infra.template_store import TemplateStore


def echo(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        args.run(args)
    except InfraError as err:
        echo(f"error: {err}")
        return 1
    except (ClientError, BotoCoreError) as err:
        echo(f"error: AWS: {err}")
        return 1
    except KeyboardInterrupt:
        echo("interrupted")
        return 130
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m infra", description="Wild Rydes infrastructure."
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help, description=help)

    template = command("template", "write the merge template of a stage as JSON")
    template.add_argument("--stage", required=True)
    template.add_argument("-o", "--output", default="-", help="file to write (default stdout)")
    template.set_defaults(run=_template)

    package = command(
        "package", "build one deployable SAM template: chalice package + the merge template"
    )
    package.add_argument("--stage", required=True)
    package.add_argument(
        "--out", default="build", help="output directory; the stage's files go in OUT/STAGE/"
    )
    package.set_defaults(run=_package)

    deploy_ = command(
        "deploy", "deploy a stage: supporting stack, chalice deploy, event-source settings"
    )
    deploy_.add_argument("--stage", required=True)
    deploy_.add_argument(
        "--alert-email", help="subscribe this address to vitals alerts (kept on later deploys)"
    )
    deploy_.add_argument(
        "--operations-email",
        help="subscribe this address to the pipeline's alarms (kept on later deploys)",
    )
    deploy_.add_argument(
        "--fare-email",
        help="subscribe this address to taxi fare alerts (kept on later deploys)",
    )
    deploy_.set_defaults(run=_deploy)

    stack = command(
        "deploy-stack",
        "deploy a stage as one stack: package, then the AWS CLI's cloudformation package "
        "and deploy through the deploy bucket",
    )
    stack.add_argument("--stage", required=True)
    stack.add_argument(
        "--bucket",
        help="the S3 bucket for the template and package (default: the account's deploy "
        "bucket, wildrydes-templates-<account>-<region>, made on first use)",
    )
    stack.add_argument("--alert-email", help="AlertEmail: vitals alerts (kept when not given)")
    stack.add_argument(
        "--operations-email", help="OperationsEmail: the alarms (kept when not given)"
    )
    stack.add_argument("--fare-email", help="FareAlertEmail: fare alerts (kept when not given)")
    stack.add_argument("--shard-count", help="ShardCount of the raw stream (kept when not given)")
    stack.set_defaults(run=_deploy_stack)

    bucket = command(
        "deploy-bucket",
        "print the account's deploy bucket (templates and packages), made on first use",
    )
    bucket.set_defaults(run=_deploy_bucket)

    destroy = command("destroy", "delete a stage: chalice delete, then the supporting stack")
    destroy.add_argument("--stage", required=True)
    destroy.set_defaults(run=_destroy)

    platform = command(
        "platform", "print the Lambda runtime and architecture of a stage's functions"
    )
    platform.add_argument("--stage", required=True)
    platform.set_defaults(run=_platform)

    policies = command("policies", "rewrite .chalice/policy-*.json from infra/policies.py")
    policies.add_argument(
        "--check", action="store_true", help="only report files that are out of date (exit 1)"
    )
    policies.set_defaults(run=_policies)
    return parser


def _template(args: argparse.Namespace) -> None:
    text = render(merge_template(args.stage))
    if args.output == "-":
        sys.stdout.write(text)
        return
    path = Path(args.output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    echo(f"wrote {path}")


def _package(args: argparse.Namespace) -> None:
    package_stage(args.stage, Path(args.out))


def package_stage(stage: str, out_dir: Path) -> Path:
    """`chalice package` of `stage` with its merge template, into OUT/STAGE/; sam.json's path."""
    check_deployable(load_stage(stage))
    platform = load_platform(stage)  # a deprecated runtime stops here, before any build
    out = out_dir.resolve() / stage
    out.mkdir(parents=True, exist_ok=True)
    merge = out / "merge-template.json"
    merge.write_text(render(merge_template(stage)))
    echo(f"wrote {merge}")
    package = out / "package"
    chalice_runner(platform, PROJECT_DIR)(
        ["package", "--stage", stage, "--merge-template", str(merge), str(package)]
    )
    check_platform(json.loads((package / "sam.json").read_text()), platform)
    echo(f"wrote {package / 'sam.json'}: every function on {platform.describe}")
    return package / "sam.json"


def _clients() -> tuple[Any, Any, Any]:
    session = boto3.session.Session(region_name=region())
    return (
        session.client("cloudformation"),
        session.client("lambda"),
        session.client("apigateway"),
    )


def _template_store() -> TemplateStore:
    session = boto3.session.Session(region_name=region())
    account = session.client("sts").get_caller_identity()["Account"]
    return TemplateStore(session.client("s3"), account, session.region_name)


def _deploy(args: argparse.Namespace) -> None:
    cloudformation, lambda_client, apigateway = _clients()
    deploy.deploy(
        args.stage,
        cloudformation=cloudformation,
        lambda_client=lambda_client,
        apigateway=apigateway,
        chalice=chalice_runner(load_platform(args.stage), PROJECT_DIR),
        alert_email=args.alert_email,
        operations_email=args.operations_email,
        fare_email=args.fare_email,
        config_path=CONFIG_PATH,
        echo=echo,
        templates=_template_store(),
    )


def _deploy_stack(args: argparse.Namespace) -> None:
    package_stage(args.stage, PROJECT_DIR / StackFiles(args.stage).out)
    bucket = args.bucket or _template_store().ensure_bucket()
    echo(f"deploy bucket: {bucket}")
    given = {
        ALERT_EMAIL: args.alert_email,
        OPERATIONS_EMAIL: args.operations_email,
        FARE_EMAIL: args.fare_email,
        SHARD_COUNT: args.shard_count,
    }
    stack_deploy.deploy_stack(
        args.stage,
        load_stage(args.stage).app_name,
        bucket=bucket,
        parameters={name: value for name, value in given.items() if value is not None},
        aws=stack_deploy.aws_runner(PROJECT_DIR),
        echo=echo,
    )


def _deploy_bucket(args: argparse.Namespace) -> None:
    print(_template_store().ensure_bucket())


def _destroy(args: argparse.Namespace) -> None:
    cloudformation, _, apigateway = _clients()
    # Deleting needs no runtime check: a stage on a runtime deprecated since can still go.
    platform = load_platform(args.stage, today=date.min)
    deploy.destroy(
        args.stage,
        cloudformation=cloudformation,
        apigateway=apigateway,
        chalice=chalice_runner(platform, PROJECT_DIR),
        config_path=CONFIG_PATH,
        echo=echo,
    )


def _platform(args: argparse.Namespace) -> None:
    platform = load_platform(args.stage)
    print(platform.runtime, platform.architecture)


def _policies(args: argparse.Namespace) -> None:
    if args.check:
        stale = [path for path, text in policy_files().items() if path.read_text() != text]
        if stale:
            raise InfraError(
                "out of date (run python -m infra policies): "
                + ", ".join(path.name for path in stale)
            )
        echo("policies are up to date")
        return
    changed = write_policies()
    for path in changed:
        echo(f"wrote {path}")
    if not changed:
        echo("policies are up to date")
