"""The operations console as the API serves it: the page, its script modules and style,
the import map that versions the modules' imports of each other, and their headers."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from chalice.app import NotFoundError
from chalice.local import LambdaContext
from chalice.test import Client

from app import app
from chalicelib import bootstrap
from chalicelib import console as console_files
from chalicelib.errors import ConfigurationError
from chalicelib.settings import load_settings

ASSETS = Path(__file__).parents[2] / "chalicelib" / "dashboard"
# `{import_map}`: the hash source of the page's import map, the one inline script.
POLICY = (
    "default-src 'none'; script-src 'self' {import_map}; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'none'"
)
OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.DOTALL)
# How a module names another: `import {...} from "./x.js"`, `import "./x.js"`, `export … from`.
IMPORT = re.compile(
    r"""^(?:import|export)\s(?:[^;"']*?\sfrom\s*)?["']([^"']+)["']""", re.MULTILINE
)


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
    """The entry script's and the style sheet's URLs as the page gives them, by file name."""
    found = re.findall(r'(?:src|href)="(static/([a-z.]+)\?v=[0-9a-f]+)"', page)
    return {name: url for url, name in found}


def import_map_text(page: str) -> str:
    """Exactly what stands between the import map's tags: what a browser hashes."""
    found = IMPORT_MAP.findall(page)
    assert len(found) == 1, "the page has no import map, or more than one"
    text: str = found[0]
    return text


def module_urls(page: str) -> dict[str, str]:
    """Every module's versioned URL as the import map gives it, relative to the base, by name."""
    imports: dict[str, str] = json.loads(import_map_text(page))["imports"]
    return {key.removeprefix("./static/"): url.removeprefix("./") for key, url in imports.items()}


def sha256_source(text: str) -> str:
    """The CSP hash source a browser matches an inline script's text against."""
    return f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"


def version_of(name: str) -> str:
    return hashlib.sha256((ASSETS / name).read_bytes()).hexdigest()[:12]


