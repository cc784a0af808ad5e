"""The ``ocm-gql`` command line: serve, seed, import, sync, copy, export-schema, keys,
settings."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import get_args

from gql.copying import CopyError, TargetNotEmpty, copy_database
from gql.data.importer import ImportFileError, NoReferenceLists, Rejection, import_exports
from gql.data.seeding import seed_demo, seed_reference
from gql.domain.keys import ApiKeyError, create_key, revoke_key
from gql.observability.logging import configure_logging
from gql.open_files import raise_open_file_limit
from gql.progress import Progress
from gql.repository.base import CannotOpen, Repository, Unavailable
from gql.repository.factory import open_repository
from gql.repository.models import WriteCounts
from gql.repository.rows import Table
from gql.repository.url import Backend, BadDatabaseUrl, DatabaseUrl
from gql.settings import (
    ENV_PREFIX,
    LogFormat,
    LogLevel,
    Settings,
    SettingsError,
    load_settings,
    shown,
)
from gql.version import VERSION

EXIT_USAGE = 2
EXIT_REJECTS = 3
_DEFAULTS = Settings()
_SETTINGS_EPILOG = (
    f"Every {ENV_PREFIX}* setting applies; `ocm-gql settings` lists them with their values."
)


class CommandError(Exception):
    """A failure with a message for the user; no stack trace is shown."""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(_flags(args)).settings
        configure_logging(settings.log_level, settings.log_format)
        result: int = args.run(args, settings)
        return result
    except (CommandError, SettingsError, ImportFileError, ApiKeyError) as error:
        print(f"ocm-gql: error: {error}", file=sys.stderr)
        return EXIT_USAGE


def _flags(args: argparse.Namespace) -> dict[str, object]:
    """The settings given as flags (None where a flag was not given or does not exist)."""
    names = ("db", "database_url", "host", "port", "workers", "log_level", "log_format")
    return {name: getattr(args, name, None) for name in names}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ocm-gql",
        description="GraphQL API for Open Charge Map connection data.",
        epilog=_SETTINGS_EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {VERSION}")
    # No dest: a missing command is then reported by its choices, {serve,seed,...}.
    commands = parser.add_subparsers(required=True)

    def command(
        name: str,
        help: str,
        run: Callable[[argparse.Namespace, Settings], int],
        group: argparse._SubParsersAction[argparse.ArgumentParser] = commands,
        *,
        takes_db: bool = True,
    ) -> argparse.ArgumentParser:
        sub = group.add_parser(name, help=help, description=help, epilog=_SETTINGS_EPILOG)
        if takes_db:
            sub.add_argument(
                "--db",
                type=Path,
                default=None,
                help=f"SQLite database file (default: ${ENV_PREFIX}DB or {_DEFAULTS.db})",
            )
            sub.add_argument(
                "--database-url",
                default=None,
                metavar="URL",
                help="sqlite:///path/file.db or postgresql://user@host:port/database "
                f"(default: ${ENV_PREFIX}DATABASE_URL; wins over --db)",
            )
        sub.set_defaults(run=run)
        return sub

    def server_flags(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--host", default=None, help=f"listen address (default {_DEFAULTS.host})")
        sub.add_argument(
            "--port", type=int, default=None, help=f"listen port (default {_DEFAULTS.port})"
        )
        sub.add_argument(
            "--workers",
            type=int,
            default=None,
            metavar="N",
            help=f"server processes on the port (default {_DEFAULTS.workers}); beyond one, "
            f"set ${ENV_PREFIX}REDIS_URL so they share live events, caches and limits",
        )
        sub.add_argument(
            "--log-level",
            choices=get_args(LogLevel),
            default=None,
            help=f"overrides ${ENV_PREFIX}LOG_LEVEL (default {_DEFAULTS.log_level})",
        )
        sub.add_argument(
            "--log-format",
            choices=get_args(LogFormat),
            default=None,
            help=f"text for a terminal, json for a log pipeline: one object per line "
            f"(overrides ${ENV_PREFIX}LOG_FORMAT; default {_DEFAULTS.log_format})",
        )

    server_flags(command("serve", "Serve GraphQL at /graphql.", _serve))

    seed = command("seed", "Create or migrate the database and load the reference lists.", _seed)
    seed.add_argument(
        "--demo",
        type=_non_negative,
        default=0,
        metavar="N",
        help="also add N generated demo connections",
    )
    seed.add_argument(
        "--seed", type=int, default=0, help="random seed of the demo data (default 0)"
    )

    imports = command(
        "import", "Import OCM POI exports (.json or .json.gz, files or folders).", _import
    )
    imports.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="FILE_OR_DIR",
        help="an export file, or a folder whose .json and .json.gz files are read",
    )
    imports.add_argument(
        "--dry-run", action="store_true", help="read and check everything, write nothing"
    )
    imports.add_argument(
        "--allow-rejects",
        action="store_true",
        help=f"exit 0, not {EXIT_REJECTS}, when some records were rejected",
    )
    imports.epilog = (
        f"exit codes: 0 every record written or unchanged; {EXIT_USAGE} the import could "
        f"not run and wrote nothing (a missing or unusable database, a broken file); "
        f"{EXIT_REJECTS} some records were rejected (listed on stderr; the others were "
        f"written, unless --dry-run). {_SETTINGS_EPILOG}"
    )

    syncing = command(
        "sync",
        "Fetch one country's sites from Open Charge Map's API (/poi) into the database, "
        "from where the last sync of that country stopped.",
        _sync,
    )
    syncing.add_argument(
        "--country",
        required=True,
        metavar="CC",
        help="the country's ISO 3166 two-letter code, such as EE",
    )
    syncing.add_argument(
        "--since",
        default=None,
        metavar="DATE",
        help="ask for the sites modified since DATE (YYYY-MM-DD or an ISO 8601 time, UTC) "
        "instead of since the last sync started",
    )
    syncing.add_argument(
        "--api-key",
        default=None,
        metavar="KEY",
        help=f"the OCM API key, sent as X-API-Key and never printed (default: "
        f"${ENV_PREFIX}OCM_API_KEY)",
    )
    syncing.add_argument(
        "--allow-rejects",
        action="store_true",
        help=f"exit 0, not {EXIT_REJECTS}, when some records were rejected",
    )
    syncing.epilog = (
        f"exit codes: 0 the country is up to date; {EXIT_USAGE} the sync could not run or "
        "stopped (OCM failing past the retries or refusing, a bad flag, an unusable "
        "database): the pages written stay, and the next run resumes after them; "
        f"{EXIT_REJECTS} some records were rejected (listed on stderr; the others were "
        f"written). {_SETTINGS_EPILOG}"
    )

    copying = command(
        "copy",
        "Copy everything (reference lists, sites, connections, API keys, change log) "
        "from one database to another, in one transaction on the target.",
        _copy,
        takes_db=False,
    )
    copying.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="URL",
        help="the database to read: sqlite:///path/file.db or postgresql://user@host:port/db",
    )
    copying.add_argument(
        "--to",
        dest="target",
        required=True,
        metavar="URL",
        help="the database to write (created or migrated first); it must be empty unless --replace",
    )
    copying.add_argument(
        "--replace",
        action="store_true",
        help="allow a target that holds rows: they are all replaced by the copy",
    )

    export = command(
        "export-schema", "Print the GraphQL schema (SDL).", _export_schema, takes_db=False
    )
    export.add_argument(
        "--federation",
        action="store_true",
        help="print the Apollo Federation 2 subgraph SDL (with @link, @key, _entities)",
    )

    keys = commands.add_parser(
        "keys",
        help="Manage API keys for writes.",
        description="Manage API keys for writes.",
        epilog=_SETTINGS_EPILOG,
    )
    key_commands = keys.add_subparsers(required=True)
    create = command(
        "create",
        "Create a key and print it once, on its own line (only a salted hash is stored).",
        _keys_create,
        key_commands,
    )
    create.add_argument("--name", required=True, help="who the key is for; shown in the change log")
    create.add_argument(
        "--read-only", action="store_true", help="the key authenticates but may not write"
    )
    listing = command(
        "list", "List keys (names, kinds, dates; never secrets).", _keys_list, key_commands
    )
    listing.add_argument(
        "--json",
        action="store_true",
        help="print a JSON array of {name, readOnly, createdAt, revokedAt}",
    )
    revoke = command("revoke", "Revoke a key by name.", _keys_revoke, key_commands)
    revoke.add_argument("name", metavar="NAME", help="the name the key was created with")

    shown_settings = command(
        "settings",
        "Print every setting with its value and where it came from (secrets hidden).",
        _settings,
    )
    server_flags(shown_settings)
    shown_settings.add_argument(
        "--json",
        action="store_true",
        help="print a JSON array of {name, value, source}",
    )
    return parser


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _db_was_chosen(args: argparse.Namespace) -> bool:
    return (
        args.db is not None
        or args.database_url is not None
        or f"{ENV_PREFIX}DB" in os.environ
        or f"{ENV_PREFIX}DATABASE_URL" in os.environ
    )


def _missing_file(settings: Settings) -> Path | None:
    """The SQLite file the settings name, when it does not exist yet. A server database
    is never created here: it exists or the connection says why not."""
    database = settings.database
    if database.backend is Backend.SQLITE and not database.path.exists():
        return database.path
    return None


def _with_repository(settings: Settings, work: Callable[[Repository], Awaitable[int]]) -> int:
    async def run() -> int:
        try:
            repository = await open_repository(settings)
        except CannotOpen as error:
            raise CommandError(f"cannot use the database {settings.database}: {error}") from None
        generation = repository.reference_generation
        try:
            return await work(repository)
        finally:
            await repository.close()
            if repository.reference_generation != generation:
                await _announce_references(settings)

    return asyncio.run(run())


async def _announce_references(settings: Settings) -> None:
    """Tells the servers sharing ``settings``' Redis (when there is one) that reference
    lists were written, so each drops its cached lists."""
    from gql.broadcast.redis import announce_reference_change
    from gql.redis_link import RedisLink

    link = RedisLink.from_settings(settings)
    if link is not None:
        try:
            await announce_reference_change(link)
        finally:
            await link.close()


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from gql.app import create_app
    from gql.http.persisted import ManifestError
    from gql.observability.metrics import multiprocess_directory
    from gql.server import serve_here

    try:
        # Built here even when workers build their own: a bad setting is one line, once.
        app = create_app(settings)
    except ManifestError as error:
        raise CommandError(str(error)) from None
    missing = _missing_file(settings)
    if missing is not None:
        if _db_was_chosen(args):
            raise _no_database(missing, "(add --demo N for sample data)")
        print(f"creating {missing}: reference lists and {settings.demo_size} demo connections")

        async def create(repository: Repository) -> int:
            await seed_reference(repository)
            await seed_demo(repository, settings.demo_size, seed=0)
            return 0

        _with_repository(settings, create)
    _check_database(settings)
    # Inherited by the workers, as every process's limit is by the processes it starts.
    raise_open_file_limit(settings.max_connections)
    listener = _listen(settings.host, settings.port)
    workers = settings.workers
    if workers == 1:
        with _metrics_port(settings, None):
            _say_serving(settings)
            serve_here(settings, app, listener)
        return 0
    del app  # each worker builds its own
    # The workers write their metrics to files in a fresh folder, named in the environment
    # before they are spawned; a metrics port is served here, once for all of them.
    metric_files = multiprocess_directory() if settings.metrics else contextlib.nullcontext()
    with metric_files as directory, _metrics_port(settings, directory):
        _say_serving(settings)
        return _serve_workers(settings, listener, directory)


def _say_serving(settings: Settings) -> None:
    workers = settings.workers
    print(
        f"serving {settings.database} at http://{settings.host}:{settings.port}/graphql "
        f"({workers} worker{'s' if workers > 1 else ''})",
        flush=True,
    )


def _serve_workers(settings: Settings, listener: socket.socket, directory: str | None) -> int:
    from gql.server import PER_PROCESS_WITHOUT_REDIS, serve_workers

    workers = settings.workers
    if settings.redis_url is None:
        warning = (
            f"{workers} workers without {ENV_PREFIX}REDIS_URL: "
            f"{PER_PROCESS_WITHOUT_REDIS} stay within each worker; set {ENV_PREFIX}REDIS_URL "
            "to share them"
        )
        if settings.log_format == "json":  # every stderr line is then a JSON object
            logging.getLogger("gql.cli").warning(warning)
        else:
            print(f"ocm-gql: warning: {warning}", file=sys.stderr, flush=True)
    if not serve_workers(settings, listener, metrics_directory=directory):
        raise CommandError("a worker failed to start (its log is above); stopped them all")
    return 0


@contextlib.contextmanager
def _metrics_port(settings: Settings, directory: str | None) -> Iterator[None]:
    """/metrics on its own port while serving, when the settings ask for one; with
    several workers (``directory``, their metric files) this process serves it and is
    none of them."""
    from gql.http.metrics_route import serve_metrics_port

    host, port = settings.metrics_host, settings.metrics_port
    if not settings.metrics or port is None:
        yield
        return
    try:
        server = serve_metrics_port(host, port, directory, this_process=directory is None)
    except OSError as error:
        in_use = error.errno == errno.EADDRINUSE
        reason = "address already in use" if in_use else (error.strerror or str(error))
        raise CommandError(f"cannot listen on {host}:{port} for the metrics: {reason}") from None
    print(f"metrics at http://{host}:{server.port}/metrics", flush=True)
    try:
        yield
    finally:
        server.stop()


def _listen(host: str, port: int) -> socket.socket:
    """The server's listening socket, opened before "serving ..." is printed: a busy port
    is one clear line, and uvicorn serving on this very socket leaves no moment for
    another process to take the port in between."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        # SO_REUSEADDR, as uvicorn sets: a port in TIME_WAIT is free, a listener is not.
        return socket.create_server((host, port), family=family)
    except OSError as error:
        in_use = error.errno == errno.EADDRINUSE
        reason = "address already in use" if in_use else (error.strerror or str(error))
        raise CommandError(f"cannot listen on {host}:{port}: {reason}") from None


