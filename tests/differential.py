"""Two backends holding the same data, asked the same operations in process.

A ``Pair`` keeps one event loop (an ``asyncio.Runner``) for its whole life, so both
repositories, their pools and the synchronous tests that drive them (hypothesis's among
them) share it. Each operation runs with a fresh context per backend, as the server makes
one per request, and the two answers are compared as JSON text: the same data, the same
errors, the same order, the same number types.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gql.broadcast import InProcessBroadcaster
from gql.graphql.context import Context
from gql.graphql.schema import schema
from gql.reference_cache import ReferenceCache
from gql.repository.base import Repository
from gql.repository.factory import open_repository
from gql.settings import Settings

Answer = dict[str, Any]


@dataclass
class Backend:
    """One opened database and what a request's context is made of."""

    name: str
    url: str
    repository: Repository
    settings: Settings
    references: ReferenceCache

    async def execute(
        self, query: str, variables: dict[str, Any] | None = None, credential: str | None = None
    ) -> Answer:
        context = Context.for_request(
            self.settings,
            self.repository,
            self.references,
            broadcaster=InProcessBroadcaster(),
            credential=credential,
        )
        result = await schema.execute(query, variable_values=variables, context_value=context)
        answer: Answer = {"data": result.data}
        if result.errors:
            answer["errors"] = [error.formatted for error in result.errors]
        return answer


def as_text(answer: Answer) -> str:
    return json.dumps(answer, indent=1, ensure_ascii=False)


def first_difference(left: Any, right: Any, path: str = "") -> str:
    """Where two JSON values first differ, as a path."""
    if isinstance(left, dict) and isinstance(right, dict):
        for key in [*left, *(k for k in right if k not in left)]:
            if key not in left or key not in right or as_text(left[key]) != as_text(right[key]):
                if key in left and key in right:
                    return first_difference(left[key], right[key], f"{path}.{key}")
                return f"{path}.{key} (present on one side only)"
    if isinstance(left, list) and isinstance(right, list):
        for index, (a, b) in enumerate(zip(left, right, strict=False)):
            if as_text(a) != as_text(b):
                return first_difference(a, b, f"{path}[{index}]")
        if len(left) != len(right):
            return f"{path} (lengths {len(left)} and {len(right)})"
    return f"{path or '.'}: {json.dumps(left)} != {json.dumps(right)}"


class Pair:
    """The same data on SQLite and on PostgreSQL."""

    def __init__(self, runner: asyncio.Runner, sqlite: Backend, postgres: Backend) -> None:
        self.runner = runner
        self.sqlite = sqlite
        self.postgres = postgres
        self.backends = (sqlite, postgres)

    def ask(
        self,
        backend: Backend,
        query: str,
        variables: dict[str, Any] | None = None,
        credential: str | None = None,
    ) -> Answer:
        return self.runner.run(backend.execute(query, variables, credential))

    def same(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        credentials: tuple[str, str] | None = None,
    ) -> Answer:
        """The answer of both backends, which must be identical; on a difference the
        failure shows the operation, where they differ and both answers in full."""
        sqlite, postgres = (
            self.ask(backend, query, variables, credential)
            for backend, credential in zip(self.backends, credentials or (None, None), strict=True)
        )
        if as_text(sqlite) != as_text(postgres):
            report = (
                "the backends answer differently\n"
                f"query:\n{query}\nvariables: {json.dumps(variables)}\n"
                f"first difference: {first_difference(sqlite, postgres)}\n"
                f"SQLite:\n{as_text(sqlite)}\nPostgreSQL:\n{as_text(postgres)}"
            )
            print(report)
            pytest.fail(report, pytrace=False)
        return sqlite


@contextlib.contextmanager
def opened_pair(sqlite_url: str, postgres_url: str) -> Iterator[Pair]:
    """Both databases opened on one loop, closed afterwards."""

    async def open_backend(name: str, url: str) -> Backend:
        settings = Settings(database_url=url)
        repository = await open_repository(settings)
        return Backend(name, url, repository, settings, ReferenceCache(repository))

    with asyncio.Runner() as runner:
        sqlite = runner.run(open_backend("SQLite", sqlite_url))
        try:
            postgres = runner.run(open_backend("PostgreSQL", postgres_url))
            try:
                yield Pair(runner, sqlite, postgres)
            finally:
                runner.run(postgres.repository.close())
        finally:
            runner.run(sqlite.repository.close())


def ticking_clock(start: datetime = datetime(2024, 5, 1, tzinfo=UTC)) -> Callable[[], str]:
    """utc_now's stand-in: one millisecond later at each call, from the same start, so the
    same writes on two backends log the same times (the wall clock is the one input two
    runs cannot share)."""
    ticks = itertools.count(1)

    def now() -> str:
        moment = start + timedelta(milliseconds=next(ticks))
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    return now
