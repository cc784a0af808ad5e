"""Importing OCM POI exports: JSON arrays of sites with their connections.

Both of OCM's forms are read: compact (related objects as ``...ID`` fields) and verbose
(related objects nested, e.g. ``ConnectionType: {ID: 25, ...}``). Every file is read and
checked before anything is written, and everything is written in one transaction, so a
broken file writes nothing. Records that cannot be stored are rejected one by one, each
with its reason, and the rest are upserted by id, so importing the same files again
changes nothing.
"""

from __future__ import annotations

import gzip
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from gql.repository.base import Repository
from gql.repository.models import (
    ConnectionWrite,
    ImportCounts,
    ReferenceKind,
    SiteRecord,
)


class ImportFileError(Exception):
    """A file that cannot be imported at all: unreadable, not JSON, or not a POI array."""


class RecordError(ValueError):
    """One record that cannot be stored; the message is the reason."""


@dataclass(frozen=True, slots=True)
class Rejection:
    source: str
    record: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: rejected {self.record}: {self.reason}"


@dataclass(slots=True)
class ImportBatch:
    """Everything read from the input, checked and ready to write."""

    sites: dict[int, SiteRecord] = field(default_factory=dict)
    connections: dict[int, ConnectionWrite] = field(default_factory=dict)
    sites_read: int = 0
    connections_read: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    sites_rejected: int = 0
    connections_rejected: int = 0


@dataclass(frozen=True, slots=True)
class ImportReport:
    counts: ImportCounts
    rejections: list[Rejection]


Progress = Callable[[str], None]
_PROGRESS_EVERY = 10_000

# Reference fields of a connection: compact key, verbose key, and the list it names.
_CONNECTION_REFERENCES: tuple[tuple[str, str, str, ReferenceKind], ...] = (
    ("connection_type_id", "ConnectionTypeID", "ConnectionType", ReferenceKind.CONNECTION_TYPE),
    ("status_type_id", "StatusTypeID", "StatusType", ReferenceKind.STATUS_TYPE),
    ("level_id", "LevelID", "Level", ReferenceKind.LEVEL),
    ("current_type_id", "CurrentTypeID", "CurrentType", ReferenceKind.SUPPLY_TYPE),
)


def export_files(inputs: Iterable[Path]) -> list[tuple[Path, bool]]:
    """The files to read, each with whether it was named explicitly (not found in a folder)."""
    files: list[tuple[Path, bool]] = []
    for path in inputs:
        if path.is_dir():
            found = sorted(
                p for p in path.iterdir() if p.is_file() and p.name.endswith((".json", ".json.gz"))
            )
            files.extend((p, False) for p in found)
        elif path.exists():
            files.append((path, True))
        else:
            raise ImportFileError(f"{path}: no such file or folder")
    return files


