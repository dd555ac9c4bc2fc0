"""The operations console as the API serves it: the page, its two files, and their headers."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chalice.local import LambdaContext
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib.errors import ConfigurationError
from chalicelib.settings import load_settings

ASSETS = Path(__file__).parents[2] / "chalicelib" / "dashboard"
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'none'"
)
OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


@pytest.fixture
def console(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    """The app under Chalice's test client, no map tiles configured; the console needs no AWS."""
    for name in ("MAP_TILES_URL", "MAP_TILES_ATTRIBUTION"):
        monkeypatch.delenv(name, raising=False)
    bootstrap.reset()
    with Client(app, stage_name="dev") as chalice_client:
        yield chalice_client
    bootstrap.reset()


def asset_urls(page: str) -> dict[str, str]:
    """The script's and the style sheet's URLs as the page gives them, by file name."""
    found = re.findall(r'(?:src|href)="(static/([a-z.]+)\?v=[0-9a-f]+)"', page)
    return {name: url for url, name in found}


def from_gateway(path: str) -> dict[str, Any]:
    """`GET /` as API Gateway hands it to the function, the stage in `path`."""
    event = {
        "resource": "/",
        "path": "/",
        "httpMethod": "GET",
        "headers": {"Host": "abc123.execute-api.us-east-1.amazonaws.com"},
        "multiValueHeaders": {"Host": ["abc123.execute-api.us-east-1.amazonaws.com"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/",
            "httpMethod": "GET",
            "path": path,
            "stage": "api",
            "identity": {"sourceIp": "192.0.2.1"},
        },
        "body": None,
        "isBase64Encoded": False,
    }
    response: dict[str, Any] = app(event, LambdaContext("api_handler", memory_size=128))
    return response


def base_of(page: str) -> str:
    match = re.search(r'<base href="([^"]*)">', page)
    assert match, "the page has no <base href>"
    return html.unescape(match.group(1))


def test_the_console_is_html_under_a_strict_policy(console: Client) -> None:
    response = console.http.get("/")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Content-Security-Policy"] == POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-cache"
    page = response.body.decode()
    assert page.startswith("<!doctype html>")
    assert base_of(page) == "/"
    assert sorted(asset_urls(page)) == ["app.css", "app.js"]
    # Nothing inline that the policy would have to allow.
    assert "<script>" not in page and "<style" not in page and " style=" not in page
    assert 'data-threshold="100"' in page and 'data-tiles=""' in page


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("app.js", "text/javascript; charset=utf-8"), ("app.css", "text/css; charset=utf-8")],
)
def test_the_script_and_style_are_served_with_their_types(
    console: Client, name: str, content_type: str
) -> None:
    url = asset_urls(console.http.get("/").body.decode())[name]

    current = console.http.get(f"/{url}")
    unversioned = console.http.get(f"/static/{name}")

    assert current.status_code == unversioned.status_code == 200
    assert current.headers["Content-Type"] == content_type
    assert current.headers["X-Content-Type-Options"] == "nosniff"
    assert current.body == (ASSETS / name).read_bytes()
    # The page's URL carries the content's hash, so it may be cached for good;
    # any other URL must be checked again.
    assert current.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert unversioned.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("name", ["nope.js", "index.html", "app.py", "..%2Fconsole.py", "APP.JS"])
def test_an_unknown_file_is_a_json_404_without_a_trace(console: Client, name: str) -> None:
    response = console.http.get(f"/static/{name}")

    assert response.status_code == 404
    assert response.json_body == {
        "Code": "NotFoundError",
        "Message": "no such file; the console's files are app.js and app.css",
    }
    assert b"Traceback" not in response.body


def test_nothing_the_console_sends_points_outside_its_own_api(console: Client) -> None:
    page = console.http.get("/").body.decode()
    files = [page] + [
        console.http.get(f"/{url}").body.decode() for url in asset_urls(page).values()
    ]

    for text in files:
        assert re.findall(r"https?:|wss?:|//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE) == []
        # Every URL but the base is relative to the base, which is the API's own path.
        relative = text.replace(f'<base href="{base_of(page)}">', "")
        assert re.findall(r"""(?:src|href|url\()\s*=?\s*["']?/""", relative) == []
        assert "@import" not in text and "innerHTML" not in text and "eval(" not in text


@pytest.mark.parametrize(
    ("path", "base"),
    [
        ("/api", "/api/"),  # deployed, asked for without the trailing slash
        ("/api/", "/api/"),
        ("/", "/"),
        ("", "/"),
        ("//evil.example/api", "/evil.example/api/"),  # never a base on another host
        ('/a b/"><script>/', "/a%20b/%22%3E%3Cscript%3E/"),
    ],
)
def test_the_base_is_the_request_path_as_a_folder(console: Client, path: str, base: str) -> None:
    response = from_gateway(path)

    assert response["statusCode"] == 200
    assert base_of(response["body"]) == base
    assert "<script>" not in response["body"]


def test_map_tiles_open_the_image_policy_to_their_origin_only(
    console: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAP_TILES_URL", OSM)
    monkeypatch.setenv("MAP_TILES_ATTRIBUTION", "© OpenStreetMap contributors <3")

    response = console.http.get("/")

    assert response.headers["Content-Security-Policy"] == POLICY.replace(
        "img-src 'self' data:", "img-src 'self' data: https://tile.openstreetmap.org"
    )
    page = response.body.decode()
    assert f'data-tiles="{OSM}"' in page
    assert 'data-tiles-attribution="© OpenStreetMap contributors &lt;3"' in page


def test_map_tiles_without_a_credit_name_their_host(
    console: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAP_TILES_URL", "http://tiles.example.net:8080/{z}/{x}/{y}.png")

    response = console.http.get("/")

    assert (
        "img-src 'self' data: http://tiles.example.net:8080;"
        in (response.headers["Content-Security-Policy"])
    )
    assert 'data-tiles-attribution="tiles.example.net:8080"' in response.body.decode()


@pytest.mark.parametrize(
    "url",
    [
        "https://tile.openstreetmap.org/tiles.png",  # no {z}/{x}/{y}
        "javascript:alert(1)//{z}{x}{y}",
        "ftp://tiles.example.net/{z}/{x}/{y}.png",
        "https://user:secret@tiles.example.net/{z}/{x}/{y}.png",
        "https://tiles.example.net/{z}/{x}/{y}.png; script-src *",
        "https://tiles.example.net'/{z}/{x}/{y}.png",
    ],
)
def test_a_tile_url_that_could_not_work_or_could_widen_the_policy_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="MAP_TILES_URL"):
        load_settings({"MAP_TILES_URL": url})