def _check_database(settings: Settings) -> None:
    """Opens, migrates and reads the database once, so a bad file is one clear message
    and exit 2 instead of a server that fails on its first request."""

    async def probe(repository: Repository) -> int:
        await repository.ping(writable=True)
        return 0

    try:
        _with_repository(settings, probe)
    except Unavailable as error:
        raise CommandError(f"cannot use the database {settings.database}: {error}") from None


def _seed(args: argparse.Namespace, settings: Settings) -> int:
    async def work(repository: Repository) -> int:
        for kind, counts in (await seed_reference(repository)).items():
            print(f"{kind.value}: {_describe(counts)}")
        if args.demo:
            started = time.monotonic()
            sites, connections = await seed_demo(repository, args.demo, args.seed)
            print(
                f"demo: {args.demo} connections (seed {args.seed}): {connections} written, "
                f"{sites} sites written, in {time.monotonic() - started:.1f}s"
            )
        return 0

    return _with_repository(settings, work)


def _import(args: argparse.Namespace, settings: Settings) -> int:
    with Progress() as shown:
        return _import_showing(args, settings, shown)


def _import_showing(args: argparse.Namespace, settings: Settings, shown: Progress) -> int:
    progress = shown.note

    def rejected(rejection: Rejection) -> None:
        shown.note(str(rejection))

    def counted(label: str, done: int, total: int | None) -> None:
        shown.count(label, done, total, unit="site")

    db = settings.database
    _database_to_write(args, settings, progress, may_create=not args.dry_run)

    async def work(repository: Repository) -> int:
        try:
            report = await import_exports(
                repository,
                args.paths,
                progress,
                rejected,
                counted=counted,
                max_bytes=settings.import_max_bytes,
                batch_size=settings.import_batch_size,
                dry_run=args.dry_run,
            )
        except NoReferenceLists as error:
            raise CommandError(
                f"cannot import into {db}: {error}; load them with `{_seed_command(db)}`"
            ) from None
        except Unavailable as error:
            raise CommandError(
                f"cannot write to {db}: {error}; batches already written stay, run the "
                "import again to complete it"
            ) from None
        shown.close()
        sites, connections = report.counts.sites, report.counts.connections
        if args.dry_run:
            print(f"sites: {_describe_checked(sites)}")
            print(f"connections: {_describe_checked(connections)}")
            print("dry run: nothing written")
        else:
            print(f"sites: {_describe(sites)}")
            print(f"connections: {_describe(connections)}")
            print(f"transactions: {report.transactions}")
        if (sites.rejected or connections.rejected) and not args.allow_rejects:
            print(
                f"ocm-gql: error: {sites.rejected} of {sites.read} sites and "
                f"{connections.rejected} of {connections.read} connections were rejected "
                "(listed above); pass --allow-rejects to accept rejections",
                file=sys.stderr,
            )
            return EXIT_REJECTS
        return 0

    return _with_repository(settings, work)


