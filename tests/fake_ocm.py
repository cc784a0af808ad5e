"""A fake of Open Charge Map's API for `ocm-gql sync`: a real HTTP server (uvicorn, on a
free loopback port, in a thread) serving site records through /v3/poi with OCM's
parameters, recording every request, and failing on demand.

Parameters served as OCM serves them: ``countrycode`` (an ISO code, matched with the
records' AddressInfo.CountryID through the seed's country list), ``modifiedsince`` (sites
whose DateLastStatusUpdate, or DateLastModified when present, is after it),
``greaterthanid``, ``sortby=id_asc`` (without it, an order that is not by id, as OCM's
default spatial order is not), ``maxresults`` (default 100). ``compact`` and ``verbose``
are recorded; the records are served as given (the sample files are compact already).

Failures, each planned for a numbered request (the first request is number 1): ``429``
(with Retry-After), ``500``, ``truncated`` (a 200 whose body stops half-way, a whole HTTP
answer that is not whole JSON) and ``drop`` (the connection closed half-way through the
body).
"""

from __future__ import annotations

import asyncio
import copy
import json
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qsl

import uvicorn

REPO_ROOT = Path(__file__).resolve().parents[1]

FailureKind = Literal["429", "500", "truncated", "drop", "stall"]


@dataclass(frozen=True)
class SeenRequest:
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    """Header names in lower case."""
    at: float
    """time.monotonic() when it arrived."""


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    retry_after: str | None = None
    stall_seconds: float = 0.0


@dataclass
class FakeOcm:
    records: list[dict[str, Any]]
    required_key: str | None = None
    """When set, a request without this X-API-Key is answered 401."""
    requests: list[SeenRequest] = field(default_factory=list)
    _failures: dict[int, Failure] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    port: int = 0

    @classmethod
    def serving(cls, files: Iterable[Path], **options: Any) -> FakeOcm:
        records: list[dict[str, Any]] = []
        for path in files:
            records.extend(json.loads(path.read_text(encoding="utf-8")))
        return cls(records=records, **options)

    @property
    def url(self) -> str:
        """The base URL, as OCM's https://api.openchargemap.io/v3."""
        return f"http://127.0.0.1:{self.port}/v3"

    def fail(
        self,
        kind: FailureKind,
        *,
        at: int | None = None,
        times: int = 1,
        retry_after: str | None = None,
        stall_seconds: float = 2.0,
    ) -> None:
        """Fail request number ``at`` (default: the next) and the ``times - 1`` after it."""
        with self._lock:
            first = len(self.requests) + 1 if at is None else at
            for number in range(first, first + times):
                self._failures[number] = Failure(kind, retry_after, stall_seconds)

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()

    def update(self, site_id: int, **changes: Any) -> None:
        """Changes a served record, as an edit at OCM would."""
        with self._lock:
            (record,) = [r for r in self.records if r["ID"] == site_id]
            record.update(changes)

    def poi_requests(self) -> list[SeenRequest]:
        return [r for r in self.requests if r.path.rstrip("/").endswith("/poi")]

    # -- serving ------------------------------------------------------------------------

    def __enter__(self) -> FakeOcm:
        listener = socket.create_server(("127.0.0.1", 0))
        self.port = listener.getsockname()[1]
        config = uvicorn.Config(self._app, log_level="critical", lifespan="off", interface="asgi3")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [listener]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert time.monotonic() < deadline, "the fake OCM server did not start"
            time.sleep(0.01)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._server is not None
        assert self._thread is not None
        self._server.should_exit = True
        self._thread.join(10)

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        params = dict(parse_qsl(scope["query_string"].decode()))
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        with self._lock:
            self.requests.append(SeenRequest(scope["path"], params, headers, time.monotonic()))
            failure = self._failures.pop(len(self.requests), None)
            if scope["path"].rstrip("/") != "/v3/poi":
                status, body = 404, b'"not found"'
            elif self.required_key is not None and headers.get("x-api-key") != self.required_key:
                status, body = 401, b'"a valid API key is required"'
            else:
                status, body = 200, json.dumps(self._answer(params)).encode()
        extra: list[tuple[bytes, bytes]] = []
        if failure is not None:
            if failure.kind == "429":
                status, body = 429, b'"too many requests"'
                if failure.retry_after is not None:
                    extra.append((b"retry-after", failure.retry_after.encode()))
            elif failure.kind == "500":
                status, body = 500, b'"internal error"'
            elif failure.kind == "truncated":
                body = body[: max(len(body) // 2, 1)]
            elif failure.kind == "stall":
                await asyncio.sleep(failure.stall_seconds)
            elif failure.kind == "drop":
                await _send_head(send, 200, len(body), [])
                await send({"type": "http.response.body", "body": body[: len(body) // 2]})
                raise ConnectionAbortedError("the fake drops the connection half-way")
        await _send_head(send, status, len(body), extra)
        await send({"type": "http.response.body", "body": body})

    def _answer(self, params: dict[str, str]) -> list[dict[str, Any]]:
        found = list(self.records)
        if "countrycode" in params:
            country_id = _country_ids().get(params["countrycode"].upper())
            found = [r for r in found if r.get("AddressInfo", {}).get("CountryID") == country_id]
        if "modifiedsince" in params:
            since = _parse_time(params["modifiedsince"])
            found = [r for r in found if (changed := _modified(r)) and changed > since]
        if "greaterthanid" in params:
            after = int(params["greaterthanid"])
            found = [r for r in found if r["ID"] > after]
        if params.get("sortby") == "id_asc":
            found.sort(key=lambda r: r["ID"])
        else:
            found.sort(key=lambda r: (r["ID"] % 7, r["ID"]))  # not by id
        return copy.deepcopy(found[: int(params.get("maxresults", "100"))])


async def _send_head(send: Any, status: int, length: int, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(length).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})


def _country_ids() -> dict[str, int]:
    reference = json.loads((REPO_ROOT / "seed" / "reference.json").read_text())
    return {row["iso_code"]: row["id"] for row in reference["countries"]}


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _modified(record: dict[str, Any]) -> datetime | None:
    dates = [record.get(key) for key in ("DateLastModified", "DateLastStatusUpdate")]
    present = [_parse_time(d) for d in dates if d]
    return max(present) if present else None
