"""The functions' Lambda runtime and architecture: a stage setting, never the interpreter's."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from infra.cli import main
from infra.errors import InfraError
from infra.runtimes import DEFAULT_ARCHITECTURE, DEFAULT_RUNTIME, Platform, check_platform
from infra.stages import load_platform

TODAY = date(2026, 12, 7)


def set_config(config_path: Path, top: dict[str, Any], stage: dict[str, Any]) -> None:
    config = json.loads(config_path.read_text())
    config.update(top)
    config["stages"]["dev"].update(stage)
    config_path.write_text(json.dumps(config))


def test_the_project_deploys_on_a_supported_runtime_and_graviton_whatever_runs_chalice() -> None:
    platform = load_platform("dev", today=TODAY)
    assert platform == Platform(runtime=DEFAULT_RUNTIME, architecture="arm64")
    assert platform.runtime != f"python{sys.version_info[0]}.{sys.version_info[1]}"


def test_every_function_of_the_packaged_template_says_so(sam: dict[str, Any]) -> None:
    functions = {
        logical: resource["Properties"]
        for logical, resource in sam["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert len(functions) == 7
    for logical, properties in functions.items():
        assert properties["Runtime"] == DEFAULT_RUNTIME, logical
        assert properties["Architectures"] == [DEFAULT_ARCHITECTURE], logical


def test_a_stage_chooses_its_own_and_the_stage_wins(config_path: Path) -> None:
    set_config(
        config_path,
        {"lambda_runtime": "python3.12"},
        {"lambda_runtime": "python3.13", "lambda_architecture": "x86_64"},
    )
    assert load_platform("dev", config_path, today=TODAY) == Platform("python3.13", "x86_64")
    assert load_platform("prod", config_path, today=TODAY) == Platform("python3.12", "arm64")


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            {"lambda_runtime": "python3.11"},
            "stage 'dev': lambda_runtime 'python3.11' is deprecated by Lambda since 2026-06-30",
        ),
        (
            {"lambda_runtime": "python3.9"},
            "stage 'dev': lambda_runtime 'python3.9' is deprecated by Lambda since 2025-12-15",
        ),
        (
            {"lambda_runtime": "python3.15"},
            "stage 'dev': lambda_runtime 'python3.15' is not a Lambda Python runtime",
        ),
        (
            {"lambda_runtime": 3.14},
            "stage 'dev': lambda_runtime '3.14' is not a Lambda Python runtime",
        ),
        (
            {"lambda_architecture": "arm"},
            "stage 'dev': lambda_architecture 'arm' is not one of arm64, x86_64",
        ),
    ],
)
def test_a_runtime_lambda_does_not_run_is_refused_by_name(
    config_path: Path, setting: dict[str, Any], message: str
) -> None:
    set_config(config_path, {}, setting)
    with pytest.raises(InfraError) as refused:
        load_platform("dev", config_path, today=TODAY)
    assert str(refused.value).startswith(message)
    if "runtime" in message:
        assert str(refused.value).endswith("choose one of python3.14, python3.13, python3.12")


def test_a_runtime_is_refused_from_the_day_lambda_deprecates_it(config_path: Path) -> None:
    set_config(config_path, {}, {"lambda_runtime": "python3.12"})
    assert load_platform("dev", config_path, today=date(2028, 10, 30)).runtime == "python3.12"
    with pytest.raises(InfraError, match="deprecated by Lambda since 2028-10-31"):
        load_platform("dev", config_path, today=date(2028, 10, 31))


def test_a_packaged_template_on_another_platform_is_an_error() -> None:
    template = {
        "Resources": {
            "Aggregate": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"Runtime": "python3.11"},
            },
            "Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {}},
        }
    }
    with pytest.raises(InfraError, match=r"but Aggregate \(python3.11 on x86_64\) do not"):
        check_platform(template, Platform(DEFAULT_RUNTIME, DEFAULT_ARCHITECTURE))


def test_the_platform_command_prints_runtime_and_architecture(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["platform", "--stage", "dev"]) == 0
    assert capsys.readouterr().out == f"{DEFAULT_RUNTIME} {DEFAULT_ARCHITECTURE}\n"