def _database_to_write(
    args: argparse.Namespace, settings: Settings, note: Callable[[str], None], *, may_create: bool
) -> None:
    """Checks the database a command writes sites into. As serve: only the default file is
    created, with the reference lists (a mistyped path must not make a new one)."""
    missing = _missing_file(settings)
    if missing is not None and (_db_was_chosen(args) or not may_create):
        raise _no_database(missing)
    _check_database(settings)  # one clear line for a folder, a damaged file, a lock
    if missing is not None:
        note(f"created {settings.database}; loading the reference lists")
        _with_repository(settings, _seed_reference_only)


def _sync(args: argparse.Namespace, settings: Settings) -> int:
    from gql.data.sync import (
        BadSyncInput,
        OcmClient,
        RetryPolicy,
        SyncFailed,
        country_code_of,
        parse_since,
        sync_country,
    )

    try:
        country = country_code_of(args.country)
        since = None if args.since is None else parse_since(args.since)
    except BadSyncInput as error:
        raise CommandError(str(error)) from None
    # Each page is a line of our own progress; httpx's line per request would repeat it
    # (but for debugging).
    if logging.root.level > logging.DEBUG:
        logging.getLogger("httpx2").setLevel(logging.WARNING)
    db = settings.database
    with Progress() as shown:
        _database_to_write(args, settings, shown.note, may_create=True)

        def rejected(rejection: Rejection) -> None:
            shown.note(str(rejection))

        def counted(label: str, done: int, total: int | None) -> None:
            shown.count(label, done, total, unit="site")

        async def work(repository: Repository) -> int:
            client = OcmClient(
                settings.ocm_api_url,
                args.api_key or settings.ocm_api_key,
                timeout=settings.sync_timeout_seconds,
                retry=RetryPolicy(
                    attempts=settings.sync_attempts,
                    first_delay=settings.sync_retry_delay_seconds,
                    max_delay=settings.sync_max_retry_delay_seconds,
                ),
                note=shown.note,
            )
            async with client:
                try:
                    report = await sync_country(
                        repository,
                        client,
                        country,
                        since=since,
                        page_size=settings.sync_page_size,
                        progress=shown.note,
                        rejected=rejected,
                        counted=counted,
                    )
                except BadSyncInput as error:
                    raise CommandError(str(error)) from None
                except NoReferenceLists as error:
                    raise CommandError(
                        f"cannot sync into {db}: {error}; load them with `{_seed_command(db)}`"
                    ) from None
                except (SyncFailed, Unavailable) as error:
                    where = await _where_sync_stopped(repository, country)
                    raise CommandError(f"sync of {country} stopped: {error}; {where}") from None
            shown.close()
            counts = report.counts
            print(f"sites: {_describe(counts.sites)}")
            print(f"connections: {_describe(counts.connections)}")
            print(f"pages: {report.pages}, requests: {client.requests}")
            print(f"{country}: up to date as of {report.checkpoint.started_at}")
            if (counts.sites.rejected or counts.connections.rejected) and not args.allow_rejects:
                print(
                    f"ocm-gql: error: {counts.sites.rejected} of {counts.sites.read} sites and "
                    f"{counts.connections.rejected} of {counts.connections.read} connections "
                    "were rejected (listed above); pass --allow-rejects to accept rejections",
                    file=sys.stderr,
                )
                return EXIT_REJECTS
            return 0

        return _with_repository(settings, work)


