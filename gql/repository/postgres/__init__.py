"""The PostgreSQL backend: an asyncpg pool, the statements, and migrations under a lock."""

from gql.repository.postgres.repository import PostgresRepository

__all__ = ["PostgresRepository"]
