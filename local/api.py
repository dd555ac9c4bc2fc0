"""`python -m local.api STAGE HOST PORT`: `chalice local`, on the endpoint and credentials given.

This is how `make up` and the tests run the API: Chalice's own `chalice local`
command, in this process, with the app's AWS clients made beforehand from
the endpoint and credentials this process was started with. Chalice would
otherwise give the app the stage's settings (the local stage names port
4566 and its dummy credentials, so that a user's bare `chalice local`
works), and a stack on another port, or the API function's own role, would
not be reached. Everything else is `chalice local --no-autoreload` as
Chalice documents it. The settings are the API function's as Chalice scopes
them for the stage (`api_settings`): Chalice puts them in the environment only
when it loads the app, after the services are made.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import boto3

from chalicelib import bootstrap
from chalicelib.adapters.clients import Clients
from chalicelib.settings import Settings, load_settings
from infra.names import API_HANDLER_FUNCTION
from infra.stages import CONFIG_PATH, function_variables


def api_settings(stage: str, config_path: Path = CONFIG_PATH) -> Settings:
    """The API function's settings: this process's environment with the variables the
    stage's config gives the function (top level, stage, function), as Chalice sets them."""
    variables = function_variables(stage, API_HANDLER_FUNCTION, config_path)
    return load_settings({**os.environ, **variables})


def main(argv: list[str]) -> None:
    stage, host, port = argv
    session = boto3.session.Session(
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=os.environ.get("AWS_SESSION_TOKEN") or None,
        region_name=os.environ["AWS_DEFAULT_REGION"],
    )
    clients = Clients(session, endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    bootstrap.start(api_settings(stage), clients)
    from chalice.cli import main as chalice

    sys.argv = ["chalice", "local", "--stage", stage, "--host", host, "--port", port]
    sys.argv.append("--no-autoreload")
    chalice()


if __name__ == "__main__":
    main(sys.argv[1:])
