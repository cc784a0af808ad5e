"""All runtime settings. Each is read, first match wins, from a command-line flag, the
environment variable ``OCM_GQL_<NAME>``, a ``.env`` file in the working directory, or the
default written here.

pydantic-settings reads the environment and the ``.env`` file; pydantic converts and
checks the values. The README's settings table documents every field; a test keeps the
two in step.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from gql.repository.url import Backend, DatabaseUrl

ENV_PREFIX = "OCM_GQL_"
ENV_FILE = Path(".env")
"""Read from the working directory when present; the environment overrides it."""

AtLeastOne = Annotated[int, Field(ge=1)]
NotNegative = Annotated[int, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]
LogLevel = Literal["debug", "info", "warning", "error"]
LogFormat = Literal["text", "json"]


class SettingsError(ValueError):
    """A setting holds a value it cannot take; the message names the variable or flag."""


class Source(StrEnum):
    """Where a setting's value came from."""

    DEFAULT = "default"
    ENV_FILE = ".env file"
    ENVIRONMENT = "environment"
    FLAG = "flag"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        frozen=True,
        extra="forbid",
        # Other variables in a .env file (for other tools) are none of ours.
        dotenv_filtering="only_existing",
    )

    db: Path = Path("ocm-gql.db")
    """SQLite file, when `database_url` is not set. Created, migrated and seeded on first
    `serve` when it does not exist."""
    database_url: str | None = None
    """The database: `sqlite:///path/file.db` (`sqlite:////abs/path.db`) or
    `postgresql://user:password@host:port/database`. Unset means the SQLite file `db`."""
    database_read_url: str | None = None
    """A read replica of a PostgreSQL `database_url`: reads go there; writes, and reads that
    follow a write in the same request, go to the primary."""
    database_pool_size: AtLeastOne = 10
    """Most connections a PostgreSQL pool opens (per process, per URL)."""
    workers: AtLeastOne = 1
    """Server processes `serve` runs on one port (uvicorn's process manager). Beyond one,
    set `redis_url` so they share live events, caches and limits."""
    redis_url: str | None = None
    """Redis shared by several server processes or replicas (`redis://host:6379/0`): live
    events, reference-cache invalidation, persisted queries and rate limits go through it.
    Unset: all of these stay within each process."""
    redis_key_prefix: str = "ocm-gql:"
    """Prefix of every key and channel this server uses in Redis, so several deployments
    (or tests) can share one Redis."""
    apq_ttl_seconds: AtLeastOne = 86_400
    """With Redis: how long a persisted query is kept after its last use."""
    host: str = "127.0.0.1"
    """Address `serve` listens on."""
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    """Port `serve` listens on."""
    default_page_size: AtLeastOne = 20
    """Page size of `connectionInfos` when neither `first` nor `last` is given."""
    max_page_size: AtLeastOne = 1000
    """Largest `first`/`last` accepted; more is a BAD_USER_INPUT error, never a silent cut."""
    max_radius_km: Annotated[float, Field(gt=0, le=20_037.5)] = 500
    """Largest `near.radiusKm` of `chargePoints`; more is a BAD_USER_INPUT error. Bounds
    the candidates one radius search reads through the spatial index. At most half the
    equator (20,037.5 km): any radius beyond reaches every point already."""
    demo_size: int = 1000
    """Generated demo connections added when `serve` creates a new database."""
    readers: AtLeastOne = 2
    """SQLite: read connections to the file (each runs on its own thread)."""
    busy_timeout_ms: int = 5000
    """SQLite: how long a write waits for another process's lock before giving up."""
    log_level: LogLevel = "info"
    """Python logging level name (any case)."""
    log_format: LogFormat = "text"
    """`text`: lines for a person at a terminal. `json`: one JSON object per line (every
    log record, and one per request with its id, operation, status and duration) for a
    log pipeline."""
    playground_assets: Path | None = None
    """OCM_GQL_PLAYGROUND_ASSETS: a node_modules folder holding GraphiQL's browser files
    (graphiql, react, react-dom). None means the copy a wheel carries
    (``gql/_playground_assets``) when installed from one, else ``gql/playground/node_modules``
    in a checkout, filled by ``npm ci --prefix gql/playground``. Without the files, /graphql
    answers browsers with status 503 and a page saying what to run."""

    max_body_bytes: AtLeastOne = 1_048_576
    """Largest request body accepted; more is answered 413."""
    max_batch_size: NotNegative = 10
    """Most operations in one batched request (a JSON array, as Apollo's BatchHttpLink
    sends); 0 turns batching off."""
    apq_cache_size: NotNegative = 1000
    """Automatic persisted queries kept in memory (least recently used go first); 0 turns
    APQ off (clients then get PERSISTED_QUERY_NOT_SUPPORTED and send full queries)."""
    trusted_documents: Path | None = None
    """An Apollo persisted-query manifest (JSON). When set, only its operations run: by
    `extensions.persistedQuery.sha256Hash`, or as the identical query text; anything else
    gets PERSISTED_QUERY_NOT_IN_LIST or QUERY_NOT_IN_SAFELIST, and APQ registration is off."""
    # NoDecode: the environment holds a comma-separated list, not JSON.
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ("*",)
    """Origins allowed by CORS, comma-separated; `*` allows any (no cookies are used: API
    keys travel in headers). Empty turns CORS off."""
    cache_control: str = "no-cache"
    """Cache-Control of successful GET query responses (they carry an ETag, so `no-cache`
    means "revalidate": 304 when unchanged). Responses with errors get `no-store`."""
    gzip_min_bytes: NotNegative = 1024
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
    metrics: bool = True
    """Whether Prometheus metrics are served (`GET /metrics`); false answers 404 there."""
    metrics_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    """A port of its own for `/metrics` (on `metrics_host`), which the main port then no
    longer answers: metrics need not face the internet. None serves them on the main port.
    With several workers the supervising process serves it, once for all of them."""
    metrics_host: str = "127.0.0.1"
    """Address the metrics port listens on."""
    # NoDecode: the environment holds a comma-separated list, not JSON.
    metrics_operation_names: Annotated[tuple[str, ...], NoDecode] = ()
    """Operation names the latency histogram labels by name, comma-separated, beside the
    trusted documents' own; any other name is `other`, so callers cannot grow the series."""

    query_cache_bytes: NotNegative = 16 * 1024 * 1024
    """Memory the caches of parsed and checked documents, query costs and execution plans
    may hold together (estimated per entry); refused documents are never kept."""
    apq_cache_bytes: NotNegative = 8 * 1024 * 1024
    """Memory the automatic persisted queries may hold (their text), beside their count
    (`apq_cache_size`)."""
    max_websocket_message_bytes: AtLeastOne = 65_536
    """Largest WebSocket message accepted; a larger one closes the socket (code 1009)."""
    max_subscriptions: NotNegative = 10_000
    """Subscriptions the process serves at once over WebSocket and Server-Sent Events;
    more are refused (TOO_MANY_SUBSCRIPTIONS)."""
    max_subscriptions_per_client: NotNegative = 100
    """Subscriptions one client address may hold at once (TOO_MANY_SUBSCRIPTIONS)."""
    max_connections: AtLeastOne = 1000
    """Open connections the server accepts at once; beyond it new ones are answered 503."""
    header_timeout_seconds: Positive = 10
    """A request's line and headers must arrive within this long, or the connection closes."""
    body_timeout_seconds: Positive = 30
    """A request body must arrive whole within this long, or it is answered 408."""
    idle_timeout_seconds: AtLeastOne = 5
    """A kept-alive connection with no request for this long is closed."""
    import_max_bytes: NotNegative = 4 * 1024 * 1024 * 1024
    """Largest import file once decompressed; a larger one (such as a gzip bomb) is refused."""
    import_batch_size: AtLeastOne = 1000
    """Sites written per import transaction: short transactions let the server's own
    writes in between."""

    # -- `ocm-gql sync`: pages of OCM's /poi API ------------------------------------------
    ocm_api_url: str = "https://api.openchargemap.io/v3"
    """Base URL of Open Charge Map's API; `sync` asks its `/poi`."""
    ocm_api_key: str | None = None
    """The API key `sync` sends OCM (header `X-API-Key`), so it need not be on the command
    line; `--api-key` wins. Never printed or logged."""
    sync_page_size: Annotated[int, Field(ge=1, le=10_000)] = 500
    """Sites `sync` asks OCM for per request (`maxresults`); each page is written in one
    transaction together with where the sync has got to."""
    sync_attempts: AtLeastOne = 5
    """Tries of one OCM request before `sync` gives up (a 429, a 5xx, a dropped connection,
    a broken body are tried again)."""
    sync_retry_delay_seconds: Positive = 1.0
    """Wait before the second try of an OCM request; it doubles with each further try."""
    sync_max_retry_delay_seconds: Positive = 60.0
    """Longest wait between two tries, also for a 429's Retry-After."""
    sync_timeout_seconds: Positive = 60.0
    """How long one OCM request may take (connecting, or waiting for data)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Settings(db=...) holds exactly the values given, whatever the environment says;
        # load_settings reads the environment and the .env file, noting each value's source.
        return (init_settings,)

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _any_case(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("playground_assets", "trusted_documents", "metrics_port", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # Path("") would silently be the working directory; an empty port is none.
        return None if value == "" else value

    @field_validator("redis_url")
    @classmethod
    def _a_redis_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("ocm_api_url")
    @classmethod
    def _an_http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("ocm_api_key")
    @classmethod
    def _empty_key_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("database_url", "database_read_url")
    @classmethod
    def _a_database_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        DatabaseUrl.parse(value)  # raises BadDatabaseUrl (a ValueError) with the reason
        return value

    @model_validator(mode="after")
    def _replica_of_a_server(self) -> Settings:
        if self.database_read_url is not None and self.database.backend is not Backend.POSTGRES:
            raise ValueError(
                f"{ENV_PREFIX}DATABASE_READ_URL needs a PostgreSQL {ENV_PREFIX}DATABASE_URL"
            )
        return self

    @property
    def database(self) -> DatabaseUrl:
        """The database to use: `database_url`, else the SQLite file `db`."""
        if self.database_url is None:
            return DatabaseUrl.sqlite_file(self.db)
        return DatabaseUrl.parse(self.database_url)

    @property
    def read_database(self) -> DatabaseUrl | None:
        return None if self.database_read_url is None else DatabaseUrl.parse(self.database_read_url)

    @field_validator("cors_origins", "metrics_operation_names", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(item.strip() for item in value.split(",") if item.strip())
        return value

    @model_validator(mode="after")
    def _metrics_port_is_its_own(self) -> Settings:
        if self.metrics_port == self.port:
            raise ValueError(
                f"{ENV_PREFIX}METRICS_PORT ({self.metrics_port}) must differ from "
                f"{ENV_PREFIX}PORT: unset it to serve /metrics on the main port"
            )
        return self

    @model_validator(mode="after")
    def _page_sizes_agree(self) -> Settings:
        if self.default_page_size > self.max_page_size:
            raise ValueError(
                f"{ENV_PREFIX}DEFAULT_PAGE_SIZE ({self.default_page_size}) must not exceed "
                f"{ENV_PREFIX}MAX_PAGE_SIZE ({self.max_page_size})"
            )
        return self

    @classmethod
    def from_env(cls, *, env_file: Path | None = ENV_FILE, **flags: object) -> Settings:
        """Settings from flags (None means not given), the environment, the .env file."""
        return load_settings(flags, env_file=env_file).settings


@dataclass(frozen=True, slots=True)
class LoadedSettings:
    settings: Settings
    sources: Mapping[str, Source]
    """Field name to where its value came from, for every field."""


def load_settings(
    flags: Mapping[str, object] | None = None, *, env_file: Path | None = ENV_FILE
) -> LoadedSettings:
    """Reads every setting; flags (None means not given) win over the environment, which
    wins over the .env file. Raises SettingsError, one line naming each bad variable or flag."""
    given = {name: value for name, value in (flags or {}).items() if value is not None}
    layers = (
        (Source.ENV_FILE, DotEnvSettingsSource(Settings, env_file=env_file)()),
        (Source.ENVIRONMENT, EnvSettingsSource(Settings)()),
        (Source.FLAG, given),
    )
    values: dict[str, object] = {}
    sources: dict[str, Source] = {}
    for source, layer in layers:
        values.update(layer)
        sources.update(dict.fromkeys(layer, source))
    try:
        settings = Settings(**values)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = (_problem(detail, given) for detail in error.errors())
        raise SettingsError("; ".join(problems)) from None
    every = {name: sources.get(name, Source.DEFAULT) for name in Settings.model_fields}
    return LoadedSettings(settings, every)


def _problem(detail: ErrorDetails, flags: Mapping[str, object]) -> str:
    if not detail["loc"]:  # from a model validator, whose message names the variables
        return str(detail.get("ctx", {}).get("error", detail["msg"]))
    name = str(detail["loc"][0])
    where = "--" + name.replace("_", "-") if name in flags else ENV_PREFIX + name.upper()
    # The value as given, but never a password (a URL's, or a secret setting's).
    given = shown(ENV_PREFIX + name.upper(), detail["input"])
    return f"{where} {_reason(detail)}, got {given!r}"


def _reason(detail: ErrorDetails) -> str:
    kind, context = detail["type"], detail.get("ctx", {})
    if kind.startswith("int_"):
        return "must be an integer"
    if kind.startswith("float_"):
        return "must be a number"
    if kind.startswith("bool_"):
        return "must be true or false (1/0, yes/no, on/off)"
    if kind == "greater_than_equal":
        return f"must be at least {_plain(context['ge'])}"
    if kind == "greater_than":
        return f"must be more than {_plain(context['gt'])}"
    if kind == "less_than_equal":
        return f"must be at most {_plain(context['le'])}"
    if kind == "literal_error":
        return f"must be {context['expected']}"
    if kind == "value_error":
        return str(context["error"])
    return f"is not valid ({detail['msg']})"


def _plain(bound: float) -> float:
    """0, not 0.0, for a float field's whole-number bound."""
    return int(bound) if float(bound).is_integer() else bound


def documented_settings() -> list[tuple[str, object]]:
    """(environment variable, default) for every setting, in declaration order."""
    return [
        (ENV_PREFIX + name.upper(), _as_written(field.default))
        for name, field in Settings.model_fields.items()
    ]


def _as_written(default: object) -> object:
    """A value as it is written in the environment (lists are comma-separated)."""
    return ",".join(default) if isinstance(default, tuple) else default


HIDDEN = "********"
# A whole word of the name: MAX_TOKENS is a count, API_TOKEN a secret (and an API_KEY).
_SECRET_NAME = re.compile(r"(?:^|_)(?:PASSWORD|SECRET|TOKEN|API_KEY)(?:_|$)")
_URL_PASSWORD = re.compile(r"(?<=://)([^:/@]*):[^@/]*@")


def shown(variable: str, value: object) -> str | int | float | bool | None:
    """A value as `ocm-gql settings` prints it: as written in the environment, with
    secrets hidden (a setting named for one, and the password of any URL)."""
    if value is not None and _SECRET_NAME.search(variable):
        return HIDDEN
    if value is None or isinstance(value, int | float):  # bool is an int
        return value
    return _URL_PASSWORD.sub(rf"\1:{HIDDEN}@", str(_as_written(value)))
