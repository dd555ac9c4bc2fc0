"""The operations console: one page, its script and its style, served by the API itself.

The files live in `chalicelib/dashboard/`, so Chalice packages them into the
Lambda; they are read once per process. The page has no inline script or
style, which lets its Content-Security-Policy forbid both, and it makes no
request beyond its own API unless map tiles are configured (MAP_TILES_URL),
in which case exactly their origin is allowed for images.

Deployed, the page lives under a stage path (`/api/`) and may be asked for
without the trailing slash (`/api`), where relative URLs would resolve one
level too high; under `chalice local` it is at `/`. So the page carries a
`<base href>` computed from the request path, and every URL in it and in
its script is relative to that.
"""

from __future__ import annotations

import functools
import hashlib
import html
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
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}
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


@functools.cache
def _assets() -> dict[str, Asset]:
    assets = {}
    for name, content_type in CONTENT_TYPES.items():
        body = (ASSET_DIR / name).read_text(encoding="utf-8")
        version = hashlib.sha256(body.encode()).hexdigest()[:12]
        assets[name] = Asset(body, content_type, version)
    return assets


@functools.cache
def _template() -> string.Template:
    return string.Template((ASSET_DIR / "index.html").read_text(encoding="utf-8"))


def page(request: Request | None, settings: Settings) -> Response:
    """`GET /`: the console's HTML, its base the request's path as a folder."""
    context: Mapping[str, Any] = request.context if request is not None else {}
    assets = _assets()
    attribution = settings.map_tiles_attribution or (
        urlsplit(settings.map_tiles_url).netloc if settings.map_tiles_url else ""
    )
    values = {
        "base": base_href(context.get("path")),
        "css": f"static/app.css?v={assets['app.css'].version}",
        "js": f"static/app.js?v={assets['app.js'].version}",
        "threshold": str(settings.vitals_threshold),
        "tiles": settings.map_tiles_url or "",
        "attribution": attribution,
    }
    body = _template().substitute({k: html.escape(v, quote=True) for k, v in values.items()})
    headers: dict[str, str | list[str]] = {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": REVALIDATE,
        **security_headers(settings),
    }
    return Response(body=body, headers=headers, status_code=200)


def asset(name: str, request: Request | None, settings: Settings) -> Response:
    """`GET /static/{name}`: the script or the style sheet; 404 for anything else."""
    found = _assets().get(name)
    if found is None:
        raise NotFoundError("no such file; the console's files are app.js and app.css")
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
    """Only this origin, except images from the tile server when one is configured."""
    images = ["'self'", "data:"]
    if settings.map_tiles_url:
        parts = urlsplit(settings.map_tiles_url)
        images.append(f"{parts.scheme}://{parts.netloc}")
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
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
