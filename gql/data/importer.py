"""Importing OCM POI exports: JSON arrays of sites with their connections.

Both of OCM's forms are read: compact (related objects as ``...ID`` fields) and verbose
(related objects nested, e.g. ``ConnectionType: {ID: 25, ...}``, ``OperatorInfo``,
``SubmissionStatus``, ``AddressInfo.Country``); only the id of a nested object is kept.
A site's operator, usage type and country ids are kept even when the lists do not hold
them (OCM's exports name ids its published lists may lack); a connection's references
must be known. An empty text ("AddressLine2": "", as OCM often writes an absent one) is
stored null, like a null. Dates are stored in one form, ISO 8601 UTC to the second
(gql/domain/dates.py); a date that is not ISO 8601 rejects its record.

Memory stays bounded whatever the size of the input: files are streamed (ijson), one site
at a time, and never held whole. Only regular files are read (not a device such as
/dev/zero, nor a FIFO), and a file larger than ``import_max_bytes`` once decompressed is
refused (a gzip bomb).

A record is an OCM site only when it is a JSON object with an ``ID`` and an
``AddressInfo`` (both forms have them); anything else (a reference list's entry, a
number) is rejected as "not an OCM site". Every site is checked with the mutations' rules
(gql/domain/validation.py), and its ids must fit GraphQL's 32-bit Int. A record that breaks them
is rejected, with its reason (which quotes at most 80 characters of the offending value),
and the rest are imported. A database without reference lists is refused before anything
is read: every connection would be rejected as naming an unknown type.

The import runs in two passes. The first reads and checks every file and writes nothing,
so a broken file (bad JSON half-way, too large) writes nothing; a dry run stops there. The
second reads the files again and writes, ``import_batch_size`` sites per transaction, so
the server's own writes get the lock in between. Sites and connections are upserted by id,
so importing the same files again changes nothing, and an import killed during the second
pass (which leaves whole batches written) is completed by running it again.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import reprlib
import stat
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import ijson

from gql.domain.dates import normalised_utc
from gql.domain.validation import (
    MAX_ID,
    MAX_LENGTHS,
    RANGES,
    SITE_MAX_LENGTHS,
    SITE_RANGES,
    value_problems,
)
from gql.repository.base import Repository
from gql.repository.models import ConnectionWrite, ImportCounts, ReferenceKind, SiteRecord
from gql.settings import Settings

_DEFAULTS: Final = Settings()
_CHUNK: Final = 64 * 1024
_WHITESPACE: Final = b" \t\r\n"
_SHOWN_CHARS: Final = 80
# Opening a FIFO for reading would wait for a writer; non-blocking, it opens and is refused.
_NON_BLOCKING: Final = getattr(os, "O_NONBLOCK", 0)


class ImportFileError(Exception):
    """A file that cannot be imported at all: unreadable, not a regular file, too large,
    not JSON, or not a POI array."""


class NoReferenceLists(Exception):
    """The database lacks reference lists that imported connections name; nothing is read."""


class RecordError(ValueError):
    """One record that cannot be stored; the message is the reason."""


class NotASite(RecordError):
    """A record that is not an OCM site at all, such as a reference list's entry."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"not an OCM site ({problem})")


@dataclass(frozen=True, slots=True)
class Rejection:
    source: str
    record: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: rejected {self.record}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ImportReport:
    counts: ImportCounts
    transactions: int
    """Write transactions taken: one per batch of up to ``import_batch_size`` sites."""


Progress = Callable[[str], None]
Counted = Callable[[str, int, int | None], None]
"""Told how far a pass has come: ("sites checked", sites, None), then ("sites written",
sites, sites to write), after every site."""
Rejected = Callable[[Rejection], None]


@dataclass(frozen=True, slots=True)
class CheckedSite:
    """One record read and checked: its site and good connections, or none if rejected."""

    site: SiteRecord | None
    connections: list[ConnectionWrite]
    connections_read: int
    rejections: list[Rejection]


