"""Shared fixtures: real databases on each backend (the `backend` fixture runs a test once
on SQLite and once on PostgreSQL), the OCM sample data from ../shared, and in-process
GraphQL execution with a fresh per-request context, as the server does it."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from strawberry.types import ExecutionResult

from gql.broadcast import InProcessBroadcaster
from gql.cli import main as cli_main
from gql.graphql.context import Context
from gql.graphql.schema import schema
from gql.reference_cache import ReferenceCache
from gql.repository.base import Repository
from gql.repository.factory import open_repository
from gql.settings import Settings
from tests.databases import BACKENDS, leftover_databases, require_postgres, throwaway_database

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_OCM = REPO_ROOT.parent / "shared" / "ocm"


def shared_ocm() -> Path:
    """The OCM sample data beside the checkout; tests that need it skip without it."""
    if not (SHARED_OCM / "poi" / "STATS.json").is_file():
        pytest.skip(f"OCM sample data not found at {SHARED_OCM} (../shared/ocm beside the repo)")
    return SHARED_OCM


def run_cli(*args: str) -> str:
    """Runs the CLI in process and returns what it printed on stdout."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = cli_main(list(args))
    assert code == 0, out.getvalue()
    return out.getvalue()


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built once per run; its build hook takes GraphiQL's files from
    the checkout's npm install (running `npm ci` itself when they are missing)."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO_ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (built,) = out.glob("ocm_gql-*.whl")
    return built


# For a test whose subject is SQLite itself (pragmas, file permissions, query plans, its
# busy timeout, values its loose typing lets in): the shared fixtures on SQLite alone.
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each backend in turn; a test (or fixture) that takes it runs once per backend.
    PostgreSQL cases skip (fail under CI) when its server cannot be reached."""
    name: str = request.param
    if name == "postgres":
        require_postgres()
    return name


@pytest.fixture(scope="session", autouse=True)
def _no_databases_left() -> Iterator[None]:
    """A run leaves none of its throwaway PostgreSQL databases behind."""
    yield
    assert leftover_databases() == []


@pytest.fixture(scope="session")
def ocm_db(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a database holding the reference lists and every site of ../shared/ocm/poi."""
    poi_dir = shared_ocm() / "poi"
    with throwaway_database(backend, tmp_path_factory.mktemp("ocm")) as url:
        run_cli("seed", "--database-url", url)
        run_cli("import", "--database-url", url, str(poi_dir))
        yield url


@pytest.fixture(scope="session")
def demo_db(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a database with the reference lists and 3,000 generated demo connections."""
    with throwaway_database(backend, tmp_path_factory.mktemp("demo")) as url:
        run_cli("seed", "--database-url", url, "--demo", "3000", "--seed", "1")
        yield url


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty database (no schema yet) for this test alone."""
    with throwaway_database(backend, tmp_path) as url:
        yield url


@pytest.fixture
async def empty_repository(database_url: str) -> AsyncIterator[Repository]:
    repository = await open_repository(Settings(database_url=database_url))
    yield repository
    await repository.close()


class GraphQLRunner:
    """Executes operations in process, one fresh context (and loaders) per call."""

    def __init__(self, repository: Repository, settings: Settings) -> None:
        self.repository = repository
        self.settings = settings
        self.references = ReferenceCache(repository)

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> ExecutionResult:
        context = Context.for_request(
            self.settings, self.repository, self.references, broadcaster=InProcessBroadcaster()
        )
        return await schema.execute(query, variable_values=variables, context_value=context)

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        result = await self.execute(query, variables)
        assert result.errors is None, result.errors
        return result.data


@contextlib.asynccontextmanager
async def graphql_runner(database_url: str, **settings: Any) -> AsyncIterator[GraphQLRunner]:
    """In-process GraphQL over the database at ``database_url`` (either backend)."""
    chosen = Settings(database_url=database_url, **settings)
    repository = await open_repository(chosen)
    try:
        yield GraphQLRunner(repository, chosen)
    finally:
        await repository.close()


@pytest.fixture
async def ocm_graphql(ocm_db: str) -> AsyncIterator[GraphQLRunner]:
    async with graphql_runner(ocm_db) as runner:
        yield runner


@pytest.fixture
async def demo_graphql(demo_db: str) -> AsyncIterator[GraphQLRunner]:
    async with graphql_runner(demo_db) as runner:
        yield runner
