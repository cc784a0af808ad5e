"""Metrics of SQL statements: how many, and their time, by backend and kind.

Fed by gql/observability/statements.py around every statement a repository backend runs;
the children of every (backend, kind) pair are made here once, so each statement costs a
dictionary lookup, an increment and a histogram observation, and every series exists at
zero from the start (an alert rule finds it before the first statement).
"""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter, Histogram

BACKENDS: Final = ("sqlite", "postgresql")
KINDS: Final = ("page", "count", "batch", "write", "other")
# A statement, or a wait for the database: most well under 10 ms, a busy lock seconds.
SECONDS_BUCKETS: Final = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
)  # fmt: skip

SQL_STATEMENTS: Final = Counter(
    "ocm_gql_sql_statements",
    "SQL statements run, by backend and kind (page, count, batch, write, other).",
    ["backend", "kind"],
)
SQL_STATEMENT_DURATION: Final = Histogram(
    "ocm_gql_sql_statement_duration_seconds",
    "Time of each SQL statement as its caller waits for it, by backend and kind.",
    ["backend", "kind"],
    buckets=SECONDS_BUCKETS,
)

_Child = tuple["Counter", "Histogram"]
_CHILDREN: Final[dict[tuple[str, str], _Child]] = {
    (backend, kind): (
        SQL_STATEMENTS.labels(backend, kind),
        SQL_STATEMENT_DURATION.labels(backend, kind),
    )
    for backend in BACKENDS
    for kind in KINDS
}


def observe_statement(backend: str, kind: str, seconds: float) -> None:
    counter, duration = _CHILDREN[backend, kind]
    counter.inc()
    duration.observe(seconds)
