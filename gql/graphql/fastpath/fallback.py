"""Why an operation goes to graphql-core's executor instead of the fast one: before the
fast path tries, or when it gives up on the way."""

from __future__ import annotations

from enum import StrEnum


class Fallback(StrEnum):
    """Why an operation went to graphql-core's executor instead (the metrics' reason)."""

    NOT_PARSED = "not_parsed"
    """The document does not parse, or is over the size or token limit."""
    INVALID = "invalid"
    """It fails validation, names no operation it holds, or its variables do not coerce."""
    OVER_BUDGET = "over_budget"
    """Its cost is over the limit."""
    NOT_QUERY = "not_query"
    """A mutation or subscription."""
    UNSUPPORTED = "unsupported"
    """The planner met what it does not handle (introspection, @defer, a type check...)."""
    GAVE_UP = "gave_up"
    """It started, and met an error or a value it cannot complete as graphql-core would."""


class GiveUp(Exception):
    """The fast path cannot answer exactly as graphql-core would; run graphql-core."""
