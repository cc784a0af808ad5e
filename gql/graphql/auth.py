"""Who may write: every mutation asks `RequestAuth.writer()` first.

Reads are public. A missing, malformed, unknown or revoked key is UNAUTHENTICATED; a
read-only key is FORBIDDEN. The key is checked once per request, however many mutations
it holds.
"""

from __future__ import annotations

from typing import Final

from graphql import GraphQLError

from gql.domain.keys import Writer, authenticate
from gql.observability.record import current_record
from gql.repository.base import Repository

UNAUTHENTICATED: Final = "UNAUTHENTICATED"
FORBIDDEN: Final = "FORBIDDEN"


class RequestAuth:
    def __init__(self, repository: Repository, credential: str | None) -> None:
        self._repository = repository
        self._credential = credential
        self._checked = False
        self._writer: Writer | None = None

    async def writer(self) -> Writer:
        if self._credential is None:
            raise GraphQLError(
                "Writing needs an API key: send it as X-API-Key or Authorization: Bearer.",
                extensions={"code": UNAUTHENTICATED},
            )
        if not self._checked:
            self._writer = await authenticate(self._repository, self._credential)
            self._checked = True
            record = current_record()
            if record is not None and self._writer is not None:
                # Its name, for the request's log line: never the key itself.
                record.key_name = self._writer.name
        if self._writer is None:
            raise GraphQLError(
                "The API key is not valid (unknown, revoked or malformed).",
                extensions={"code": UNAUTHENTICATED},
            )
        if self._writer.read_only:
            raise GraphQLError(
                f"The API key {self._writer.name!r} is read-only.",
                extensions={"code": FORBIDDEN},
            )
        return self._writer
