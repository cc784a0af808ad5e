"""Response media type negotiation, as the GraphQL-over-HTTP specification asks.

`application/graphql-response+json` lets status codes carry meaning (4xx for requests
that never ran); `application/json` is for legacy clients, which expect 200 for any
well-formed GraphQL response. A missing `Accept` or a wildcard means `application/json`.
"""

from __future__ import annotations

import enum


class ResponseMedia(enum.Enum):
    GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
    JSON = "application/json"

    @property
    def content_type(self) -> str:
        return f"{self.value}; charset=utf-8"


# Highest first when a client gives both the same weight: the newer type says more.
_PREFERENCE = (ResponseMedia.GRAPHQL_RESPONSE_JSON, ResponseMedia.JSON)
_WILDCARDS = {"*/*", "application/*"}


def negotiate(accept: str | None) -> ResponseMedia | None:
    """The media type to answer in, or None when the client accepts neither (406)."""
    if accept is None or not accept.strip():
        return ResponseMedia.JSON
    explicit: dict[ResponseMedia, float] = {}
    wildcard = 0.0
    for media_range, quality in _parse(accept):
        if media_range in _WILDCARDS:
            wildcard = max(wildcard, quality)
            continue
        for media in _PREFERENCE:
            if media_range == media.value:
                explicit[media] = max(explicit.get(media, 0.0), quality)

    def rank(media: ResponseMedia) -> tuple[float, bool, bool]:
        # A named type beats one reached by a wildcard; between named types of equal
        # weight the newer one wins, between wildcard ones application/json (legacy).
        if media in explicit:
            return (explicit[media], True, media is ResponseMedia.GRAPHQL_RESPONSE_JSON)
        return (wildcard, False, media is ResponseMedia.JSON)

    best = max(_PREFERENCE, key=rank)
    return best if rank(best)[0] > 0 else None


def _parse(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for part in accept.split(","):
        media_range, *parameters = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        if media_range:
            ranges.append((media_range.lower(), quality))
    return ranges
