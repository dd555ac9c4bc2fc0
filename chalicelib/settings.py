"""Deploy-time settings of the functions, read from the environment when asked for.

Stage differences live in `.chalice/config.json` (environment variables) and,
for values only known after the supporting resources exist, in what
`infra deploy` records there or the packaged template sets.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from chalicelib.errors import ConfigurationError
from chalicelib.observability import DEFAULT_NAMESPACE

DEFAULT_THRESHOLD = 100
# The freshness budget: a unicorn's stored status is less than this many seconds
# behind the newest reading vitals has read, unless its incident changes, which
# is written at once. One write per 5 s instead of one a second is most of the
# difference between a $2,500 and a $1,000 bill for 1,000 unicorns (docs/CAPACITY.md).
DEFAULT_STATUS_INTERVAL = 5.0

# The environment variables read here; infra sets the first four from the
# resources it creates (a Ref in the packaged template, recorded by `make deploy`).
ALERT_TOPIC_VARIABLE = "ALERT_TOPIC_ARN"
FARE_TOPIC_VARIABLE = "FARE_TOPIC_ARN"  # the taxi fare watch's topic
ARCHIVE_BUCKET_VARIABLE = "ARCHIVE_BUCKET"
API_URL_VARIABLE = "API_URL"
THRESHOLD_VARIABLE = "VITALS_THRESHOLD"
# Seconds between status writes of a unicorn that is not changing incident:
# 0 writes every batch (the freshest positions, five times the writes).
STATUS_INTERVAL_VARIABLE = "STATUS_INTERVAL"
LOG_LEVEL_VARIABLE = "LOG_LEVEL"
# How the functions write logs and metrics: JSON lines and embedded-metric-format
# lines by default in Lambda, plain text and no metrics elsewhere (tests, the
# local runtime, whose stdout is the demo's output).
LOG_FORMAT_VARIABLE = "LOG_FORMAT"
METRICS_VARIABLE = "METRICS"
METRICS_NAMESPACE_VARIABLE = "METRICS_NAMESPACE"
# Set by Lambda's own runtime only: the local runtime sets AWS_LAMBDA_FUNCTION_NAME
# and the like, but not this.
EXECUTION_ENV_VARIABLE = "AWS_EXECUTION_ENV"
# The operations console's optional map tiles: unset, the page makes no request
# beyond its own API. A template such as https://tile.openstreetmap.org/{z}/{x}/{y}.png.
MAP_TILES_URL_VARIABLE = "MAP_TILES_URL"
MAP_TILES_ATTRIBUTION_VARIABLE = "MAP_TILES_ATTRIBUTION"


@dataclass(frozen=True)
class Settings:
    alert_topic_arn: str | None  # ALERT_TOPIC_ARN: where vitals publishes
    archive_bucket: str | None  # ARCHIVE_BUCKET: holds the dead-letter prefix
    vitals_threshold: int  # VITALS_THRESHOLD: alert below this many points
    api_url: str | None  # API_URL: base URL quoted in alert emails
    log_level: str  # LOG_LEVEL
    log_format: str = "text"  # LOG_FORMAT: json or text (json by default in Lambda)
    metrics: bool = False  # METRICS: on or off (on by default in Lambda)
    metrics_namespace: str = DEFAULT_NAMESPACE  # METRICS_NAMESPACE
    map_tiles_url: str | None = None  # MAP_TILES_URL: {z}/{x}/{y} tiles under the console's map
    map_tiles_attribution: str | None = None  # MAP_TILES_ATTRIBUTION: their credit line
    status_interval: float = DEFAULT_STATUS_INTERVAL  # STATUS_INTERVAL: the freshness budget
    fare_topic_arn: str | None = None  # FARE_TOPIC_ARN: where the taxi fare watch publishes


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from `environ` (the process environment by default)."""
    env = os.environ if environ is None else environ
    return Settings(
        alert_topic_arn=env.get(ALERT_TOPIC_VARIABLE) or None,
        archive_bucket=env.get(ARCHIVE_BUCKET_VARIABLE) or None,
        vitals_threshold=_threshold(env.get(THRESHOLD_VARIABLE)),
        api_url=env.get(API_URL_VARIABLE) or None,
        log_level=_log_level(env.get(LOG_LEVEL_VARIABLE)),
        log_format=_log_format(env.get(LOG_FORMAT_VARIABLE), in_lambda=_in_lambda(env)),
        metrics=_switch(env.get(METRICS_VARIABLE), in_lambda=_in_lambda(env)),
        metrics_namespace=_namespace(env.get(METRICS_NAMESPACE_VARIABLE)),
        map_tiles_url=_tiles_url(env.get(MAP_TILES_URL_VARIABLE)),
        map_tiles_attribution=env.get(MAP_TILES_ATTRIBUTION_VARIABLE) or None,
        status_interval=_status_interval(env.get(STATUS_INTERVAL_VARIABLE)),
        fare_topic_arn=env.get(FARE_TOPIC_VARIABLE) or None,
    )


def _threshold(text: str | None) -> int:
    if not text:
        return DEFAULT_THRESHOLD
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 1000:
        raise ConfigurationError(
            f"VITALS_THRESHOLD must be a whole number from 1 to 1000, got {text!r}"
        )
    return value


def _status_interval(text: str | None) -> float:
    if not text:
        return DEFAULT_STATUS_INTERVAL
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 60:
        raise ConfigurationError(f"STATUS_INTERVAL must be seconds from 0 to 60, got {text!r}")
    return value


def _log_level(text: str | None) -> str:
    level = (text or "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigurationError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {text!r}")
    return level


def _in_lambda(env: Mapping[str, str]) -> bool:
    return env.get(EXECUTION_ENV_VARIABLE, "").startswith("AWS_Lambda_")


def _log_format(text: str | None, *, in_lambda: bool) -> str:
    if not text:
        return "json" if in_lambda else "text"
    log_format = text.lower()
    if log_format not in ("json", "text"):
        raise ConfigurationError(f"LOG_FORMAT must be json or text, got {text!r}")
    return log_format


def _switch(text: str | None, *, in_lambda: bool) -> bool:
    if not text:
        return in_lambda
    value = text.lower()
    if value not in ("on", "off"):
        raise ConfigurationError(f"METRICS must be on or off, got {text!r}")
    return value == "on"


def _namespace(text: str | None) -> str:
    if not text:
        return DEFAULT_NAMESPACE
    # CloudWatch's rule for a namespace; AWS/ is reserved for AWS's own.
    if re.fullmatch(r"[A-Za-z0-9.\-_/#: ]{1,255}", text) is None or text.startswith("AWS/"):
        raise ConfigurationError(
            "METRICS_NAMESPACE must be 1 to 255 letters, digits or . - _ / # : and space, "
            f"not starting with AWS/, got {text!r}"
        )
    return text


def _tiles_url(text: str | None) -> str | None:
    if not text:
        return None
    parts = urlsplit(text)
    # The origin goes into the console's Content-Security-Policy, so it must be
    # a plain scheme://host[:port]: no credentials, nothing that could end the directive.
    valid = (
        parts.scheme in ("https", "http")
        and re.fullmatch(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?", parts.netloc) is not None
        and all(f"{{{key}}}" in text for key in "zxy")
        and re.search(r"[\s'\";,\\]", text) is None
    )
    if not valid:
        raise ConfigurationError(
            "MAP_TILES_URL must be an http(s) URL template with {z}, {x} and {y}, such as "
            f"https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png, got {text!r}"
        )
    return text
