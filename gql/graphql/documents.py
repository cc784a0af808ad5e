"""Parsed documents and what is derived from them (validation, costs, execution plans),
cached together per query text and bounded in bytes, so one eviction frees all of it.

A syntax tree weighs hundreds of bytes per token (a 5,000-character document, half a
megabyte), so the cache is bounded by an estimate of each entry's size, not only by their
count. Documents that a limit or validation refuses are never kept: the request that
refused one hands it from the fast lane to Strawberry's pipeline (`handed_over`), then
lets it go.
"""

from __future__ import annotations

from collections.abc import Hashable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Final

from graphql import DocumentNode, GraphQLError, GraphQLSyntaxError, parse

from gql.graphql.errors import with_syntax_code
from gql.observability.metrics.caches import Cache, looked_up
from gql.settings import Settings
from gql.util.lru import BoundedCache

MAX_ENTRIES: Final = 1024
DERIVED_PER_DOCUMENT: Final = 32
"""Costs (per operation and variables) and plans (per operation and @include/@skip values)
kept with one document; more are computed each time."""

# Measured with tracemalloc over many shapes of document (tests/test_documents.py checks
# that the estimate never falls below what parsing allocates): a token and its syntax
# node take 320-430 bytes, the query text up to 4 bytes a character.
BYTES_PER_TOKEN: Final = 512
BYTES_PER_CHAR: Final = 4
BYTES_PER_ENTRY: Final = 2048
BYTES_PER_PLAN_TOKEN: Final = 256
"""A plan's estimate: its fields and arguments follow the document's tokens."""


def estimated_size(query: str, document: DocumentNode | None) -> int:
    tokens = document.token_count if document is not None else 0
    return BYTES_PER_ENTRY + BYTES_PER_CHAR * len(query) + BYTES_PER_TOKEN * tokens


@dataclass(eq=False, slots=True)
class CachedDocument:
    document: DocumentNode
    size: int
    accepted: set[Hashable] = field(default_factory=set)
    """The validation settings under which the document passed."""
    costs: dict[Hashable, int] = field(default_factory=dict)
    plans: dict[Hashable, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refused document, held by the request that refused it and nothing else."""

    query: str
    document: DocumentNode
    validation_errors: list[GraphQLError]
    over_budget: GraphQLError | None = None


_handed_over: ContextVar[Refusal | None] = ContextVar("refused_document", default=None)


@dataclass(frozen=True, slots=True)
class _SyntaxError:
    error: GraphQLError
    max_tokens: int
    """The token limit it was found under: under another, the text may parse."""


class DocumentCache:
    def __init__(self, max_bytes: int) -> None:
        self._entries: BoundedCache[str, CachedDocument | _SyntaxError] = BoundedCache(
            MAX_ENTRIES, max_bytes
        )

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, query: object) -> bool:
        return query in self._entries

    @property
    def bytes(self) -> int:
        return self._entries.bytes

    def bound(self, max_bytes: int) -> None:
        """Follows the budget of the settings in force (one per process in practice)."""
        self._entries.max_bytes = max_bytes

    def parse(self, query: str, max_tokens: int) -> DocumentNode | GraphQLError:
        """The document, or its syntax error with its code; both are cached (an error
        keeps the text, not a syntax tree)."""
        refused = _handed_over.get()
        if refused is not None and refused.query == query:
            return refused.document
        known = self._entries.get(query)
        if isinstance(known, CachedDocument) and known.document.token_count <= max_tokens:
            looked_up(Cache.PARSE, query, hit=True)
            return known.document
        if isinstance(known, _SyntaxError) and known.max_tokens == max_tokens:
            looked_up(Cache.PARSE, query, hit=True)
            return known.error
        looked_up(Cache.PARSE, query, hit=False)
        try:
            document = parse(query, max_tokens=max_tokens)
        except GraphQLSyntaxError as error:
            syntax_error = with_syntax_code(error)
            self._entries.put(
                query, _SyntaxError(syntax_error, max_tokens), estimated_size(query, None)
            )
            return syntax_error
        size = estimated_size(query, document)
        self._entries.put(query, CachedDocument(document, size), size)
        return document

    def entry(self, document: DocumentNode) -> CachedDocument | None:
        """The cache's entry for this very document, when it holds it."""
        if document.loc is None:
            return None
        known = self._entries.get(document.loc.source.body)
        if isinstance(known, CachedDocument) and known.document is document:
            return known
        return None

    def add_plan(self, entry: CachedDocument, key: Hashable, plan: object) -> None:
        """Keeps a plan with its document; the entry's size grows by the plan's estimate."""
        loc = entry.document.loc
        if len(entry.plans) >= DERIVED_PER_DOCUMENT or loc is None:
            return
        entry.plans[key] = plan
        entry.size += BYTES_PER_PLAN_TOKEN * entry.document.token_count
        if self._entries.get(loc.source.body) is entry:
            self._entries.put(loc.source.body, entry, entry.size)

    def refuse(self, refusal: Refusal) -> None:
        """Drops the refused document, handing it to the rest of this request only."""
        if self.entry(refusal.document) is not None:
            self._entries.pop(refusal.query)
        _handed_over.set(refusal)


def handed_over(document: DocumentNode) -> Refusal | None:
    """This request's refusal of this very document, if it refused it."""
    refused = _handed_over.get()
    return refused if refused is not None and refused.document is document else None


document_cache: Final = DocumentCache(Settings().query_cache_bytes)
"""The process's one cache of documents: the schema, and so what a document means, is
the same for every request."""
