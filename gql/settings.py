"""All runtime settings, read from environment variables prefixed ``OCM_GQL_``.

The README's settings table documents every field here; a test keeps the two in step.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ENV_PREFIX = "OCM_GQL_"


class SettingsError(ValueError):
    """An environment variable holds a value the setting cannot take."""


@dataclass(frozen=True, slots=True)
class Settings:
    db: Path = Path("ocm-gql.db")
    """SQLite file. Created, migrated and seeded on first `serve` when it does not exist."""
    host: str = "127.0.0.1"
    """Address `serve` listens on."""
    port: int = 8000
    """Port `serve` listens on."""
    default_page_size: int = 20
    """Page size of `connectionInfos` when neither `first` nor `last` is given."""
    max_page_size: int = 1000
    """Largest `first`/`last` accepted; more is a BAD_USER_INPUT error, never a silent cut."""
    demo_size: int = 1000
    """Generated demo connections added when `serve` creates a new database."""
    readers: int = 2
    """Read connections to the SQLite file (each runs on its own thread)."""
    busy_timeout_ms: int = 5000
    """How long SQLite waits for a lock before giving up."""
    log_level: str = "info"
    """Python logging level name."""
    playground_assets: Path | None = None
    """OCM_GQL_PLAYGROUND_ASSETS: a node_modules folder holding GraphiQL's browser files
    (graphiql, react, react-dom). None means ``gql/playground/node_modules`` beside the
    package, filled by ``npm ci --prefix gql/playground``. Without the files, /graphql
    answers browsers with status 503 and a page saying what to run."""

    max_body_bytes: int = 1_048_576
    """Largest request body accepted; more is answered 413."""
    max_batch_size: int = 10
    """Most operations in one batched request (a JSON array, as Apollo's BatchHttpLink
    sends); 0 turns batching off."""
    apq_cache_size: int = 1000
    """Automatic persisted queries kept in memory (least recently used go first); 0 turns
    APQ off (clients then get PERSISTED_QUERY_NOT_SUPPORTED and send full queries)."""
    trusted_documents: Path | None = None
    """An Apollo persisted-query manifest (JSON). When set, only its operations run: by
    `extensions.persistedQuery.sha256Hash`, or as the identical query text; anything else
    gets PERSISTED_QUERY_NOT_IN_LIST or QUERY_NOT_IN_SAFELIST, and APQ registration is off."""
    cors_origins: tuple[str, ...] = ("*",)
    """Origins allowed by CORS, comma-separated; `*` allows any (no cookies are used: API
    keys travel in headers). Empty turns CORS off."""
    cache_control: str = "no-cache"
    """Cache-Control of successful GET query responses (they carry an ETag, so `no-cache`
    means "revalidate": 304 when unchanged). Responses with errors get `no-store`."""
    gzip_min_bytes: int = 1024
    """Responses at least this large are gzip-compressed for clients that accept it."""
    max_subscriptions_per_connection: int = 20
    """Subscriptions one WebSocket may run at once; more are refused."""
    keep_alive_seconds: int = 15
    """How often an idle WebSocket gets a keep-alive ping."""

    max_depth: int = 15
    """Deepest selection allowed (QUERY_TOO_DEEP beyond)."""
    max_aliases: int = 50
    """Most aliases in one document (TOO_MANY_ALIASES beyond)."""
    max_tokens: int = 2_000
    """Most lexical tokens in one document; parsing stops there (TOO_MANY_TOKENS)."""
    max_query_chars: int = 20_000
    """Longest GraphQL document (characters); longer ones are refused before parsing
    (QUERY_TOO_LARGE). Large inputs belong in variables."""
    max_repeated_fields: int = 10
    """Most times one response key (or fragment spread) may appear in one selection set
    (TOO_MANY_REPEATED_FIELDS): repeats make validation quadratic."""
    max_cost: int = 100_000
    """Highest query cost (fields times the items their parents return, pages counted at
    their `first`/`last`); over it, QUERY_TOO_COMPLEX before anything runs. A page of
    1,000 connections with every field and all relations costs 33,001."""
    execution_timeout_ms: int = 10_000
    """Longest an operation may run; then its work is cancelled (OPERATION_TIMED_OUT)."""
    max_url_bytes: int = 8192
    """Longest GET query string; more is answered 414."""
    introspection: bool = True
    """Whether `__schema`/`__type` may be queried; turn off in production if the schema
    is private (INTROSPECTION_DISABLED)."""
    field_suggestions: bool = True
    """Whether validation errors suggest similar names ("Did you mean ...?")."""
    rate_limit_per_second: float = 0
    """Requests per second per API key (or client address without one); 0 turns rate
    limiting off. Over it: 429 with Retry-After."""
    rate_limit_burst: int = 20
    """Requests a client may make at once before the rate applies."""
    shutdown_grace_seconds: int = 30
    """On SIGTERM, how long in-flight requests may take to finish before the server stops."""

    query_cache_bytes: int = 16 * 1024 * 1024
    """Memory the caches of parsed and checked documents, query costs and execution plans
    may hold together (estimated per entry); refused documents are never kept."""
    apq_cache_bytes: int = 8 * 1024 * 1024
    """Memory the automatic persisted queries may hold (their text), beside their count
    (`apq_cache_size`)."""
    max_websocket_message_bytes: int = 65_536
    """Largest WebSocket message accepted; a larger one closes the socket (code 1009)."""
    max_subscriptions: int = 10_000
    """Subscriptions the process serves at once over WebSocket and Server-Sent Events;
    more are refused (TOO_MANY_SUBSCRIPTIONS)."""
    max_subscriptions_per_client: int = 100
    """Subscriptions one client address may hold at once (TOO_MANY_SUBSCRIPTIONS)."""
    max_connections: int = 1000
    """Open connections the server accepts at once; beyond it new ones are answered 503."""
    header_timeout_seconds: float = 10
    """A request's line and headers must arrive within this long, or the connection closes."""
    body_timeout_seconds: float = 30
    """A request body must arrive whole within this long, or it is answered 408."""
    idle_timeout_seconds: int = 5
    """A kept-alive connection with no request for this long is closed."""
    import_max_bytes: int = 4 * 1024 * 1024 * 1024
    """Largest import file once decompressed; a larger one (such as a gzip bomb) is refused."""
    import_batch_size: int = 1000
    """Sites written per import transaction: short transactions let the server's own
    writes in between."""

    def __post_init__(self) -> None:
        if self.default_page_size < 1 or self.max_page_size < 1:
            raise SettingsError("page sizes must be at least 1")
        if self.default_page_size > self.max_page_size:
            raise SettingsError("default_page_size must not exceed max_page_size")
        if self.readers < 1:
            raise SettingsError("readers must be at least 1")
        if self.max_batch_size < 0 or self.apq_cache_size < 0:
            raise SettingsError("max_batch_size and apq_cache_size must not be negative")
        if self.max_body_bytes < 1 or self.gzip_min_bytes < 0:
            raise SettingsError("max_body_bytes must be positive, gzip_min_bytes not negative")
        if min(self.query_cache_bytes, self.apq_cache_bytes, self.import_max_bytes) < 0:
            raise SettingsError("cache and import sizes must not be negative")
        if min(self.max_websocket_message_bytes, self.max_connections, self.import_batch_size) < 1:
            raise SettingsError(
                "max_websocket_message_bytes, max_connections and import_batch_size must be "
                "at least 1"
            )
        if min(self.max_subscriptions, self.max_subscriptions_per_client) < 0:
            raise SettingsError("subscription limits must not be negative")
        if min(self.header_timeout_seconds, self.body_timeout_seconds) <= 0:
            raise SettingsError("header and body timeouts must be positive")
        if self.idle_timeout_seconds < 1:
            raise SettingsError("idle_timeout_seconds must be at least 1")
        if not 0 < self.port < 65536:
            raise SettingsError("port must be between 1 and 65535")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from the environment; explicit overrides (CLI flags) win."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field in dataclasses.fields(cls):
            raw = environ.get(ENV_PREFIX + field.name.upper())
            if raw is None:
                continue
            values[field.name] = _convert(field.name, field.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def _convert(name: str, type_name: object, raw: str) -> object:
    if type_name in ("int", int):
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(
                f"{ENV_PREFIX}{name.upper()} must be an integer, got {raw!r}"
            ) from None
    if type_name in ("float", float):
        try:
            return float(raw)
        except ValueError:
            raise SettingsError(
                f"{ENV_PREFIX}{name.upper()} must be a number, got {raw!r}"
            ) from None
    if type_name in ("bool", bool):
        if raw.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if raw.strip().lower() in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{ENV_PREFIX}{name.upper()} must be true or false, got {raw!r}")
    if type_name in ("Path", Path):
        return Path(raw)
    if type_name == "Path | None":
        # Empty means unset: Path("") would silently be the working directory.
        return Path(raw) if raw else None
    if type_name == "tuple[str, ...]":
        return tuple(item.strip() for item in raw.split(",") if item.strip())
    return raw


def documented_settings() -> list[tuple[str, object]]:
    """(environment variable, default) for every setting, in declaration order."""
    return [
        (ENV_PREFIX + field.name.upper(), _as_written(field.default))
        for field in dataclasses.fields(Settings)
    ]


def _as_written(default: object) -> object:
    """A default as it is written in the environment (lists are comma-separated)."""
    return ",".join(default) if isinstance(default, tuple) else default
