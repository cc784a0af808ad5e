"""Keeping a database fresh from Open Charge Map's live API (``ocm-gql sync``).

One country's sites are paged out of OCM's ``/poi`` in the compact form the importer
reads (``countrycode``, ``compact=true``, ``verbose=false``), in id order
(``sortby=id_asc``), each page asking for the sites after the last one written
(``greaterthanid``), ``maxresults`` at a time. Every record goes through the importer's
checks, and each page is written in one transaction together with the country's
checkpoint (table ``sync_state``): the run's ``modifiedsince``, when it started, and the
last site id written. So a run that stops, however it stops, leaves whole pages and a
checkpoint that matches them; the next run resumes after them, with the same
``modifiedsince``. A run that reached OCM's last page is finished: the next run asks only
for the sites modified since it started (less a few minutes, for the clocks of OCM and of
this machine to disagree by).

OCM's failures that may pass (a 429, with its Retry-After honoured up to a cap; a 5xx;
a connection refused, dropped or timed out; a body that is not whole JSON) are tried again
with exponentially growing waits; past the tries, the run stops with SyncFailed, one line
naming the cause. Any other answer (400, 401, 403, ...) stops it at once. The API key goes
in the ``X-API-Key`` header only: never in a URL, a message or a log.
"""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any, Final

import httpx2
import orjson

from gql.data.importer import (
    CheckedSite,
    Counted,
    Progress,
    Rejected,
    check_site,
    known_reference_ids,
)
from gql.repository.base import Repository
from gql.repository.models import CountryRecord, ImportCounts, ReferenceKind, SyncCheckpoint
from gql.version import VERSION

# Sites changed at OCM shortly before a run started may carry a time a little after it by
# OCM's clock: the next run asks from this long before the start.
CLOCK_OVERLAP: Final = timedelta(minutes=5)
_USER_AGENT: Final = f"ocm-gql/{VERSION} (+sync)"
_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"

Sleep = Callable[[float], Awaitable[None]]


class SyncFailed(Exception):
    """The sync stopped: OCM could not be asked, or refused. The pages written before stay,
    with their checkpoint; the message is one line naming the cause."""


class BadSyncInput(ValueError):
    """A country or date the sync cannot use; the message names the flag."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 5
    """Tries of one request, the first included."""
    first_delay: float = 1.0
    """Wait before the second try; doubled before each further one."""
    max_delay: float = 60.0
    """Longest wait, a 429's Retry-After included."""

    def backoff(self, tries_so_far: int) -> float:
        return float(min(self.first_delay * 2 ** (tries_so_far - 1), self.max_delay))


@dataclass(slots=True)
class SyncReport:
    checkpoint: SyncCheckpoint
    """Where the run got to: finished unless it stopped."""
    counts: ImportCounts = field(default_factory=ImportCounts)
    pages: int = 0
    resumed: bool = False


