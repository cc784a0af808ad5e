"""Opens the backend a database URL names."""

from __future__ import annotations

from gql.repository.base import Repository
from gql.repository.url import Backend, DatabaseUrl
from gql.settings import Settings


async def open_repository(settings: Settings, database: DatabaseUrl | None = None) -> Repository:
    """The repository of ``database`` (default: the settings' database), migrated to the
    newest schema. Raises CannotOpen (or SchemaTooNew) with a one-line reason."""
    database = database or settings.database
    if database.backend is Backend.POSTGRES:
        from gql.repository.postgres import PostgresRepository

        return await PostgresRepository.open(database.url, pool_size=settings.database_pool_size)
    from gql.repository.sqlite import SqliteRepository

    return await SqliteRepository.open(
        database.path, readers=settings.readers, busy_timeout_ms=settings.busy_timeout_ms
    )
