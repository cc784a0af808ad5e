"""Cache lookups by cache and result (hit or miss), counted once per request and key.

One request asks the same cache about the same document several times: the pipeline,
the fast lane and the limits extension all call `parsed()`, and validation is asked by
the fast lane and again by the extension when the fast lane hands over. Only the first
lookup decides anything (it fills the cache, so the later ones always hit), so only the
first lookup of a key by a request is kept: in the request's record
(`current_record()`; each operation of a WebSocket has its own), whose lookups are counted
together when the request is (`count_lookups`), a few increments instead of one a lookup.
Outside a request (no record: a test calling the schema, the CLI) every lookup counts at
once.

Caches: ``parse`` (the document cache, gql/graphql/documents.py), ``validation`` (the
validation settings a cached document passed under), ``plan`` (the fast executor's plans,
kept with their document), ``apq`` (the persisted-query store, asked by hash),
``references`` (the per-process reference lists, per list).
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Hashable
from typing import Final

from prometheus_client import Counter

from gql.observability.record import RequestRecord, current_record


class Cache:
    """The caches' label values (plain strings: hashed at C speed on the hot path)."""

    PARSE: Final = "parse"
    VALIDATION: Final = "validation"
    PLAN: Final = "plan"
    APQ: Final = "apq"
    REFERENCES: Final = "references"
    ALL: Final = (PARSE, VALIDATION, PLAN, APQ, REFERENCES)


LOOKUPS: Final = Counter(
    "ocm_gql_cache_lookups_total",
    "Cache lookups by cache (parse, validation, plan, apq, references) and result (hit, "
    "miss); a request's repeated lookups of one key count once.",
    ["cache", "result"],
)
_CHILDREN: Final = {
    (cache, hit): LOOKUPS.labels(cache=cache, result="hit" if hit else "miss")
    for cache in Cache.ALL
    for hit in (True, False)
}


def looked_up(cache: str, key: Hashable, hit: bool) -> None:
    """Notes a lookup of ``key`` in ``cache``, unless this request has noted one."""
    record = current_record()
    if record is None:
        _CHILDREN[cache, hit].inc()
    else:
        record.cache_lookups.setdefault((cache, key), hit)


def count_lookups(record: RequestRecord) -> None:
    """Counts the request's lookups (once: they are taken from the record)."""
    if not record.cache_lookups:
        return
    tally = Tally((cache, hit) for (cache, _key), hit in record.cache_lookups.items())
    record.cache_lookups.clear()
    for pair, lookups in tally.items():
        _CHILDREN[pair].inc(lookups)