async def _where_sync_stopped(repository: Repository, country: str) -> str:
    try:
        stored = await repository.sync_checkpoint(country)
    except Unavailable:  # the database itself is what failed
        stored = None
    if stored is not None and stored.finished_at is None:
        return (
            f"the pages written up to site {stored.last_id} stay; run the sync again to "
            "resume after them"
        )
    return "run the sync again to resume"


def _copy(args: argparse.Namespace, settings: Settings) -> int:
    try:
        source, target = DatabaseUrl.parse(args.source), DatabaseUrl.parse(args.target)
    except BadDatabaseUrl as error:
        raise CommandError(str(error)) from None

    with Progress() as shown:

        def copied(table: Table, rows: int) -> None:
            shown.count(f"{table.name} rows copied", rows)

        try:
            report = asyncio.run(
                copy_database(settings, source, target, replace=args.replace, copied=copied)
            )
            # Every table was written, the reference lists among them.
            asyncio.run(_announce_references(settings))
        except TargetNotEmpty as error:
            raise CommandError(f"{error}; pass --replace to replace everything in it") from None
        except CopyError as error:
            raise CommandError(str(error)) from None
    for table, rows in report.rows.items():
        print(f"{table}: {rows} rows")
    print(f"copied {report.total} rows from {source} to {target} in {report.seconds:.1f}s")
    return 0


