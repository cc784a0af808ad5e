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
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from gql.graphql.context import Context
from gql.graphql.schema import schema
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
    def __init__(self, settings: Settings, services: Services) -> None:
        super().__init__(schema)
        self._settings = settings
        self._services = services

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        return Context.for_request(
            self._settings, self._services.repository, self._services.references, request
        )

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


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

    graphql = GraphQLEndpoint(settings, services)
    return Starlette(
        routes=[
            Route("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        lifespan=lifespan,
    )
