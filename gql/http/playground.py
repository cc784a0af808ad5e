"""The GraphiQL playground at /graphql, with every file it needs served by this server.

GraphiQL 3.8.3 is the last release that ships prebuilt browser (UMD) files; they and React
18's come from npm (`npm ci --prefix gql/playground`, pinned by that folder's lock file) and
are never copied into the repository. A checkout serves them from that npm install; a wheel
carries its own copy, built in by hatch_build.py. Without them the server still starts: it
logs a warning once, and /graphql answers browsers with status 503 and a page saying what
to do, while GraphQL requests work as usual.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import Headers, QueryParams
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gql.http.playground_files import CSS, FILES, JS, PACKAGED_FOLDER, PACKAGES, required_files

logger = logging.getLogger("gql.playground")

ASSETS_URL_PREFIX = "/graphiql/assets"
INSTALL_COMMAND = "npm ci --prefix gql/playground"
_PACKAGE_DIR = Path(__file__).resolve().parents[1]
CHECKOUT_ASSETS_DIR = _PACKAGE_DIR / "playground" / "node_modules"
PACKAGED_ASSETS_DIR = _PACKAGE_DIR / PACKAGED_FOLDER
# The URLs carry the package version, so a new lock file gives new URLs and a year-long
# cache can never hand out stale files.
_ASSET_HEADERS = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
}

EXAMPLE_QUERY = """\
# Chargers near me: within 25 km of Tallinn's centre
# (59.437, 24.7536), nearest first, 10 per page, with
# what you can plug in at each.
# Run: the play button or Ctrl-Enter. Next page: put
# pageInfo.endCursor in Variables as {"after": "..."}.
# Every type is in the Docs panel (book icon, left).
query ChargersNearMe($first: Int = 10, $after: String) {
  chargePoints(
    first: $first
    after: $after
    near: { latitude: 59.437, longitude: 24.7536, radiusKm: 25 }
    orderBy: DISTANCE
  ) {
    totalCount
    edges {
      cursor
      node {
        id
        title
        distanceKm
        address { addressLine1 town country { isoCode } }
        location { latitude longitude }
        operator { title }
        usageType { title }
        statusType { title isOperational }
        connections {
          powerKw
          quantity
          connectionType { title }
          currentType { title }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

EXAMPLE_SUBSCRIPTION = """\
# Live status: every status change, as it is committed.
# Run it (the play button), then change a status, for
# instance from another tab (1000000001 is the first
# demo connection):
#   mutation { setConnectionStatus(id: 1000000001,
#     statusTypeId: 50) { previousStatusTypeId } }
# Mutations need an API key (`ocm-gql keys create
# --name NAME`) in the Headers panel below, as
# {"X-API-Key": "ocmgql_..."}. Each change shows here.
# Narrow it with filter: {...}, as connectionInfos takes.
# Stop: the play button again.
subscription StatusChanges {
  connectionStatusChanged {
    connectionInfo {
      id
      powerKw
      connectionType { title }
      statusType { title isOperational }
    }
    previousStatusTypeId
    statusTypeId
    changedAt
  }
}
"""
# What the editor opens with, one tab each: the first is also what a new tab holds.
EXAMPLES = (EXAMPLE_QUERY, EXAMPLE_SUBSCRIPTION)

# Static, so the Content-Security-Policy can allow exactly this inline script by its hash;
# the per-page values come in a JSON data block, which is never executed. GraphiQL's bundle
# holds the graphql-ws client: given a subscriptionUrl, it sends subscriptions there over
# graphql-transport-ws, the rest over HTTP. The URL is the endpoint's, on this same origin.
_BOOT_SCRIPT = """
const config = JSON.parse(document.getElementById("playground-config").textContent);
const endpoint = new URL(config.endpoint, location.href);
endpoint.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";
const fetcher = GraphiQL.createFetcher({
  url: config.endpoint,
  subscriptionUrl: endpoint.href,
  headers: { accept: "application/graphql-response+json, application/json" },
  enableIncrementalDelivery: false,
});
ReactDOM.createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultQuery: config.examples[0],
    defaultTabs: config.examples.map((query) => ({ query })),
  }),
);
"""
_BOOT_HASH = base64.b64encode(hashlib.sha256(_BOOT_SCRIPT.encode()).digest()).decode()
# The browser itself refuses any request that would leave this server's origin; 'self'
# covers the WebSocket to it (ws: or wss: on the same host and port, CSP Level 3).
_CSP = (
    f"default-src 'none'; script-src 'self' 'sha256-{_BOOT_HASH}'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# /graphql answers HTML or JSON by the Accept header; caches must keep the two apart.
_PAGE_HEADERS = {"Content-Security-Policy": _CSP, "Cache-Control": "no-cache", "Vary": "Accept"}

_MISSING_PAGE = f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>ocm-gql · GraphiQL not installed</title></head>
<body>
<h1>The GraphiQL playground is not installed</h1>
<p>Its files come from npm. In a checkout of ocm-gql, run
<code>{html.escape(INSTALL_COMMAND)}</code>. An ocm-gql installed from a wheel carries them
in <code>gql/{PACKAGED_FOLDER}</code>, so they are missing only from a damaged install:
reinstall it. Or set <code>OCM_GQL_PLAYGROUND_ASSETS</code> to a <code>node_modules</code>
folder holding them. Then restart the server.</p>
<p>The GraphQL API itself works: POST queries to this URL.</p>
</body>
</html>
"""


@dataclass(frozen=True, slots=True)
class _Asset:
    url: str
    path: Path
    media_type: str


def default_assets_dir() -> Path:
    """The wheel's copy of the files when installed from one, else the checkout's npm
    install (an editable install runs from the checkout too)."""
    return PACKAGED_ASSETS_DIR if PACKAGED_ASSETS_DIR.is_dir() else CHECKOUT_ASSETS_DIR


def find_assets_dir(override: Path | None) -> Path | None:
    """The node_modules-shaped folder holding the playground's files: ``override`` (the
    ``playground_assets`` setting) if given, else ``default_assets_dir()``. None when a file
    is missing, after a warning saying what to do; the app calls this once, at startup."""
    assets_dir = override or default_assets_dir()
    missing = [file for file in required_files() if not (assets_dir / file).is_file()]
    if not missing:
        return assets_dir
    logger.warning(
        "GraphiQL playground files not found in %s (missing %s): in a checkout, run `%s`; "
        "an install from a wheel carries them in gql/%s, so reinstall it; or set "
        "OCM_GQL_PLAYGROUND_ASSETS to a node_modules folder holding graphiql 3.8.3, react "
        "and react-dom 18. GraphQL is served as usual; browsers get this message.",
        assets_dir,
        ", ".join(missing),
        INSTALL_COMMAND,
        PACKAGED_FOLDER,
    )
    return None


@functools.cache
def _assets(assets_dir: Path) -> tuple[_Asset, ...]:
    versions: dict[str, str] = {
        package: json.loads((assets_dir / package / "package.json").read_text())["version"]
        for package in PACKAGES
    }
    return tuple(
        _Asset(
            f"{ASSETS_URL_PREFIX}/{package}@{versions[package]}/{Path(file).name}",
            assets_dir / package / file,
            media_type,
        )
        for package, file, media_type in FILES
    )


def playground_routes(assets_dir: Path | None) -> list[BaseRoute]:
    """One route per whitelisted file, at its exact URL: any other path under the prefix is
    a 404 from the router, so no request path ever reaches the file system."""

    def route(asset: _Asset) -> Route:
        async def serve(_request: Request) -> Response:
            return FileResponse(asset.path, media_type=asset.media_type, headers=_ASSET_HEADERS)

        return Route(asset.url, serve, methods=["GET", "HEAD"])

    return [route(asset) for asset in _assets(assets_dir)] if assets_dir is not None else []


def playground_page(assets_dir: Path | None, endpoint_path: str = "/graphql") -> HTMLResponse:
    """GraphiQL posting to ``endpoint_path`` and subscribing over a WebSocket to it, or,
    without its files, status 503 and a page saying what to do."""
    if assets_dir is None:
        return HTMLResponse(_MISSING_PAGE, status_code=503, headers=_PAGE_HEADERS)
    assets = _assets(assets_dir)
    styles = "".join(
        f'<link rel="stylesheet" href="{asset.url}">' for asset in assets if asset.media_type == CSS
    )
    scripts = "".join(
        f'<script src="{asset.url}"></script>' for asset in assets if asset.media_type == JS
    )
    # "<" escaped so that no value can close the data block early.
    config = json.dumps({"endpoint": endpoint_path, "examples": EXAMPLES}).replace("<", "\\u003c")
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ocm-gql · GraphiQL</title>
<link rel="icon" href="data:,">
{styles}
<style>body {{ margin: 0; }} #graphiql {{ height: 100vh; }}</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script type="application/json" id="playground-config">{config}</script>
{scripts}
<script>{_BOOT_SCRIPT}</script>
</body>
</html>
"""
    return HTMLResponse(page, headers=_PAGE_HEADERS)


def prefers_html(accept: str) -> bool:
    """True when an Accept header ranks text/html above JSON, as a browser navigation does
    (``text/html,...,*/*;q=0.8``); ``*/*`` alone or a tie keeps the API."""
    page = _quality(accept, "text/html")
    return page > 0 and all(
        page > _quality(accept, api)
        for api in ("application/json", "application/graphql-response+json")
    )


def _quality(accept: str, media_type: str) -> float:
    """The q of ``media_type`` under the most specific range of ``accept`` that matches it
    (RFC 9110, 12.5.1); 0 when none does."""
    ranges = {media_type: 3, media_type.split("/")[0] + "/*": 2, "*/*": 1}
    best_specificity, best_q = 0, 0.0
    for item in accept.split(","):
        media_range, *params = (part.strip() for part in item.split(";"))
        specificity = ranges.get(media_range.lower(), 0)
        if specificity <= best_specificity:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best_specificity, best_q = specificity, q
    return best_q


class PlaygroundSwitch:
    """Browser navigations to the GraphQL endpoint (GET, HTML preferred, no ``query``
    parameter) get the playground page; every other request goes to ``graphql``. A GET
    with ``query`` stays an API call, so such a link opened in a browser shows its JSON."""

    def __init__(
        self, graphql: ASGIApp, assets_dir: Path | None, endpoint_path: str = "/graphql"
    ) -> None:
        self._graphql = graphql
        self._assets_dir = assets_dir
        self._endpoint_path = endpoint_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and "query" not in QueryParams(scope["query_string"])
            and prefers_html(Headers(scope=scope).get("accept", ""))
        ):
            page = playground_page(self._assets_dir, self._endpoint_path)
            await page(scope, receive, send)
        else:
            await self._graphql(scope, receive, send)