# Reference fields of a connection: compact key, verbose key, and the list it names.
_CONNECTION_REFERENCES: tuple[tuple[str, str, str, ReferenceKind], ...] = (
    ("connection_type_id", "ConnectionTypeID", "ConnectionType", ReferenceKind.CONNECTION_TYPE),
    ("status_type_id", "StatusTypeID", "StatusType", ReferenceKind.STATUS_TYPE),
    ("level_id", "LevelID", "Level", ReferenceKind.LEVEL),
    ("current_type_id", "CurrentTypeID", "CurrentType", ReferenceKind.SUPPLY_TYPE),
)
# OCM's names of the fields validation.py checks, for the reasons of rejections.
_OCM_NAMES: Final = {
    "power_kw": "PowerKW",
    "amps": "Amps",
    "voltage": "Voltage",
    "quantity": "Quantity",
    "reference": "Reference",
    "comments": "Comments",
    "latitude": "AddressInfo.Latitude",
    "longitude": "AddressInfo.Longitude",
    "number_of_points": "NumberOfPoints",
    "uuid": "UUID",
    "title": "AddressInfo.Title",
    "town": "AddressInfo.Town",
    "address_line1": "AddressInfo.AddressLine1",
    "address_line2": "AddressInfo.AddressLine2",
    "state_or_province": "AddressInfo.StateOrProvince",
    "postcode": "AddressInfo.Postcode",
    "access_comments": "AddressInfo.AccessComments",
    "related_url": "AddressInfo.RelatedURL",
    "contact_telephone1": "AddressInfo.ContactTelephone1",
    "usage_cost": "UsageCost",
    "general_comments": "GeneralComments",
}


async def import_exports(
    repository: Repository,
    inputs: Sequence[Path],
    progress: Progress = lambda _message: None,
    rejected: Rejected = lambda _rejection: None,
    *,
    counted: Counted = lambda _label, _done, _total: None,
    max_bytes: int = _DEFAULTS.import_max_bytes,
    batch_size: int = _DEFAULTS.import_batch_size,
    dry_run: bool = False,
) -> ImportReport:
    """Import ``inputs`` (files or folders); each rejected record goes to ``rejected`` as
    it is found. Raises ImportFileError before anything is written when a file is broken,
    and NoReferenceLists before anything is read. A dry run checks and writes nothing."""
    known = await known_reference_ids(repository)
    files = export_files(inputs, progress)
    counts = ImportCounts()
    # Pass 1: read and check everything, write nothing.
    with_records: list[Path] = []
    for number, (path, explicit) in enumerate(files, start=1):
        progress(f"[{number}/{len(files)}] checking {path}")
        sites = 0
        for checked in _checked_sites(path, explicit, known, max_bytes, progress):
            sites += 1
            counts.sites.read += 1
            counts.connections.read += checked.connections_read
            if checked.site is None:
                counts.sites.rejected += 1
            counts.connections.rejected += checked.connections_read - len(checked.connections)
            for rejection in checked.rejections:
                rejected(rejection)
            counted("sites checked", counts.sites.read, None)
        if sites:
            with_records.append(path)
    if dry_run:
        return ImportReport(counts=counts, transactions=0)
    # Pass 2: read again and write, one transaction per batch of sites.
    to_write = counts.sites.read - counts.sites.rejected
    progress(f"writing {to_write} sites, {batch_size} per transaction")
    transactions = 0
    batch_sites: list[SiteRecord] = []
    batch_connections: list[ConnectionWrite] = []

    async def write_batch() -> None:
        nonlocal transactions
        written = await repository.write_sites(
            batch_sites, batch_connections, replace_site_connections=True
        )
        transactions += 1
        counts.sites.written += written.sites.written
        counts.connections.written += written.connections.written
        batch_sites.clear()
        batch_connections.clear()

    sites_done = 0
    for path in with_records:
        for checked in _checked_sites(path, True, known, max_bytes, progress):
            if checked.site is None:
                continue
            batch_sites.append(checked.site)
            batch_connections.extend(checked.connections)
            if len(batch_sites) == batch_size:
                await write_batch()
            sites_done += 1
            counted("sites written", sites_done, to_write)
    if batch_sites:
        await write_batch()
    await repository.bulk_write_done(counts.connections.written)
    return ImportReport(counts=counts, transactions=transactions)


