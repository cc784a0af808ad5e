"""Starlette's CORS and gzip middleware with a cheaper path for the common request.

Most requests carry no `Origin` (not from a browser) and no `Accept-Encoding: gzip`
(the benchmark's clients, most API clients). For those, Starlette still parses the
request's headers, builds a responder, normalizes its excluded content types and edits
the response's headers through `MutableHeaders`: a fair share of the CPU of a small
GraphQL answer. Here such requests take a lean path that changes the response exactly
as Starlette would (the same `Vary` values, at the same place, under the same
conditions); every other request goes through Starlette's own code.
"""

from __future__ import annotations

import functools

from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import Message, Receive, Scope, Send

RawHeaders = list[tuple[bytes, bytes]]


class Cors(CORSMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _first(scope["headers"], b"origin") is not None:
            await super().__call__(scope, receive, send)
            return
        # No Origin: no CORS headers (nor a preflight), but the response varies by Origin.

        async def send_varying(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _with_vary(message.get("headers", ()), b"Origin")
            await send(message)

        await self.app(scope, receive, send_varying)


class GZip(GZipMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or b"gzip" in (
            _first(scope["headers"], b"accept-encoding") or b""
        ):
            await super().__call__(scope, receive, send)
            return
        await self.app(scope, receive, _Identity(send, self.minimum_size, self._excluded).send)

    @functools.cached_property
    def _excluded(self) -> frozenset[str]:
        return frozenset(self.exclude_content_types)


class _Identity:
    """Starlette's IdentityResponder, for clients that accept no gzip: the response as
    it is, with `Vary: Accept-Encoding` added where a compressing response would have
    been (a body of at least the minimum size, or streamed, of a content type not
    excluded, not already encoded, not partial)."""

    __slots__ = ("_as_is", "_excluded", "_minimum_size", "_send", "_start", "_started")

    def __init__(self, send: Send, minimum_size: int, excluded: frozenset[str]) -> None:
        self._send = send
        self._minimum_size = minimum_size
        self._excluded = excluded
        self._start: Message = {}
        self._as_is = False
        self._started = False

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self._start = message
            headers = message.setdefault("headers", [])
            self._as_is = (
                _first(headers, b"content-encoding") is not None
                or message["status"] == 206
                or self._is_excluded(_first(headers, b"content-type") or b"")
            )
            if self._as_is:
                await self._send(message)
        elif kind in ("http.response.body", "http.response.pathsend") and self._as_is:
            await self._send(message)
        elif kind == "http.response.body" and not self._started:
            self._started = True
            if message.get("more_body", False) or len(message.get("body", b"")) >= (
                self._minimum_size
            ):
                self._start["headers"] = _with_vary(self._start["headers"], b"Accept-Encoding")
            await self._send(self._start)
            await self._send(message)
        elif kind == "http.response.body":
            message["body"] = message.get("body", b"")
            await self._send(message)
        elif kind in ("http.response.early_hint", "http.response.trailers"):
            await self._send(message)
        elif kind == "http.response.pathsend":
            await self._send(self._start)
            await self._send(message)

    def _is_excluded(self, content_type: bytes) -> bool:
        media_type = content_type.decode("latin-1").partition(";")[0].strip().lower()
        if media_type in self._excluded or media_type.partition("/")[0] + "/*" in self._excluded:
            return True
        return media_type.startswith("application/grpc+") and "application/grpc" in self._excluded


def _first(headers: RawHeaders, name: bytes) -> bytes | None:
    """The first value of a header, as Starlette's `Headers.get` finds it."""
    for key, value in headers:
        if key == name:
            return value
    return None


def _with_vary(headers: RawHeaders, value: bytes) -> RawHeaders:
    """The headers with ``value`` appended to `Vary`, as Starlette's `MutableHeaders`
    does it: every `Vary` joined into the first one's place, or a new one at the end."""
    headers = list(headers)
    found = [index for index, (key, _) in enumerate(headers) if key == b"vary"]
    joined = b", ".join([*(headers[index][1] for index in found), value])
    for index in reversed(found[1:]):
        del headers[index]
    if found:
        headers[found[0]] = (b"vary", joined)
    else:
        headers.append((b"vary", joined))
    return headers
