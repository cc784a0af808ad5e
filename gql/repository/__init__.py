"""Storage: the repository interface, its records and the SQLite backend."""

from gql.repository.base import Repository
from gql.repository.sqlite import SqliteRepository

__all__ = ["Repository", "SqliteRepository"]
