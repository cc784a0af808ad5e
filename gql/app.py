"""The Starlette application: routes, lifespan and GraphQL-over-HTTP wiring.

It knows the repository only through its interface and never sees SQL.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from gql.graphql.context import Context
from gql.graphql.schema import TRACE_HEADER, schema, traced_schema
from gql.http.playground import PlaygroundSwitch, find_assets_dir, playground_routes
from gql.reference_cache import ReferenceCache
from gql.repository.base import Repository
from gql.repository.factory import open_repository
from gql.settings import Settings

logger = logging.getLogger("gql.app")

RepositoryOpener = Callable[[Settings], Awaitable[Repository]]


class Services:
    """What the app holds for its lifetime, set up by the lifespan."""

    repository: Repository
    references: ReferenceCache


class GraphQLEndpoint(GraphQL[Context, None]):
    def __init__(self, settings: Settings, services: Services, *, traced: bool = False) -> None:
        # The playground is ours (gql.http.playground): no IDE loaded from a CDN.
        super().__init__(traced_schema if traced else schema, graphql_ide=None)
        self._settings = settings
        self._services = services

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        return Context.for_request(
            self._settings, self._services.repository, self._services.references, request
        )

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


class TraceSwitch:
    """Sends requests that ask for a federation trace to the traced endpoint."""

    def __init__(self, untraced: GraphQLEndpoint, traced: GraphQLEndpoint) -> None:
        self._untraced = untraced
        self._traced = traced

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        wants_trace = (TRACE_HEADER.encode(), b"ftv1") in scope.get("headers", ())
        await (self._traced if wants_trace else self._untraced)(scope, receive, send)


def create_app(settings: Settings, *, open_repo: RepositoryOpener = open_repository) -> Starlette:
    services = Services()

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        services.repository = await open_repo(settings)
        services.references = ReferenceCache(services.repository)
        try:
            yield
        finally:
            await services.repository.close()

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> Response:
        try:
            await services.repository.ping()
        except Exception:
            logger.exception("readiness check failed")
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    graphql = TraceSwitch(
        GraphQLEndpoint(settings, services), GraphQLEndpoint(settings, services, traced=True)
    )
    playground_assets = find_assets_dir(settings.playground_assets)
    return Starlette(
        routes=[
            Route("/graphql", PlaygroundSwitch(graphql, playground_assets)),
            *playground_routes(playground_assets),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        lifespan=lifespan,
    )
