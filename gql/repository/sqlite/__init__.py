"""The SQLite backend: one file, one writer connection and a pool of readers."""

from gql.repository.sqlite.repository import SqliteRepository

__all__ = ["SqliteRepository"]