async def _seed_reference_only(repository: Repository) -> int:
    await seed_reference(repository)
    return 0


def _export_schema(args: argparse.Namespace, _settings: Settings) -> int:
    from gql.graphql.schema import federation_sdl, public_sdl

    sys.stdout.write(federation_sdl() if args.federation else public_sdl())
    return 0


def _seed_command(database: DatabaseUrl) -> str:
    if database.backend is Backend.SQLITE:
        return f"ocm-gql seed --db {database}"
    return f"ocm-gql seed --database-url '{database}'"


def _no_database(db: Path, advice: str = "") -> CommandError:
    """A named database that does not exist: a mistyped path must not make a new one."""
    seed = f"create one with `{_seed_command(DatabaseUrl.sqlite_file(db))}`"
    return CommandError(" ".join(filter(None, (f"no database at {db};", seed, advice))))


def _existing_db(settings: Settings) -> Settings:
    # Keys go into the database the server reads; a mistyped path must not make a new one.
    missing = _missing_file(settings)
    if missing is not None:
        raise _no_database(missing)
    return settings


def _keys_create(args: argparse.Namespace, settings: Settings) -> int:
    async def work(repository: Repository) -> int:
        key = await create_key(repository, args.name, read_only=args.read_only)
        kind = "read-only key" if args.read_only else "key"
        print(f"created {kind} {args.name!r}; it is shown only now:", file=sys.stderr)
        print(key)
        return 0

    return _with_repository(_existing_db(settings), work)


