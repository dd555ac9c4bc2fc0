"""The Lambda runtime and architecture the functions deploy with, whatever Python runs Chalice.

Chalice takes the runtime from the interpreter it runs under (3.11 on the
machines this project is built on), and `python3.11` runs on Amazon Linux 2,
whose end of life was 2026-06-30: deployed as Chalice would, every function
would get a deprecated runtime, or a refused create. So the runtime is a
stage setting, `lambda_runtime` in `.chalice/config.json` (top level or per
stage, the stage's winning, as with Chalice's own keys), and infra runs
Chalice with it (`infra.chalice_main`). The architecture is Chalice's own
`lambda_architecture`; the package is pure Python, so `arm64` (Graviton,
about 20 % cheaper per GB-second) is the default.

A runtime Lambda lists as deprecated on the day of packaging or deploying is
refused before anything is built or sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from infra.errors import InfraError

DEFAULT_RUNTIME = "python3.14"
DEFAULT_ARCHITECTURE = "arm64"
ARCHITECTURES = ("arm64", "x86_64")

# Lambda's Python runtimes and the day each is (or was) deprecated. 3.7 to 3.9
# and 3.12 to 3.14 as Lambda's runtime table gives them; 3.10 and 3.11 run on
# Amazon Linux 2, and AWS's AgentCore runtime table (which follows Lambda's
# deprecation policy) deprecates them with it, on 2026-06-30, earlier than
# Lambda's own table did: the earlier date is taken.
DEPRECATED_ON = {
    "python3.7": date(2023, 12, 4),
    "python3.8": date(2024, 10, 14),
    "python3.9": date(2025, 12, 15),
    "python3.10": date(2026, 6, 30),
    "python3.11": date(2026, 6, 30),
    "python3.12": date(2028, 10, 31),
    "python3.13": date(2029, 6, 30),
    "python3.14": date(2029, 6, 30),
}


@dataclass(frozen=True)
class Platform:
    """What Lambda runs a stage's functions on."""

    runtime: str  # e.g. "python3.14"
    architecture: str  # "arm64" or "x86_64"

    @property
    def describe(self) -> str:
        return f"{self.runtime} on {self.architecture}"


def stage_platform(
    stage: str,
    config: Mapping[str, Any],
    settings: Mapping[str, Any],
    *,
    today: date,
) -> Platform:
    """The platform of `stage`, from the config's top level and the stage's `settings`.

    InfraError naming the stage and the key if a value is not one Lambda runs
    today: an unknown runtime or architecture, or a deprecated runtime.
    """
    runtime = _setting("lambda_runtime", config, settings, DEFAULT_RUNTIME)
    architecture = _setting("lambda_architecture", config, settings, DEFAULT_ARCHITECTURE)
    where = f"stage {stage!r}"
    if runtime not in DEPRECATED_ON:
        raise InfraError(
            f"{where}: lambda_runtime {runtime!r} is not a Lambda Python runtime; "
            f"choose one of {', '.join(supported(today))}"
        )
    if DEPRECATED_ON[runtime] <= today:
        raise InfraError(
            f"{where}: lambda_runtime {runtime!r} is deprecated by Lambda since "
            f"{DEPRECATED_ON[runtime].isoformat()} (creates and then updates are refused); "
            f"choose one of {', '.join(supported(today))}"
        )
    if architecture not in ARCHITECTURES:
        raise InfraError(
            f"{where}: lambda_architecture {architecture!r} is not one of "
            f"{', '.join(ARCHITECTURES)}"
        )
    return Platform(runtime=runtime, architecture=architecture)


def supported(today: date) -> list[str]:
    """The Python runtimes Lambda has not deprecated by `today`, newest first."""
    return sorted(
        (runtime for runtime, day in DEPRECATED_ON.items() if day > today),
        key=lambda runtime: tuple(int(part) for part in runtime[len("python") :].split(".")),
        reverse=True,
    )


def _setting(
    key: str, config: Mapping[str, Any], settings: Mapping[str, Any], default: str
) -> Any:
    value = settings.get(key, config.get(key, default))
    return value if isinstance(value, str) else repr(value)


def check_platform(template: Mapping[str, Any], platform: Platform) -> None:
    """InfraError unless every function of a packaged (SAM) template runs on `platform`."""
    wrong = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource.get("Properties", {})
        found = Platform(
            runtime=str(properties.get("Runtime")),
            architecture=",".join(properties.get("Architectures") or ["x86_64"]),
        )
        if found != platform:
            wrong.append(f"{logical_id} ({found.describe})")
    if wrong:
        raise InfraError(
            f"the packaged functions should run on {platform.describe}, but "
            + ", ".join(wrong)
            + " do not: has Chalice changed how it sets the runtime?"
        )