async def known_reference_ids(repository: Repository) -> dict[ReferenceKind, set[int]]:
    """The ids of every reference list, which connections are checked against; raises
    NoReferenceLists when a list is empty."""
    known = {
        kind: {row.id for row in await repository.reference_rows(kind)} for kind in ReferenceKind
    }
    if empty := [kind.value for kind, ids in known.items() if not ids]:
        raise NoReferenceLists(f"the database has no reference lists ({', '.join(empty)})")
    return known


def export_files(inputs: Iterable[Path], progress: Progress) -> list[tuple[Path, bool]]:
    """The files to read, each with whether it was named explicitly (not found in a folder)."""
    files: list[tuple[Path, bool]] = []
    for path in inputs:
        if path.is_dir():
            for found in sorted(path.iterdir()):
                if not found.name.endswith((".json", ".json.gz")):
                    continue
                if found.is_file():
                    files.append((found, False))
                else:
                    progress(f"skipped {found}: not a regular file")
        elif path.is_file():  # follows symlinks: one to /dev/zero is not a regular file
            files.append((path, True))
        elif path.exists():
            raise ImportFileError(f"{path}: not a regular file (such as a device or a FIFO)")
        else:
            raise ImportFileError(f"{path}: no such file or folder")
    return files


def read_records(
    path: Path,
    *,
    explicit: bool = True,
    max_bytes: int = _DEFAULTS.import_max_bytes,
    progress: Progress = lambda _message: None,
) -> Iterator[Any]:
    """The records of one export, streamed. A file found in a folder that holds no JSON
    array yields nothing (with a note); named explicitly, it is an ImportFileError."""
    with _opened(path, max_bytes) as reader:
        first = reader.first_byte()
        if first == b"[":
            yield from ijson.items(reader, "item", use_float=True)
            return
        if not first:
            raise ImportFileError(f"{path}: not valid JSON: the file is empty")
        if explicit:
            raise ImportFileError(f"{path}: not an OCM POI export (expected a JSON array)")
        for _event in ijson.basic_parse(reader):
            pass  # a file to skip must still be valid JSON
        progress(f"skipped {path}: not an OCM POI export (no JSON array at top level)")


def _checked_sites(
    path: Path,
    explicit: bool,
    known: Mapping[ReferenceKind, set[int]],
    max_bytes: int,
    progress: Progress,
) -> Iterator[CheckedSite]:
    records = read_records(path, explicit=explicit, max_bytes=max_bytes, progress=progress)
    for index, raw in enumerate(records):
        yield check_site(raw, path.name, index, known)


class _CappedReader:
    """The decompressed bytes of one file as ijson reads them: counted, and refused past
    ``max_bytes``; never more than one chunk at a time."""

    def __init__(self, stream: gzip.GzipFile | io.BufferedReader, path: Path, max_bytes: int):
        self._stream = stream
        self._path = path
        self._max_bytes = max_bytes
        self._read = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(_CHUNK if size < 0 else min(size, _CHUNK))
        self._read += len(data)
        if self._read > self._max_bytes:
            raise ImportFileError(
                f"{self._path}: file too large once decompressed: more than "
                f"{self._max_bytes:,} bytes (OCM_GQL_IMPORT_MAX_BYTES)"
            )
        return data

    def first_byte(self) -> bytes:
        """Skips leading whitespace; the first other byte, left unread (b"" if none)."""
        while ahead := self._stream.peek(1):
            significant = ahead.lstrip(_WHITESPACE)
            self.read(len(ahead) - len(significant))
            if significant:
                return significant[:1]
        return b""


@contextmanager
def _opened(path: Path, max_bytes: int) -> Iterator[_CappedReader]:
    """One file opened for reading; whatever goes wrong with it is an ImportFileError."""
    try:
        with ExitStack() as stack:
            file = stack.enter_context(os.fdopen(os.open(path, os.O_RDONLY | _NON_BLOCKING), "rb"))
            # Checked again on the open file: the path may have changed since it was listed.
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise ImportFileError(f"{path}: not a regular file (such as a device or a FIFO)")
            stream: gzip.GzipFile | io.BufferedReader = file
            if path.name.endswith(".gz"):
                stream = stack.enter_context(gzip.GzipFile(fileobj=file, mode="rb"))
            yield _CappedReader(stream, path, max_bytes)
    except ijson.JSONError as error:
        raise ImportFileError(f"{path}: not valid JSON: {_first_line(error)}") from None
    except (OSError, EOFError, zlib.error) as error:
        raise ImportFileError(f"{path}: cannot read: {error}") from None


