"""`python -m infra`: template, package, deploy, destroy, policies.

Each command turns its arguments into one call of a plain function; AWS
clients and the Chalice runner are made here, at the edge. Progress goes to
stderr, failures end in a one-line `error: ...` and exit status 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from infra import deploy
from infra.chalice_cli import chalice_runner, region
from infra.errors import InfraError
from infra.policies import policy_files, write_policies
from infra.stages import CONFIG_PATH, PROJECT_DIR
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

    destroy = command("destroy", "delete a stage: chalice delete, then the supporting stack")
    destroy.add_argument("--stage", required=True)
    destroy.set_defaults(run=_destroy)

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
    out = Path(args.out).resolve() / args.stage
    out.mkdir(parents=True, exist_ok=True)
    merge = out / "merge-template.json"
    merge.write_text(render(merge_template(args.stage)))
    echo(f"wrote {merge}")
    package = out / "package"
    chalice_runner(PROJECT_DIR)(
        ["package", "--stage", args.stage, "--merge-template", str(merge), str(package)]
    )
    echo(f"wrote {package / 'sam.json'}")


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
        chalice=chalice_runner(PROJECT_DIR),
        alert_email=args.alert_email,
        operations_email=args.operations_email,
        fare_email=args.fare_email,
        config_path=CONFIG_PATH,
        echo=echo,
        templates=_template_store(),
    )


def _destroy(args: argparse.Namespace) -> None:
    cloudformation, _, apigateway = _clients()
    deploy.destroy(
        args.stage,
        cloudformation=cloudformation,
        apigateway=apigateway,
        chalice=chalice_runner(PROJECT_DIR),
        config_path=CONFIG_PATH,
        echo=echo,
    )


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