def read_export(path: Path) -> Any:
    try:
        raw = path.read_bytes()
        if path.name.endswith(".gz"):
            raw = gzip.decompress(raw)
        return orjson.loads(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise ImportFileError(f"{path}: cannot read: {error}") from None
    except orjson.JSONDecodeError as error:
        raise ImportFileError(f"{path}: not valid JSON: {error}") from None


def read_batch(
    inputs: Iterable[Path],
    known: Mapping[ReferenceKind, set[int]],
    progress: Progress = lambda _message: None,
) -> ImportBatch:
    """Read and check every input; raises ImportFileError before anything is written."""
    batch = ImportBatch()
    files = export_files(inputs)
    for number, (path, explicit) in enumerate(files, start=1):
        data = read_export(path)
        if not isinstance(data, list):
            if explicit:
                raise ImportFileError(f"{path}: not an OCM POI export (expected a JSON array)")
            progress(f"skipped {path}: not an OCM POI export (no JSON array at top level)")
            continue
        progress(f"[{number}/{len(files)}] {path}: {len(data)} sites")
        for index, raw in enumerate(data):
            _add_site(batch, path.name, index, raw, known)
            if index and index % _PROGRESS_EVERY == 0:
                progress(f"  {index}/{len(data)} sites checked")
    return batch


async def import_exports(
    repository: Repository,
    inputs: Sequence[Path],
    progress: Progress = lambda _message: None,
) -> ImportReport:
    known = {
        kind: {row.id for row in await repository.reference_rows(kind)} for kind in ReferenceKind
    }
    batch = read_batch(inputs, known, progress)
    progress(f"writing {len(batch.sites)} sites and {len(batch.connections)} connections")
    counts = await repository.write_sites(
        list(batch.sites.values()),
        list(batch.connections.values()),
        replace_site_connections=True,
    )
    counts.sites.read = batch.sites_read
    counts.sites.rejected = batch.sites_rejected
    counts.connections.read = batch.connections_read
    counts.connections.rejected = batch.connections_rejected
    return ImportReport(counts=counts, rejections=batch.rejections)


def _add_site(
    batch: ImportBatch, source: str, index: int, raw: Any, known: Mapping[ReferenceKind, set[int]]
) -> None:
    batch.sites_read += 1
    raw_connections = raw.get("Connections") if isinstance(raw, dict) else None
    connection_count = len(raw_connections) if isinstance(raw_connections, list) else 0
    batch.connections_read += connection_count
    try:
        site = parse_site(raw)
    except RecordError as error:
        label = f"site {raw.get('ID')!r}" if isinstance(raw, dict) else f"record #{index}"
        batch.rejections.append(Rejection(source, label, str(error)))
        batch.sites_rejected += 1
        batch.connections_rejected += connection_count
        return
    batch.sites[site.id] = site
    for raw_connection in raw_connections or ():
        try:
            connection = parse_connection(raw_connection, site.id, known)
        except RecordError as error:
            label = (
                f"connection {raw_connection.get('ID')!r} of site {site.id}"
                if isinstance(raw_connection, dict)
                else f"a connection of site {site.id}"
            )
            batch.rejections.append(Rejection(source, label, str(error)))
            batch.connections_rejected += 1
            continue
        batch.connections[connection.id] = connection


def parse_site(raw: Any) -> SiteRecord:
    if not isinstance(raw, dict):
        raise RecordError("not a JSON object")
    site_id = _int(raw, "ID")
    if site_id is None:
        raise RecordError("missing ID")
    connections = raw.get("Connections")
    if connections is not None and not isinstance(connections, list):
        raise RecordError("Connections is not a list")
    address = raw.get("AddressInfo") or {}
    if not isinstance(address, dict):
        raise RecordError("AddressInfo is not an object")
    return SiteRecord(
        id=site_id,
        uuid=_str(raw, "UUID"),
        title=_str(address, "Title"),
        town=_str(address, "Town"),
        country_id=_related_id(address, "CountryID", "Country"),
        latitude=_float(address, "Latitude"),
        longitude=_float(address, "Longitude"),
        data_provider_id=_related_id(raw, "DataProviderID", "DataProvider"),
        operator_id=_related_id(raw, "OperatorID", "OperatorInfo"),
        usage_type_id=_related_id(raw, "UsageTypeID", "UsageType"),
        status_type_id=_related_id(raw, "StatusTypeID", "StatusType"),
        number_of_points=_int(raw, "NumberOfPoints"),
        date_created=_str(raw, "DateCreated"),
        date_last_status_update=_str(raw, "DateLastStatusUpdate"),
    )


def parse_connection(
    raw: Any, site_id: int, known: Mapping[ReferenceKind, set[int]]
) -> ConnectionWrite:
    if not isinstance(raw, dict):
        raise RecordError("not a JSON object")
    connection_id = _int(raw, "ID")
    if connection_id is None:
        raise RecordError("missing ID")
    references: dict[str, int | None] = {}
    for name, compact, verbose, kind in _CONNECTION_REFERENCES:
        value = _related_id(raw, compact, verbose)
        if value is not None and value not in known[kind]:
            raise RecordError(f"unknown {compact} {value}")
        references[name] = value
    return ConnectionWrite(
        id=connection_id,
        charge_point_id=site_id,
        reference=_str(raw, "Reference"),
        amps=_int(raw, "Amps"),
        voltage=_float(raw, "Voltage"),
        power_kw=_float(raw, "PowerKW"),
        quantity=_int(raw, "Quantity"),
        comments=_str(raw, "Comments"),
        **references,
    )


def _related_id(raw: dict[str, Any], compact: str, verbose: str) -> int | None:
    """An id given as ``FooID``, or nested as ``Foo: {ID: ...}`` in the verbose form."""
    value = _int(raw, compact)
    nested = raw.get(verbose)
    if nested is None:
        return value
    if not isinstance(nested, dict):
        raise RecordError(f"{verbose} is not an object")
    nested_id = _int(nested, "ID", label=f"{verbose}.ID")
    if value is not None and nested_id is not None and value != nested_id:
        raise RecordError(f"{compact} {value} disagrees with {verbose}.ID {nested_id}")
    return value if value is not None else nested_id


def _int(raw: dict[str, Any], key: str, *, label: str | None = None) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not -(2**63) <= value < 2**63:
        raise RecordError(f"{label or key} is not an integer: {value!r}")
    return value


def _float(raw: dict[str, Any], key: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise RecordError(f"{key} is not a number: {value!r}")
    return float(value)


def _str(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None or isinstance(value, str):
        return value
    raise RecordError(f"{key} is not a string: {value!r}")
