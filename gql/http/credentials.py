"""The API key a request presents: `X-API-Key` (as OCM's API takes it) or a bearer token."""

from __future__ import annotations

from starlette.datastructures import Headers


def presented_key(headers: Headers) -> str | None:
    key = headers.get("x-api-key")
    if key:
        return key.strip()
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None
