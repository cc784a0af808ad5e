"""Which document a request runs: its own query text, or one it names by hash.

Two policies share one interface:

- `AutomaticPersistedQueries` (Apollo's APQ protocol): a client sends only
  ``extensions.persistedQuery.sha256Hash``; a miss answers PERSISTED_QUERY_NOT_FOUND and
  the client resends hash and text, which is verified and kept in a `PersistedQueryStore`:
  `MemoryQueryStore` (a bounded LRU of this process) or, with Redis, one every process
  shares (gql/http/persisted_redis.py).
- `TrustedDocuments` (production): only the operations of an Apollo persisted-query
  manifest run, named by hash or sent as the identical text.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from gql.http.request import BAD_REQUEST, GraphQLParams, RequestError
from gql.observability.metrics.caches import Cache, looked_up
from gql.util.lru import BoundedCache

PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
PERSISTED_QUERY_NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
QUERY_NOT_IN_SAFELIST = "QUERY_NOT_IN_SAFELIST"
MANIFEST_FORMAT = "apollo-persisted-query-manifest"

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class ManifestError(ValueError):
    """The trusted-documents manifest cannot be read."""


@dataclass(frozen=True, slots=True)
class Document:
    query: str
    on_valid: Callable[[], Awaitable[None]] | None = None
    """Awaited once the document has parsed and validated (APQ keeps it then)."""
    persisted: bool = False
    """One of the operator's trusted documents: its operation names are bounded, so
    metrics may label by them (APQ's are any caller's, so they are not)."""


class DocumentSource(Protocol):
    async def document(self, params: GraphQLParams) -> Document: ...


class PersistedQueryStore(Protocol):
    """Where APQ keeps query texts by hash. A hash names one text forever, so an entry
    is never stale: it can only be missing, and a miss is always safe (the client
    resends the text)."""

    async def get(self, sha256_hash: str) -> str | None: ...

    async def put(self, sha256_hash: str, query: str) -> None: ...


def sha256_hex(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def _missing_query() -> RequestError:
    return RequestError(400, BAD_REQUEST, "The request has no 'query' parameter.")


def _requested_hash(params: GraphQLParams) -> str | None:
    """The hash of ``extensions.persistedQuery``, checked; None when there is none."""
    persisted = params.extensions.get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict):
        raise RequestError(400, BAD_REQUEST, "extensions.persistedQuery must be a map.")
    version = persisted.get("version")
    if type(version) is not int or version != 1:
        raise RequestError(400, BAD_REQUEST, "Only persisted query version 1 is supported.")
    sha256_hash = persisted.get("sha256Hash")
    if not isinstance(sha256_hash, str) or not _SHA256_HEX.fullmatch(sha256_hash):
        raise RequestError(
            400, BAD_REQUEST, "extensions.persistedQuery.sha256Hash must be 64 hex digits."
        )
    return sha256_hash


def _graphql_error(status: int, code: str, message: str) -> RequestError:
    # Reported like a GraphQL error: 200 for legacy application/json clients.
    return RequestError(status, code, message, legacy_status=200)


def entry_bytes(sha256_hash: str, query: str) -> int:
    """A kept query as held in memory: its text as Python holds it (up to 4 bytes a
    character) and its hash key."""
    return sys.getsizeof(query) + sys.getsizeof(sha256_hash)


class MemoryQueryStore:
    """This process's queries, least recently used first out, bounded in count and bytes."""

    def __init__(self, max_size: int, max_bytes: int) -> None:
        self._queries: BoundedCache[str, str] = BoundedCache(max_size, max_bytes)

    def __len__(self) -> int:
        return len(self._queries)

    async def get(self, sha256_hash: str) -> str | None:
        return self._queries.get(sha256_hash)

    async def put(self, sha256_hash: str, query: str) -> None:
        self._queries.put(sha256_hash, query, entry_bytes(sha256_hash, query))


class AutomaticPersistedQueries:
    def __init__(self, store: PersistedQueryStore | None) -> None:
        """``store`` None turns APQ off (PERSISTED_QUERY_NOT_SUPPORTED)."""
        self.store = store

    async def document(self, params: GraphQLParams) -> Document:
        sha256_hash = _requested_hash(params)
        if sha256_hash is None:
            # The common case, and the store is never asked.
            if not params.query:
                raise _missing_query()
            return Document(params.query)
        store = self.store
        if store is None:
            # Apollo's clients match this message, not only the code.
            raise _graphql_error(400, PERSISTED_QUERY_NOT_SUPPORTED, "PersistedQueryNotSupported")
        if params.query:
            if sha256_hex(params.query) != sha256_hash:
                raise RequestError(400, BAD_REQUEST, "The provided sha256Hash does not match.")
            query = params.query
            return Document(query, on_valid=lambda: store.put(sha256_hash, query))
        stored = await store.get(sha256_hash)
        looked_up(Cache.APQ, sha256_hash, hit=stored is not None)
        if stored is None:
            raise _graphql_error(404, PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound")
        return Document(stored)


class TrustedDocuments:
    def __init__(self, operations: dict[str, str]) -> None:
        self._by_id = operations
        self._bodies = frozenset(operations.values())

    def __len__(self) -> int:
        return len(self._by_id)

    @classmethod
    def from_manifest(cls, path: Path) -> TrustedDocuments:
        try:
            manifest: Any = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ManifestError(f"cannot read the trusted documents {path}: {error}") from None
        if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
            raise ManifestError(f"{path} is not an {MANIFEST_FORMAT} (format field)")
        operations = manifest.get("operations")
        if manifest.get("version") != 1 or not isinstance(operations, list):
            raise ManifestError(f"{path}: expected version 1 with an operations list")
        by_id: dict[str, str] = {}
        for index, operation in enumerate(operations):
            if not (
                isinstance(operation, dict)
                and isinstance(operation.get("id"), str)
                and isinstance(operation.get("body"), str)
            ):
                raise ManifestError(f"{path}: operation {index} needs a string id and body")
            by_id[operation["id"]] = operation["body"]
        return cls(by_id)

    async def document(self, params: GraphQLParams) -> Document:
        sha256_hash = _requested_hash(params)
        if sha256_hash is not None:
            query = self._by_id.get(sha256_hash)
            if query is None:
                raise _graphql_error(
                    400,
                    PERSISTED_QUERY_NOT_IN_LIST,
                    f"Operation {sha256_hash} is not one of this server's trusted documents.",
                )
            if params.query and params.query != query:
                # Never run something other than what the client believes it sent.
                raise RequestError(
                    400, BAD_REQUEST, "The query differs from the trusted document it names."
                )
            return Document(query, persisted=True)
        if not params.query:
            raise _missing_query()
        if params.query not in self._bodies:
            raise _graphql_error(
                400,
                QUERY_NOT_IN_SAFELIST,
                "This server only runs its trusted documents; the query is not one of them.",
            )
        return Document(params.query, persisted=True)
