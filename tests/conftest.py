"""Shared fixtures: real SQLite files, the OCM sample data from ../shared, and in-process
GraphQL execution with a fresh per-request context, as the server does it."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from strawberry.types import ExecutionResult

from gql.cli import main as cli_main
from gql.graphql.context import Context
from gql.graphql.schema import schema
from gql.reference_cache import ReferenceCache
from gql.repository.sqlite import SqliteRepository
from gql.settings import Settings

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


@pytest.fixture(scope="session")
def ocm_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding the reference lists and every site of ../shared/ocm/poi."""
    poi_dir = shared_ocm() / "poi"
    db = tmp_path_factory.mktemp("ocm") / "ocm.db"
    run_cli("seed", "--db", str(db))
    run_cli("import", "--db", str(db), str(poi_dir))
    return db


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the reference lists and 3,000 generated demo connections."""
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    run_cli("seed", "--db", str(db), "--demo", "3000", "--seed", "1")
    return db


@pytest.fixture
async def empty_repository(tmp_path: Path) -> AsyncIterator[SqliteRepository]:
    repository = await SqliteRepository.open(tmp_path / "test.db")
    yield repository
    await repository.close()


class GraphQLRunner:
    """Executes operations in process, one fresh context (and loaders) per call."""

    def __init__(self, repository: SqliteRepository, settings: Settings) -> None:
        self.repository = repository
        self.settings = settings
        self.references = ReferenceCache(repository)

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> ExecutionResult:
        context = Context.for_request(self.settings, self.repository, self.references)
        return await schema.execute(query, variable_values=variables, context_value=context)

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        result = await self.execute(query, variables)
        assert result.errors is None, result.errors
        return result.data


@contextlib.asynccontextmanager
async def graphql_runner(db: Path, **settings: Any) -> AsyncIterator[GraphQLRunner]:
    repository = await SqliteRepository.open(db)
    try:
        yield GraphQLRunner(repository, Settings(db=db, **settings))
    finally:
        await repository.close()


@pytest.fixture
async def ocm_graphql(ocm_db: Path) -> AsyncIterator[GraphQLRunner]:
    async with graphql_runner(ocm_db) as runner:
        yield runner


@pytest.fixture
async def demo_graphql(demo_db: Path) -> AsyncIterator[GraphQLRunner]:
    async with graphql_runner(demo_db) as runner:
        yield runner
