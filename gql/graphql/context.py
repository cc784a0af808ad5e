"""What every resolver can reach: made fresh for each request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gql.graphql.loaders import Loaders, create_loaders
from gql.reference_cache import ReferenceCache
from gql.repository.base import Repository
from gql.settings import Settings


@dataclass(frozen=True, slots=True)
class Context:
    settings: Settings
    repository: Repository
    references: ReferenceCache
    loaders: Loaders
    request: Any = None
    """The HTTP request (a Starlette Request), when there is one; tracing reads its headers."""

    @classmethod
    def for_request(
        cls,
        settings: Settings,
        repository: Repository,
        references: ReferenceCache,
        request: Any = None,
    ) -> Context:
        return cls(
            settings=settings,
            repository=repository,
            references=references,
            loaders=create_loaders(repository, references),
            request=request,
        )