def _first_line(error: Exception) -> str:
    """ijson's message without the lines that quote the input around the error."""
    message = error.args[0] if error.args else ""
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return (text.strip().splitlines() or [type(error).__name__])[0]


def check_site(
    raw: Any, source: str, index: int, known: Mapping[ReferenceKind, set[int]]
) -> CheckedSite:
    """One record through parse_site and parse_connection; ``source`` and ``index`` name
    it in rejections. Shared by the import and the sync."""
    raw_connections = raw.get("Connections") if isinstance(raw, dict) else None
    connection_count = len(raw_connections) if isinstance(raw_connections, list) else 0
    try:
        site = parse_site(raw)
    except NotASite as error:
        return CheckedSite(
            None, [], connection_count, [Rejection(source, f"record #{index}", str(error))]
        )
    except RecordError as error:
        label = f"site {_shown(raw['ID'])}"
        return CheckedSite(None, [], connection_count, [Rejection(source, label, str(error))])
    connections: list[ConnectionWrite] = []
    rejections: list[Rejection] = []
    for raw_connection in raw_connections or ():
        try:
            connections.append(parse_connection(raw_connection, site.id, known))
        except RecordError as error:
            label = (
                f"connection {_shown(raw_connection.get('ID'))} of site {site.id}"
                if isinstance(raw_connection, dict)
                else f"a connection of site {site.id}"
            )
            rejections.append(Rejection(source, label, str(error)))
    return CheckedSite(site, connections, connection_count, rejections)


def parse_site(raw: Any) -> SiteRecord:
    """The site of one record; NotASite when it does not have a site's shape at all."""
    if not isinstance(raw, dict):
        raise NotASite("not a JSON object")
    if missing := [key for key in ("ID", "AddressInfo") if raw.get(key) is None]:
        raise NotASite(f"no {' and '.join(missing)}")
    site_id = _id(raw, "ID")
    connections = raw.get("Connections")
    if connections is not None and not isinstance(connections, list):
        raise RecordError("Connections is not a list")
    address = raw["AddressInfo"]
    if not isinstance(address, dict):
        raise RecordError("AddressInfo is not an object")
    values: dict[str, Any] = {
        "id": site_id,
        "uuid": _str(raw, "UUID"),
        "title": _str(address, "Title"),
        "address_line1": _str(address, "AddressLine1"),
        "address_line2": _str(address, "AddressLine2"),
        "town": _str(address, "Town"),
        "state_or_province": _str(address, "StateOrProvince"),
        "postcode": _str(address, "Postcode"),
        "country_id": _related_id(address, "CountryID", "Country"),
        "latitude": _float(address, "Latitude"),
        "longitude": _float(address, "Longitude"),
        "access_comments": _str(address, "AccessComments"),
        "related_url": _str(address, "RelatedURL"),
        "contact_telephone1": _str(address, "ContactTelephone1"),
        "data_provider_id": _related_id(raw, "DataProviderID", "DataProvider"),
        "operator_id": _related_id(raw, "OperatorID", "OperatorInfo"),
        "usage_type_id": _related_id(raw, "UsageTypeID", "UsageType"),
        "usage_cost": _str(raw, "UsageCost"),
        "status_type_id": _related_id(raw, "StatusTypeID", "StatusType"),
        "submission_status_type_id": _related_id(raw, "SubmissionStatusTypeID", "SubmissionStatus"),
        "number_of_points": _int(raw, "NumberOfPoints"),
        "general_comments": _str(raw, "GeneralComments"),
        "date_created": _date(raw, "DateCreated"),
        "date_last_status_update": _date(raw, "DateLastStatusUpdate"),
        "date_last_verified": _date(raw, "DateLastVerified"),
    }
    _check_values(values, SITE_RANGES, SITE_MAX_LENGTHS)
    return SiteRecord(**values)


