"""`GET /metrics` over HTTP: a route of the app, or a small server on a port of its own.

Which one the settings pick: `metrics` false serves neither (the app answers 404);
`metrics_port` set serves the port and not the route, so the main port, which may face
the internet, shows nothing of the server's insides. The port's server is prometheus-
client's way (a WSGI server on a daemon thread), so it also runs in the supervising
process of several workers, which has no event loop. A scrape never gets a 500: should
the exposition fail, the answer is a logged 503.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from gql.observability.metrics import CONTENT_TYPE, exposition
from gql.settings import Settings

logger = logging.getLogger("gql.http.metrics")

PATH = "/metrics"
UNAVAILABLE = b"# The metrics could not be read; the server's log says why.\n"

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def metrics_routes(settings: Settings) -> list[BaseRoute]:
    """The app's /metrics route, when the metrics are on and on the main port."""
    if not settings.metrics or settings.metrics_port is not None:
        return []
    return [Route(PATH, _endpoint, methods=["GET"])]


async def _endpoint(_request: Request) -> Response:
    status, body = scrape()
    return Response(body, status, media_type=CONTENT_TYPE)


def scrape(directory: str | None = None, *, this_process: bool = True) -> tuple[int, bytes]:
    """The status and body of a scrape (see `exposition`); 503 when it failed."""
    try:
        return 200, exposition(directory, this_process=this_process)
    except Exception:
        logger.exception("could not read the metrics for a scrape")
        return 503, UNAVAILABLE


class MetricsServer:
    """/metrics on its own port, served by threads until `stop`."""

    def __init__(self, server: WSGIServer) -> None:
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="ocm-gql-metrics", daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def serve_metrics_port(
    host: str, port: int, directory: str | None = None, *, this_process: bool = True
) -> MetricsServer:
    """Starts serving /metrics on ``host``:``port`` (OSError when it cannot listen there).
    ``directory`` and ``this_process`` are `exposition`'s: the supervisor of several
    workers passes their folder and is none of them."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not Found\n"]
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            start_response("405 Method Not Allowed", [("Allow", "GET, HEAD")])
            return [b""]
        status, body = scrape(directory, this_process=this_process)
        reason = "OK" if status == 200 else "Service Unavailable"
        start_response(f"{status} {reason}", [("Content-Type", CONTENT_TYPE)])
        return [body]

    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    server_class = type("_Server", (_ThreadingServer,), {"address_family": family})
    return MetricsServer(make_server(host, port, app, server_class, handler_class=_QuietHandler))


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a hung scraper never holds the process at exit


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every few seconds are no news: no access line."""
