"""Opens the backend a database URL names."""

from __future__ import annotations

from gql.repository.base import CannotOpen, Repository
from gql.repository.url import Backend, DatabaseUrl
from gql.settings import Settings


async def open_repository(settings: Settings, database: DatabaseUrl | None = None) -> Repository:
    """The repository of ``database`` (default: the settings' database, with its read
    replica when one is set), migrated to the newest schema. Raises CannotOpen (or
    SchemaTooNew) with a one-line reason."""
    if database is None and settings.read_database is not None:
        return await _open_replicated(settings, settings.read_database)
    database = database or settings.database
    if database.backend is Backend.POSTGRES:
        from gql.repository.postgres import PostgresRepository

        return await PostgresRepository.open(database.url, pool_size=settings.database_pool_size)
    from gql.repository.sqlite import SqliteRepository

    return await SqliteRepository.open(
        database.path, readers=settings.readers, busy_timeout_ms=settings.busy_timeout_ms
    )


async def _open_replicated(settings: Settings, read_database: DatabaseUrl) -> Repository:
    """The primary, migrated first, and its replica, which follows the primary's schema."""
    from gql.repository.postgres import PostgresRepository
    from gql.repository.replicated import ReplicatedRepository

    pool_size = settings.database_pool_size
    primary = await PostgresRepository.open(settings.database.url, pool_size=pool_size)
    try:
        replica = await PostgresRepository.open(
            read_database.url, pool_size=pool_size, migrate=False
        )
    except CannotOpen as error:
        await primary.close()
        # The caller names the primary; say that it is the replica that failed.
        raise type(error)(f"the read replica {read_database}: {error}") from None
    except BaseException:
        await primary.close()
        raise
    return ReplicatedRepository(primary, replica)
