"""What every resolver can reach: made fresh for each request (or WebSocket operation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gql.broadcast import Broadcaster
from gql.graphql.auth import RequestAuth
from gql.graphql.loaders import Loaders, create_loaders
from gql.reference_cache import ReferenceCache
from gql.repository.base import Repository
from gql.settings import Settings
from gql.writes import ConnectionWrites


@dataclass(frozen=True, slots=True)
class Context:
    settings: Settings
    repository: Repository
    references: ReferenceCache
    loaders: Loaders
    writes: ConnectionWrites
    broadcaster: Broadcaster
    auth: RequestAuth
    request: Any = None
    """The HTTP request or WebSocket (Starlette), when there is one; tracing reads its
    headers."""

    @classmethod
    def for_request(
        cls,
        settings: Settings,
        repository: Repository,
        references: ReferenceCache,
        request: Any = None,
        *,
        broadcaster: Broadcaster,
        writes: ConnectionWrites | None = None,
        credential: str | None = None,
        memoize: bool = True,
    ) -> Context:
        return cls(
            settings=settings,
            repository=repository,
            references=references,
            loaders=create_loaders(repository, references, memoize=memoize),
            writes=writes or ConnectionWrites(repository, references, broadcaster),
            broadcaster=broadcaster,
            auth=RequestAuth(repository, credential),
            request=request,
        )
