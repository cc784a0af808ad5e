"""Chooses the storage backend for the configured database."""

from __future__ import annotations

from gql.repository.base import Repository
from gql.repository.sqlite import SqliteRepository
from gql.settings import Settings


async def open_repository(settings: Settings) -> Repository:
    return await SqliteRepository.open(
        settings.db, readers=settings.readers, busy_timeout_ms=settings.busy_timeout_ms
    )