def _keys_list(args: argparse.Namespace, settings: Settings) -> int:
    async def work(repository: Repository) -> int:
        keys = await repository.api_keys()
        if args.json:
            listed = [
                {
                    "name": key.name,
                    "readOnly": key.read_only,
                    "createdAt": key.created_at,
                    "revokedAt": key.revoked_at,
                }
                for key in keys
            ]
            print(json.dumps(listed, indent=2))
            return 0
        for key in keys:
            state = f"revoked {key.revoked_at}" if key.revoked_at else "active"
            kind = "read-only" if key.read_only else "write"
            print(f"{key.name}\t{kind}\tcreated {key.created_at}\t{state}")
        return 0

    return _with_repository(_existing_db(settings), work)


def _keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    async def work(repository: Repository) -> int:
        await revoke_key(repository, args.name)
        print(f"revoked {args.name!r}")
        return 0

    return _with_repository(_existing_db(settings), work)


def _settings(args: argparse.Namespace, _settings: Settings) -> int:
    loaded = load_settings(_flags(args))
    rows = [
        {
            "name": ENV_PREFIX + name.upper(),
            "value": shown(ENV_PREFIX + name.upper(), getattr(loaded.settings, name)),
            "source": str(source),
        }
        for name, source in loaded.sources.items()
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    width = max(len(f"{row['name']}={row['value']}") for row in rows)
    for row in rows:
        print(f"{row['name']}={row['value']}".ljust(width), f"  ({row['source']})")
    return 0


def _describe_checked(counts: WriteCounts) -> str:
    """Counts of a dry run: what is valid would be written or found unchanged."""
    return f"{counts.read} read, {counts.read - counts.rejected} valid, {counts.rejected} rejected"


def _describe(counts: WriteCounts) -> str:
    return (
        f"{counts.read} read, {counts.written} written, {counts.unchanged} unchanged, "
        f"{counts.rejected} rejected"
    )
