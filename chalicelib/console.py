"""The operations console: one page, its script modules and its style, served by the API itself.

The files live in `chalicelib/dashboard/`, so Chalice packages them into the
Lambda; they are read once per process. Every `.js` and `.css` file there is
served at `static/<name>`, each URL carrying a hash of its content so that
it can be cached for good. The script is native ES modules that import each
other by relative path; the page's import map turns each of those imports
into its versioned URL, so a changed module is fetched anew even when the
module importing it has not changed.

An import map can only be inline. The page's Content-Security-Policy admits
that one script by the hash of its text and no other inline script or
style, and the page makes no request beyond its own API unless map tiles
are configured (MAP_TILES_URL), in which case exactly their origin is
allowed for images.

Deployed, the page lives under a stage path (`/api/`) and may be asked for
without the trailing slash (`/api`), where relative URLs would resolve one
level too high; under `chalice local` it is at `/`. So the page carries a
`<base href>` computed from the request path, and every URL in it and in
its script is relative to that.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import json
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from chalice.app import NotFoundError, Request, Response

from chalicelib.settings import Settings

ASSET_DIR = Path(__file__).parent / "dashboard"
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
# The names served: a file of the folder itself, never a path, a dot file or an editor's backup.
ASSET_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*\.(?:js|css)")
SCRIPT = "app.js"  # the entry module, which imports the others
STYLE = "app.css"
# Asset URLs carry a hash of their content (`?v=`): a URL with the current hash
# never changes and may be cached for good; anything else is revalidated.
CACHE_FOREVER = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# Characters a path segment may keep as they are (RFC 3986 pchar, and "%" so that
# an already encoded segment is not encoded twice).
SEGMENT_SAFE = "!$&'()*+,;=:@-._~%"


@dataclass(frozen=True)
class Asset:
    body: str
    content_type: str
    version: str  # a short hash of `body`

    def url(self, name: str) -> str:
        """Its URL relative to the page's base, which may be cached for good."""
        return f"static/{name}?v={self.version}"


@dataclass(frozen=True)
class ImportMap:
    text: str  # exactly what stands between the page's <script type="importmap"> tags
    source: str  # the policy's hash source for that text: 'sha256-…'


@functools.cache
def _assets() -> dict[str, Asset]:
    """Every file the console may serve, by name, read once."""
    assets = {}
    for path in sorted(ASSET_DIR.iterdir()):
        if ASSET_NAME.fullmatch(path.name) and path.is_file():
            body = path.read_text(encoding="utf-8")
            version = hashlib.sha256(body.encode()).hexdigest()[:12]
            assets[path.name] = Asset(body, CONTENT_TYPES[path.suffix], version)
    return assets


@functools.cache
def _import_map() -> ImportMap:
    """Each module's unversioned URL mapped to its versioned one.

    A module's `import ... from "./fleet.js"` resolves against the importing
    module's URL to `<base>static/fleet.js`, which is also what the key
    `./static/fleet.js` resolves to against the page's base; the browser then
    loads the mapped `./static/fleet.js?v=…` instead. Both sides are relative
    to the base, so the text, and with it its hash, is the same on every path
    the page is served from.
    """
    imports = {
        f"./static/{name}": f"./{asset.url(name)}"
        for name, asset in _assets().items()
        if name.endswith(".js")
    }
    # ASSET_NAME keeps "<" out of every name, so the text cannot end its <script> early.
    text = json.dumps({"imports": imports}, indent=2)
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return ImportMap(text, f"'sha256-{digest}'")


@functools.cache
def _template() -> string.Template:
    return string.Template((ASSET_DIR / "index.html").read_text(encoding="utf-8"))


def freshness(status_interval: float) -> str:
    """How often the fleet's positions are written, as the console's key says it."""
    if status_interval <= 0:
        return "positions: every report"
    return f"positions: every {status_interval:g} s, alerts at once"


def page(request: Request | None, settings: Settings) -> Response:
    """`GET /`: the console's HTML, its base the request's path as a folder."""
    context: Mapping[str, Any] = request.context if request is not None else {}
    assets = _assets()
    attribution = settings.map_tiles_attribution or (
        urlsplit(settings.map_tiles_url).netloc if settings.map_tiles_url else ""
    )
    values = {
        "base": base_href(context.get("path")),
        "css": assets[STYLE].url(STYLE),
        "js": assets[SCRIPT].url(SCRIPT),
        "threshold": str(settings.vitals_threshold),
        "freshness": freshness(settings.status_interval),
        "tiles": settings.map_tiles_url or "",
        "attribution": attribution,
    }
    escaped = {k: html.escape(v, quote=True) for k, v in values.items()}
    # Script text is not HTML: the import map goes in as it is hashed, never escaped.
    body = _template().substitute(escaped, importmap=_import_map().text)
    headers: dict[str, str | list[str]] = {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": REVALIDATE,
        **security_headers(settings),
    }
    return Response(body=body, headers=headers, status_code=200)


def asset(name: str, request: Request | None, settings: Settings) -> Response:
    """`GET /static/{name}`: a script module or the style sheet; 404 for anything else.

    `name` is only ever looked up among the files read at start, never joined
    to a path, so no name can reach outside the folder.
    """
    assets = _assets()
    found = assets.get(name)
    if found is None:
        raise NotFoundError(f"no such file; the console's files are {', '.join(assets)}")
    query = request.query_params if request is not None else None
    current = query is not None and query.get("v") == found.version
    headers: dict[str, str | list[str]] = {
        "Content-Type": found.content_type,
        "Cache-Control": CACHE_FOREVER if current else REVALIDATE,
        **security_headers(settings),
    }
    return Response(body=found.body, headers=headers, status_code=200)


def base_href(path: object) -> str:
    """The request path as a folder: `/api` and `/api/` give `/api/`, nothing gives `/`.

    Empty segments are dropped, so the result can never start with `//`
    (which a browser would read as another host).
    """
    text = path if isinstance(path, str) else ""
    segments = [s for s in text.split("/") if s and s not in (".", "..")]
    return "/" + "".join(quote(s, safe=SEGMENT_SAFE) + "/" for s in segments)


def content_security_policy(settings: Settings) -> str:
    """This origin only, and the page's import map; images also from the tile server, if any."""
    images = ["'self'", "data:"]
    if settings.map_tiles_url:
        parts = urlsplit(settings.map_tiles_url)
        images.append(f"{parts.scheme}://{parts.netloc}")
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self' {_import_map().source}",
            "style-src 'self'",
            "connect-src 'self'",
            f"img-src {' '.join(images)}",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "form-action 'none'",
        ]
    )


def security_headers(settings: Settings) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(settings),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    }
