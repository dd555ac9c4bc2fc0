"""The API `make up` runs has the settings the stage's config gives the API function.

Chalice copies a stage's environment variables into the process only when it
loads the app, after `local.api` has made the services; the settings must not
be read before that from an environment that lacks them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.api import api_settings


def test_the_api_takes_the_stages_settings_for_its_function(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("MAP_TILES_URL", "STATUS_INTERVAL", "LOG_LEVEL", "VITALS_THRESHOLD"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "version": "2.0",
                "app_name": "wildrydes",
                "environment_variables": {"LOG_LEVEL": "INFO", "VITALS_THRESHOLD": "100"},
                "stages": {
                    "local": {
                        "environment_variables": {
                            "MAP_TILES_URL": "https://tiles.example/{z}/{x}/{y}.png",
                            "VITALS_THRESHOLD": "90",
                            "STATUS_INTERVAL": "12",
                        },
                        "lambda_functions": {
                            "api_handler": {"environment_variables": {"LOG_LEVEL": "WARNING"}},
                        },
                    }
                },
            }
        )
    )

    settings = api_settings("local", config)

    assert settings.map_tiles_url == "https://tiles.example/{z}/{x}/{y}.png"
    assert (settings.vitals_threshold, settings.log_level) == (90, "WARNING")
    assert settings.status_interval == 12.0  # what vitals writes by, the console says
