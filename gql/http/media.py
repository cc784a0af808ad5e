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
    weights: dict[ResponseMedia, float] = {}
    wildcard = 0.0
    for media_range, quality in _parse(accept):
        if media_range in _WILDCARDS:
            wildcard = max(wildcard, quality)
            continue
        for media in _PREFERENCE:
            if media_range == media.value:
                weights[media] = max(weights.get(media, 0.0), quality)
    # A wildcard stands for application/json, the type legacy clients understand.
    if ResponseMedia.JSON not in weights:
        weights[ResponseMedia.JSON] = wildcard
    best = max(weights.values(), default=0.0)
    if best <= 0:
        return None
    return next(media for media in _PREFERENCE if weights.get(media) == best)


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
