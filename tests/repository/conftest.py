"""A fresh, migrated repository on each backend: every storage test runs on both."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from gql.repository.base import Repository
from gql.repository.factory import open_repository
from gql.settings import Settings
from tests.databases import BACKENDS, throwaway_database


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with throwaway_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
async def repository(database_url: str) -> AsyncIterator[Repository]:
    opened = await open_repository(Settings(database_url=database_url))
    try:
        yield opened
    finally:
        await opened.close()