def parse_connection(
    raw: Any, site_id: int, known: Mapping[ReferenceKind, set[int]]
) -> ConnectionWrite:
    if not isinstance(raw, dict):
        raise RecordError("not a JSON object")
    connection_id = _id(raw, "ID")
    if connection_id is None:
        raise RecordError("missing ID")
    references: dict[str, Any] = {}
    for name, compact, verbose, kind in _CONNECTION_REFERENCES:
        value = _related_id(raw, compact, verbose)
        if value is not None and value not in known[kind]:
            raise RecordError(f"unknown {compact} {value}")
        references[name] = value
    values: dict[str, Any] = {
        "reference": _str(raw, "Reference"),
        "amps": _int(raw, "Amps"),
        "voltage": _float(raw, "Voltage"),
        "power_kw": _float(raw, "PowerKW"),
        "quantity": _int(raw, "Quantity"),
        "comments": _str(raw, "Comments"),
    }
    _check_values(values, RANGES, MAX_LENGTHS)
    return ConnectionWrite(id=connection_id, charge_point_id=site_id, **values, **references)


def _check_values(
    values: Mapping[str, Any],
    ranges: Mapping[str, tuple[float, float, str]],
    max_lengths: Mapping[str, int],
) -> None:
    problems = value_problems(values, ranges, max_lengths)
    if problems:
        raise RecordError(
            "; ".join(
                f"{_OCM_NAMES[p.field]} {p.message}: {_shown(values[p.field])}" for p in problems
            )
        )


def _related_id(raw: dict[str, Any], compact: str, verbose: str) -> int | None:
    """An id given as ``FooID``, or nested as ``Foo: {ID: ...}`` in the verbose form; 0
    is allowed (OCM's "Unknown" entries)."""
    value = _id(raw, compact, lowest=0)
    nested = raw.get(verbose)
    if nested is None:
        return value
    if not isinstance(nested, dict):
        raise RecordError(f"{verbose} is not an object")
    nested_id = _id(nested, "ID", lowest=0, label=f"{verbose}.ID")
    if value is not None and nested_id is not None and value != nested_id:
        raise RecordError(f"{compact} {value} disagrees with {verbose}.ID {nested_id}")
    return value if value is not None else nested_id


def _id(raw: dict[str, Any], key: str, *, lowest: int = 1, label: str | None = None) -> int | None:
    """An id that GraphQL's 32-bit Int can carry, so that every stored row can be read."""
    value = _int(raw, key, label=label)
    if value is not None and not lowest <= value <= MAX_ID:
        raise RecordError(
            f"{label or key} must be between {lowest} and {MAX_ID} (GraphQL's Int): {value}"
        )
    return value


def _int(raw: dict[str, Any], key: str, *, label: str | None = None) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not -(2**63) <= value < 2**63:
        raise RecordError(f"{label or key} is not an integer: {_shown(value)}")
    return value


def _float(raw: dict[str, Any], key: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise RecordError(f"{key} is not a number: {_shown(value)}")
    return float(value)


def _str(raw: dict[str, Any], key: str) -> str | None:
    """A text; OCM writes an absent one as "" as often as null, and both are stored null."""
    value = raw.get(key)
    if value is None or isinstance(value, str):
        return value or None
    raise RecordError(f"{key} is not a string: {_shown(value)}")


def _date(raw: dict[str, Any], key: str) -> str | None:
    """A date-time in the one form every date is kept in (gql/domain/dates.py)."""
    text = _str(raw, key)
    if text is None:
        return None
    try:
        return normalised_utc(text)
    except ValueError as error:
        raise RecordError(f"{key} is {error}: {_shown(text)}") from None


_REPR: Final = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = _SHOWN_CHARS
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist = 2, 4, 4


def _shown(value: object) -> str:
    """A value as a rejection quotes it: at most some 80 characters, and a cut string with
    its full length (a 17 MB comment is not echoed whole)."""
    if isinstance(value, str) and len(value) > _SHOWN_CHARS:
        return f"{value[:_SHOWN_CHARS]!r}... ({len(value):,} characters)"
    text = _REPR.repr(value)  # bounded even for a huge list or object
    return text if len(text) <= _SHOWN_CHARS else f"{text[:_SHOWN_CHARS]}..."
