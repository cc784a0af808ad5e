"""Storage: the repository interface, its records, and one package per backend."""

from gql.repository.base import Repository

__all__ = ["Repository"]