def served_names() -> list[str]:
    return sorted(path.name for pattern in ("*.js", "*.css") for path in ASSETS.glob(pattern))


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
    page = response.body.decode()
    assert response.headers["Content-Security-Policy"] == POLICY.format(
        import_map=sha256_source(import_map_text(page))
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-cache"
    assert page.startswith("<!doctype html>")
    assert base_of(page) == "/"
    assert sorted(asset_urls(page)) == ["app.css", "app.js"]
    # Nothing inline but the import map, which the policy admits by its hash.
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


def test_every_module_is_served_at_its_hash_and_cached_for_good(console: Client) -> None:
    urls = module_urls(console.http.get("/").body.decode())

    assert sorted(urls) == sorted(path.name for path in ASSETS.glob("*.js"))
    for name, url in urls.items():
        current = console.http.get(f"/{url}")
        stale = console.http.get(f"/static/{name}?v=000000000000")

        assert current.status_code == stale.status_code == 200, name
        assert current.headers["Content-Type"] == "text/javascript; charset=utf-8"
        assert current.headers["X-Content-Type-Options"] == "nosniff"
        assert current.body == (ASSETS / name).read_bytes()
        assert url == f"static/{name}?v={version_of(name)}"
        assert current.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert stale.headers["Cache-Control"] == "no-cache"


def test_the_import_map_names_every_module_at_its_hash_before_the_script_loads(
    console: Client,
) -> None:
    page = console.http.get("/").body.decode()
    imports = json.loads(import_map_text(page))

    assert imports == {
        "imports": {
            f"./static/{path.name}": f"./static/{path.name}?v={version_of(path.name)}"
            for path in sorted(ASSETS.glob("*.js"))
        }
    }
    # A browser uses an import map only if it comes before the first module script.
    assert page.index('<script type="importmap">') < page.index('<script type="module"')


@pytest.mark.parametrize("stage_path", ["/api", "/api/", "/"])
def test_every_import_a_module_makes_reaches_its_versioned_url_through_the_map(
    console: Client, stage_path: str
) -> None:
    page = from_gateway(stage_path)["body"]
    document = urljoin("https://abc123.execute-api.us-east-1.amazonaws.com", stage_path)
    base = urljoin(document, base_of(page))
    # The browser resolves the map's keys and values against the page's base.
    imports = json.loads(import_map_text(page))["imports"]
    mapped = {urljoin(base, key): urljoin(base, url) for key, url in imports.items()}
    entry = urljoin(base, asset_urls(page)["app.js"])
    imported: set[str] = set()

    for name, url in module_urls(page).items():
        importer = urljoin(base, url)
        source = (ASSETS / name).read_text(encoding="utf-8")
        assert "import(" not in source, name  # a dynamic import would escape this check
        specifiers = IMPORT.findall(source)
        for specifier in specifiers:
            # Relative, so that it resolves against the importer, and to a mapped URL.
            assert specifier.startswith("./"), (name, specifier)
            target = urljoin(importer, specifier)
            assert target in mapped, (name, specifier)
            assert urlsplit(mapped[target]).query == f"v={version_of(specifier[2:])}"
            imported.add(specifier[2:])
    assert imported | {"app.js"} == set(module_urls(page))  # none is left out of the page
    assert mapped[urljoin(base, "static/app.js")] == entry  # the entry is loaded once


def test_the_policy_admits_the_import_map_by_its_hash_and_no_other_inline_script(
    console: Client,
) -> None:
    pages = [from_gateway(path) for path in ("/api", "/")]

    for response in pages:
        page = response["body"]
        text = import_map_text(page)
        policy = response["headers"]["Content-Security-Policy"]
        directives = dict(d.split(" ", 1) for d in policy.split("; "))
        # The browser hashes the text as parsed, where "\r\n" would have become "\n".
        assert "\r" not in text
        assert directives["script-src"] == f"'self' {sha256_source(text)}"
        assert re.fullmatch(r"'self' 'sha256-[A-Za-z0-9+/]{43}='", directives["script-src"])
        # Every other script is a file of this origin.
        scripts = re.findall(r"<script\b[^>]*>", page)
        assert scripts == [
            '<script type="importmap">',
            f'<script type="module" src="{asset_urls(page)["app.js"]}">',
        ]
    # The map is relative to the base: the same text, and hash, on every path.
    assert import_map_text(pages[0]["body"]) == import_map_text(pages[1]["body"])


@pytest.mark.parametrize(
    "name",
    ["nope.js", "index.html", "app.py", "..%2Fconsole.py", "..%2Fdashboard%2Fapp.js", "APP.JS"],
)
def test_an_unknown_file_is_a_json_404_without_a_trace(console: Client, name: str) -> None:
    response = console.http.get(f"/static/{name}")

    assert response.status_code == 404
    assert response.json_body == {
        "Code": "NotFoundError",
        "Message": f"no such file; the console's files are {', '.join(served_names())}",
    }
    assert b"Traceback" not in response.body


@pytest.mark.parametrize(
    "name",
    ["../console.py", "../dashboard/app.js", "./app.js", "/etc/passwd", "..", "", "app.js/"],
)
def test_a_name_that_is_a_path_is_not_found_whatever_reaches_the_handler(name: str) -> None:
    with pytest.raises(NotFoundError):
        console_files.asset(name, None, load_settings({}))


@pytest.fixture
def dashboard_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The console serving a copy of its folder, read afresh, that a test may change."""
    folder = tmp_path / "dashboard"
    shutil.copytree(ASSETS, folder)
    monkeypatch.setattr(console_files, "ASSET_DIR", folder)
    caches = (console_files._assets, console_files._import_map, console_files._template)
    for cache in caches:
        cache.cache_clear()
    yield folder
    for cache in caches:
        cache.cache_clear()


def test_a_module_added_to_the_folder_is_served_and_mapped_and_nothing_else_is(
    console: Client, dashboard_copy: Path
) -> None:
    (dashboard_copy / "extra-module.js").write_text('export const extra = "yes";\n')
    for other in ("notes.txt", ".hidden.js", "app.js~", "Upper.js"):
        (dashboard_copy / other).write_text("not served\n")
    (dashboard_copy / "folder.js").mkdir()

    page = console.http.get("/")
    urls = module_urls(page.body.decode())
    added = console.http.get(f"/{urls['extra-module.js']}")

    assert sorted(urls) == sorted([*(p.name for p in ASSETS.glob("*.js")), "extra-module.js"])
    assert added.status_code == 200
    assert added.body == b'export const extra = "yes";\n'
    assert added.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert (
        sha256_source(import_map_text(page.body.decode()))
        in (page.headers["Content-Security-Policy"])
    )
    for other in ("notes.txt", ".hidden.js", "app.js~", "Upper.js", "folder.js"):
        assert console.http.get(f"/static/{other}").status_code == 404, other


def test_nothing_the_console_sends_points_outside_its_own_api(console: Client) -> None:
    page = console.http.get("/").body.decode()
    urls = {**asset_urls(page), **module_urls(page)}
    files = [page] + [console.http.get(f"/{url}").body.decode() for url in urls.values()]

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
    page = response.body.decode()

    assert response.headers["Content-Security-Policy"] == POLICY.format(
        import_map=sha256_source(import_map_text(page))
    ).replace("img-src 'self' data:", "img-src 'self' data: https://tile.openstreetmap.org")
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
    ("setting", "key"),
    [
        (None, "positions: every 5 s, alerts at once"),
        ("2.5", "positions: every 2.5 s, alerts at once"),
        ("0", "positions: every report"),
    ],
)
def test_the_key_says_how_often_positions_are_written(
    console: Client, monkeypatch: pytest.MonkeyPatch, setting: str | None, key: str
) -> None:
    if setting is None:
        monkeypatch.delenv("STATUS_INTERVAL", raising=False)
    else:
        monkeypatch.setenv("STATUS_INTERVAL", setting)

    page = console.http.get("/").body.decode()

    assert f'<span class="key-item" id="freshness">{key}</span>' in page


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
