"""Cache lookups by cache and result (hit or miss), counted once per request and key.

One request asks the same cache about the same document several times: the pipeline,
the fast lane and the limits extension all call `parsed()`, and validation is asked by
the fast lane and again by the extension when the fast lane hands over. Only the first
lookup decides anything (it fills the cache, so the later ones always hit), so only the
first lookup of a key by a request is counted; the request is the one the observing
middleware's record stands for (`current_record()`), and a WebSocket starts afresh with
each operation it is sent (`count_afresh`). Outside a request (no record: a test calling
the schema, the CLI) every lookup counts.

Caches: ``parse`` (the document cache, gql/graphql/documents.py), ``validation`` (the
validation settings a cached document passed under), ``plan`` (the fast executor's plans,
kept with their document), ``apq`` (the persisted-query store, asked by hash),
``references`` (the per-process reference lists, per list).
"""

from __future__ import annotations

from collections.abc import Hashable
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from prometheus_client import Counter

from gql.observability.record import RequestRecord, current_record


class Cache(StrEnum):
    PARSE = "parse"
    VALIDATION = "validation"
    PLAN = "plan"
    APQ = "apq"
    REFERENCES = "references"


LOOKUPS: Final = Counter(
    "ocm_gql_cache_lookups_total",
    "Cache lookups by cache (parse, validation, plan, apq, references) and result (hit, "
    "miss); a request's repeated lookups of one key count once.",
    ["cache", "result"],
)
_CHILDREN: Final = {
    (cache, hit): LOOKUPS.labels(cache=cache.value, result="hit" if hit else "miss")
    for cache in Cache
    for hit in (True, False)
}


@dataclass(slots=True)
class _Counted:
    record: RequestRecord | None
    keys: set[tuple[Cache, Hashable]] = field(default_factory=set)


_counted: ContextVar[_Counted | None] = ContextVar("cache_lookups_counted", default=None)


def looked_up(cache: Cache, key: Hashable, hit: bool) -> None:
    """Counts a lookup of ``key`` in ``cache``, unless this request has counted one."""
    record = current_record()
    if record is not None:
        counted = _counted.get()
        if counted is None or counted.record is not record:
            # The first lookup of this request (a record of an earlier one may linger in
            # a context that ran it in place, as an in-process test client does).
            counted = _Counted(record)
            _counted.set(counted)
        seen = (cache, key)
        if seen in counted.keys:
            return
        counted.keys.add(seen)
    _CHILDREN[cache, hit].inc()


def count_afresh() -> None:
    """Lookups from here on (and in tasks started from here) count as a new request's:
    for each operation of a WebSocket, which shares its connection's record."""
    _counted.set(_Counted(current_record()))
