"""The fast executor's share: operations it answered, and those it handed to graphql-core's
executor, with the reason's class (gql/graphql/fastpath/fallback.py `Fallback`)."""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter

FAST_EXECUTOR: Final = Counter(
    "ocm_gql_fast_executor_total",
    "Operations sent to the fast executor: answered there, or fell back to graphql-core's "
    "executor (reason: not_parsed, invalid, over_budget, not_query, unsupported, gave_up).",
    ["result", "reason"],
)
_ANSWERED: Final = FAST_EXECUTOR.labels(result="answered", reason="none")


def answered() -> None:
    _ANSWERED.inc()


def fell_back(reason: str) -> None:
    FAST_EXECUTOR.labels(result="fell_back", reason=reason).inc()
