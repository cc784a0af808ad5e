"""The Starlette application: routes, lifespan and GraphQL-over-HTTP wiring.

It knows the repository only through its interface and never sees SQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Final

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from gql.broadcast import Broadcaster, InProcessBroadcaster
from gql.broadcast.redis import RedisBroadcaster
from gql.domain.keys import authenticate, is_well_formed
from gql.graphql.context import Context
from gql.graphql.schema import schema, traced_schema
from gql.http.credentials import presented_key
from gql.http.endpoint import GraphQLHTTPEndpoint
from gql.http.event_stream import EventStreamEndpoint, EventStreamSwitch, wants_event_stream
from gql.http.metrics_route import metrics_routes
from gql.http.middleware import Cors, GZip
from gql.http.observe import Observe
from gql.http.persisted import (
    AutomaticPersistedQueries,
    DocumentSource,
    MemoryQueryStore,
    PersistedQueryStore,
    TrustedDocuments,
)
from gql.http.persisted_redis import RedisQueryStore
from gql.http.pipeline import RequestPipeline, Schemas
from gql.http.playground import PlaygroundSwitch, find_assets_dir, playground_routes
from gql.http.rate_limit import (
    ClientIdentifier,
    ClientRates,
    RateLimit,
    RateLimiter,
    TokenBuckets,
)
from gql.http.rate_limit_redis import RedisTokenBuckets
from gql.http.readiness import Readiness
from gql.http.websocket import SubscriptionEndpoint
from gql.memory import trim_periodically
from gql.observability import tracing
from gql.observability.metrics import process as process_metrics
from gql.observability.metrics import requests as request_metrics
from gql.observability.metrics.pool import report_pool_usage
from gql.redis_link import RedisLink
from gql.reference_cache import ReferenceCache
from gql.repository.base import Repository, Unavailable
from gql.repository.factory import open_repository
from gql.repository.replicated import for_request
from gql.settings import Settings
from gql.util.lru import BoundedCache
from gql.version import VERSION
from gql.writes import ConnectionWrites

logger = logging.getLogger("gql.app")

RepositoryOpener = Callable[[Settings], Awaitable[Repository]]

KEY_CHECKS_KEPT: Final = 10_000
KEY_CHECK_BYTES: Final = 512
"""A well-formed key (76 characters) and its name, as held."""

# What browsers may send cross-origin: JSON bodies, conditional GETs, API keys, and the
# headers Apollo's clients add.
CORS_REQUEST_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "if-none-match",
    "x-api-key",
    "apollo-require-preflight",
    "apollographql-client-name",
    "apollographql-client-version",
)


class Services:
    """What the app holds for its lifetime, set up by the lifespan."""

    repository: Repository
    references: ReferenceCache
    broadcaster: Broadcaster
    writes: ConnectionWrites


# The lifespan's background tasks, named so a look at the running tasks tells them apart.
MEMORY_TRIMMER = "ocm-gql memory trimmer"
PROCESS_METRICS = "ocm-gql process metrics"
POOL_METRICS = "ocm-gql pool metrics"


def create_app(settings: Settings, *, open_repo: RepositoryOpener = open_repository) -> Starlette:
    services = Services()
    request_metrics.label_operations(settings.metrics_operation_names)
    # Shared state of several processes; None keeps everything within this one. The
    # client connects on first use, so making it here costs nothing.
    redis = RedisLink.from_settings(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        # Here, so each worker process has its own exporter thread.
        tracing.configure()
        services.repository = await open_repo(settings)
        services.references = ReferenceCache(services.repository)
        listener = None
        if redis is None:
            services.broadcaster = InProcessBroadcaster()
        else:
            # Events of every process reach this one's subscribers through Redis, and
            # so does news of reference writes made elsewhere.
            listener = RedisBroadcaster(redis, on_references_changed=services.references.invalidate)
            await listener.start()
            services.broadcaster = listener
        services.writes = ConnectionWrites(
            services.repository, services.references, services.broadcaster
        )
        background = [
            asyncio.create_task(
                trim_periodically(full_collection_due=services.broadcaster.slots.many_have_left),
                name=MEMORY_TRIMMER,
            )
        ]
        if settings.metrics:
            # Each worker writes its own process metrics: a scrape may reach another one.
            background.append(
                asyncio.create_task(process_metrics.refresh_periodically(), name=PROCESS_METRICS)
            )
            background.append(
                asyncio.create_task(report_pool_usage(services.repository), name=POOL_METRICS)
            )
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            if listener is not None:
                await listener.stop()
            await services.repository.close()
            if redis is not None:
                await redis.close()
            tracing.shutdown()

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": VERSION})

    readiness = Readiness(settings, redis)

    async def readyz(_request: Request) -> Response:
        return await readiness.check(services.repository)

    def context_for(request: Request | WebSocket) -> Context:
        repository = for_request(services.repository)
        return Context.for_request(
            settings,
            repository,
            services.references,
            request,
            broadcaster=services.broadcaster,
            writes=services.writes.through(repository),
            credential=presented_key(request.headers),
            # A stream's context serves many events: no answers from before a write.
            memoize=isinstance(request, Request) and not wants_event_stream(request.headers),
        )

    # Every transport shares one document source and one set of rate-limit buckets.
    documents = document_source(settings, redis)
    rates = client_rates(settings, _client_identifier(services), redis)
    pipeline = RequestPipeline(settings, Schemas(schema, traced_schema), documents)
    graphql = GraphQLHTTPEndpoint(pipeline, context_for)
    event_streams = EventStreamEndpoint(
        pipeline, context_for, heartbeat_seconds=settings.keep_alive_seconds
    )
    subscriptions = SubscriptionEndpoint(settings, context_for, documents, rates)
    playground_assets = find_assets_dir(settings.playground_assets)
    return Starlette(
        routes=[
            Route(
                "/graphql",
                PlaygroundSwitch(EventStreamSwitch(graphql, event_streams), playground_assets),
            ),
            WebSocketRoute("/graphql", subscriptions),
            *playground_routes(playground_assets),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *metrics_routes(settings),
        ],
        lifespan=lifespan,
        middleware=http_middleware(settings, rates),
    )


def document_source(settings: Settings, redis: RedisLink | None = None) -> DocumentSource:
    """Trusted documents when a manifest is configured, else automatic persisted queries,
    kept in Redis when there is one.

    Raises ManifestError when the manifest cannot be used."""
    if settings.trusted_documents is not None:
        return TrustedDocuments.from_manifest(settings.trusted_documents)
    if settings.apq_cache_size == 0:
        return AutomaticPersistedQueries(None)
    store: PersistedQueryStore
    if redis is None:
        store = MemoryQueryStore(settings.apq_cache_size, settings.apq_cache_bytes)
    else:
        store = RedisQueryStore(
            redis,
            max_size=settings.apq_cache_size,
            max_bytes=settings.apq_cache_bytes,
            max_chars=settings.max_query_chars,
            ttl_seconds=settings.apq_ttl_seconds,
        )
    return AutomaticPersistedQueries(store)


def client_rates(
    settings: Settings, identify: ClientIdentifier, redis: RedisLink | None = None
) -> ClientRates | None:
    """The per-client token buckets (in Redis when there is one), or None when rate
    limiting is off."""
    rate, burst = settings.rate_limit_per_second, settings.rate_limit_burst
    if rate <= 0:
        return None
    buckets: RateLimiter = (
        TokenBuckets(rate, burst) if redis is None else RedisTokenBuckets(redis, rate, burst)
    )
    return ClientRates(buckets, identify)


def _client_identifier(services: Services) -> ClientIdentifier:
    """Rate-limit clients by valid API key, else by address. Checked keys are remembered
    for a minute (bounded), so limiting costs no query per request; a value without a
    key's shape is never looked up nor remembered, nor is a key while the database is
    unavailable."""
    checked: BoundedCache[str, tuple[str | None, float]] = BoundedCache(
        KEY_CHECKS_KEPT, KEY_CHECKS_KEPT * KEY_CHECK_BYTES
    )

    async def identify(headers: Headers, address: str) -> str:
        key = presented_key(headers)
        if key is None or not is_well_formed(key):
            return f"address:{address}"
        now = time.monotonic()
        name, checked_at = checked.get(key) or (None, -math.inf)
        if now - checked_at > 60:
            try:
                writer = await authenticate(services.repository, key)
            except Unavailable:
                # The database is down: the request itself will say so; limit it by address.
                return f"address:{address}"
            name, checked_at = (writer.name if writer else None), now
            checked.put(key, (name, checked_at), KEY_CHECK_BYTES)
        return f"key:{name}" if name else f"address:{address}"

    return identify


def http_middleware(settings: Settings, rates: ClientRates | None) -> list[Middleware]:
    # Outermost: a request refused by CORS or the rate limit is still counted and logged.
    middleware = [Middleware(Observe)]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                Cors,
                allow_origins=settings.cors_origins,
                allow_methods=("GET", "POST"),
                allow_headers=CORS_REQUEST_HEADERS,
                expose_headers=("ETag",),
                max_age=600,
            )
        )
    if rates is not None:
        middleware.append(Middleware(RateLimit, rates=rates))
    # Level 6 (zlib's default) compresses nearly as well as 9 at about half the cost.
    middleware.append(Middleware(GZip, minimum_size=settings.gzip_min_bytes, compresslevel=6))
    return middleware