class OcmClient:
    """Asks OCM's API, trying again what may pass. ``sleep`` is how it waits between
    tries (tests pass one that records the waits)."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        note: Progress = lambda _message: None,
    ) -> None:
        headers = {"User-Agent": _USER_AGENT, "Accept": "application/json"}
        if api_key:
            headers["X-API-Key"] = api_key
        self._client = httpx2.AsyncClient(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout
        )
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._note = note
        self.requests = 0
        """Requests sent, retries included."""

    async def close(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> OcmClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def poi(self, params: Mapping[str, str]) -> list[Any]:
        """One answer of ``/poi``: a JSON array. Raises SyncFailed once the tries are
        spent, or at once for an answer that asking again cannot change."""
        attempts = self._retry.attempts
        tries = 0
        while True:
            tries += 1
            self.requests += 1
            outcome, delay = await self._try(params, tries)
            if isinstance(outcome, list):
                return outcome
            if tries >= attempts:
                raise SyncFailed(f"{outcome} ({tries} tries)")
            self._note(f"{outcome}; trying again in {delay:.1f}s (try {tries + 1} of {attempts})")
            await self._sleep(delay)

    async def _try(self, params: Mapping[str, str], tries: int) -> tuple[list[Any] | str, float]:
        """The records, or why this try failed and how long to wait before the next."""
        backoff = self._retry.backoff(tries)
        try:
            response = await self._client.get("/poi", params=dict(params))
        except httpx2.TransportError as error:
            return (
                f"the request to OCM at {self._client.base_url} failed: {_describe(error)}",
                backoff,
            )
        status = f"{response.status_code} {response.reason_phrase}".strip()
        if response.status_code == 429:
            waited = _retry_after(response.headers.get("Retry-After"))
            delay = backoff if waited is None else min(waited, self._retry.max_delay)
            return f"OCM answered {status}", delay
        if response.status_code >= 500:
            return f"OCM answered {status}", backoff
        if response.status_code != 200:
            advice = " (check the API key)" if response.status_code in (401, 403) else ""
            raise SyncFailed(f"OCM refused the request: {status}{advice}")
        try:
            records = orjson.loads(response.content)
        except orjson.JSONDecodeError as error:
            return f"OCM's answer is not whole JSON ({error})", backoff
        if not isinstance(records, list):
            raise SyncFailed("OCM's answer is not a JSON array of sites")
        return records, 0.0


async def sync_country(
    repository: Repository,
    client: OcmClient,
    country_code: str,
    *,
    since: datetime | None = None,
    page_size: int = 500,
    progress: Progress = lambda _message: None,
    rejected: Rejected = lambda _rejection: None,
    counted: Counted = lambda _label, _done, _total: None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> SyncReport:
    """Pages the country's sites from OCM into ``repository``, from its checkpoint (or
    from ``since`` when given). Raises BadSyncInput for a country the reference lists do
    not know, NoReferenceLists without the lists, and SyncFailed when OCM fails past the
    tries or refuses; every page written before stays, with its checkpoint."""
    known = await known_reference_ids(repository)
    await _check_known_country(repository, country_code)
    stored = await repository.sync_checkpoint(country_code)
    checkpoint = _starting_point(stored, country_code, since, now())
    report = SyncReport(checkpoint, resumed=checkpoint is stored)
    progress(_describe_run(checkpoint, resumed=report.resumed))
    while True:
        params = {
            "countrycode": country_code,
            "maxresults": str(page_size),
            "compact": "true",
            "verbose": "false",
            "sortby": "id_asc",
            "greaterthanid": str(checkpoint.last_id),
        }
        if checkpoint.modified_since is not None:
            params["modifiedsince"] = checkpoint.modified_since
        records = await client.poi(params)
        report.pages += 1
        checked = [
            check_site(raw, f"OCM page {report.pages}", index, known)
            for index, raw in enumerate(records)
        ]
        last_id = max([checkpoint.last_id, *map(_record_id, records)])
        finished = len(records) < page_size
        if not finished and last_id == checkpoint.last_id:
            raise SyncFailed(
                f"OCM's page after site {last_id} holds no site id above it: stopped, "
                "so as not to ask for the same page forever"
            )
        checkpoint = replace(
            checkpoint,
            last_id=last_id,
            finished_at=now().strftime(_TIME_FORMAT) if finished else None,
        )
        sites = [one.site for one in checked if one.site is not None]
        connections = [c for one in checked if one.site is not None for c in one.connections]
        written = await repository.write_synced_sites(sites, connections, checkpoint)
        report.checkpoint = checkpoint
        _add(report.counts, checked, written)
        for one in checked:
            for rejection in one.rejections:
                rejected(rejection)
        reached = f", up to id {last_id}" if records else ""
        progress(f"page {report.pages}: {len(records)} sites{reached}")
        counted("sites synced", report.counts.sites.read, None)
        if finished:
            break
    await repository.bulk_write_done(report.counts.connections.written)
    return report


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``--since``: a date (``2024-05-01``) or an ISO 8601 time; without a zone, UTC."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadSyncInput(
            f"--since must be a date (YYYY-MM-DD) or an ISO 8601 time, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if moment > (now or datetime.now(UTC)):
        raise BadSyncInput(f"--since must not be in the future, got {text!r}")
    return moment


def country_code_of(text: str) -> str:
    """``--country``'s two letters, upper case; their being a known country is checked
    against the database's list when the sync runs."""
    code = text.strip().upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise BadSyncInput(
            f"--country must be an ISO 3166 two-letter country code such as EE, got {text!r}"
        )
    return code


async def _check_known_country(repository: Repository, code: str) -> None:
    countries = await repository.reference_rows(ReferenceKind.COUNTRY)
    if not any(isinstance(row, CountryRecord) and row.iso_code == code for row in countries):
        raise BadSyncInput(f"--country {code!r} is not a country of the reference lists")


def _starting_point(
    stored: SyncCheckpoint | None, country_code: str, since: datetime | None, now: datetime
) -> SyncCheckpoint:
    """Where this run starts: ``since`` when given; else an unfinished run's checkpoint
    (resumed as it is); else after the last finished run's start; else everything."""
    started_at = now.strftime(_TIME_FORMAT)
    if since is not None:
        return SyncCheckpoint(country_code, since.strftime(_TIME_FORMAT), started_at, 0)
    if stored is None:
        return SyncCheckpoint(country_code, None, started_at, 0)
    if stored.finished_at is None:
        return stored
    previous = datetime.strptime(stored.started_at, _TIME_FORMAT).replace(tzinfo=UTC)
    return SyncCheckpoint(
        country_code, (previous - CLOCK_OVERLAP).strftime(_TIME_FORMAT), started_at, 0
    )


def _describe_run(checkpoint: SyncCheckpoint, *, resumed: bool) -> str:
    what = (
        f"sites modified since {checkpoint.modified_since}"
        if checkpoint.modified_since is not None
        else "every site"
    )
    if resumed:
        return (
            f"resuming the sync of {checkpoint.country_code} started {checkpoint.started_at} "
            f"({what}) after site {checkpoint.last_id}"
        )
    return f"syncing {checkpoint.country_code}: {what}"


def _record_id(raw: Any) -> int:
    """A record's site id, 0 when it has none (a record the checks reject)."""
    value = raw.get("ID") if isinstance(raw, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _add(counts: ImportCounts, checked: list[CheckedSite], written: ImportCounts) -> None:
    """Adds one page's counts, as the importer counts a file's."""
    for one in checked:
        counts.sites.read += 1
        counts.sites.rejected += one.site is None
        counts.connections.read += one.connections_read
        counts.connections.rejected += one.connections_read - len(one.connections)
    counts.sites.written += written.sites.written
    counts.connections.written += written.connections.written


def _retry_after(value: str | None) -> float | None:
    """Seconds a Retry-After asks for (a number of seconds or an HTTP date); None when
    absent or unreadable."""
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _describe(error: httpx2.TransportError) -> str:
    """What went wrong with the connection, in words (some of httpx's errors have none)."""
    text = str(error).strip().splitlines()
    return text[0] if text and text[0] else type(error).__name__
