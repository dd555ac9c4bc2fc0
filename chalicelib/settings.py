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

DEFAULT_THRESHOLD = 100

# The environment variables read here; infra sets the first three from the
# resources it creates (a Ref in the packaged template, recorded by `make deploy`).
ALERT_TOPIC_VARIABLE = "ALERT_TOPIC_ARN"
ARCHIVE_BUCKET_VARIABLE = "ARCHIVE_BUCKET"
API_URL_VARIABLE = "API_URL"
THRESHOLD_VARIABLE = "VITALS_THRESHOLD"
LOG_LEVEL_VARIABLE = "LOG_LEVEL"
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
    map_tiles_url: str | None = None  # MAP_TILES_URL: {z}/{x}/{y} tiles under the console's map
    map_tiles_attribution: str | None = None  # MAP_TILES_ATTRIBUTION: their credit line


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from `environ` (the process environment by default)."""
    env = os.environ if environ is None else environ
    return Settings(
        alert_topic_arn=env.get(ALERT_TOPIC_VARIABLE) or None,
        archive_bucket=env.get(ARCHIVE_BUCKET_VARIABLE) or None,
        vitals_threshold=_threshold(env.get(THRESHOLD_VARIABLE)),
        api_url=env.get(API_URL_VARIABLE) or None,
        log_level=_log_level(env.get(LOG_LEVEL_VARIABLE)),
        map_tiles_url=_tiles_url(env.get(MAP_TILES_URL_VARIABLE)),
        map_tiles_attribution=env.get(MAP_TILES_ATTRIBUTION_VARIABLE) or None,
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


def _log_level(text: str | None) -> str:
    level = (text or "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigurationError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {text!r}")
    return level


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
