"""Importing OCM POI exports: counts, idempotence, rejections, the shape of a site, both
forms, broken files, dry runs, databases without reference lists;
and the bounds: streaming with a cap on the decompressed size, regular files only, memory
that does not grow with the file, the mutations' rules on every record, clipped reasons,
and writes in bounded transactions that a re-run completes. On each backend."""

from __future__ import annotations

import asyncio
import gzip
import json
import sys
import textwrap
import tracemalloc
from collections.abc import Iterable, Iterator
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pytest

from gql.data.importer import (
    ImportFileError,
    ImportReport,
    NoReferenceLists,
    NotASite,
    RecordError,
    Rejection,
    import_exports,
    parse_site,
    read_records,
)
from gql.data.seeding import seed_reference
from gql.repository.base import Repository
from gql.repository.factory import open_repository
from gql.repository.models import SiteRecord
from gql.settings import Settings
from tests.conftest import REPO_ROOT, graphql_runner, run_cli, shared_ocm
from tests.databases import fetch_raw, throwaway_database
from tests.special_files import not_a_regular_file
from tests.transactions import begun, traced


def _stats() -> dict[str, Any]:
    stats: dict[str, Any] = json.loads((shared_ocm() / "poi" / "STATS.json").read_text())
    return stats


def _table_counts(db: str) -> tuple[int, int]:
    [(sites, connections)] = fetch_raw(
        db,
        "SELECT (SELECT count(*) FROM charge_point), (SELECT count(*) FROM connection_info)",
    )
    return sites, connections


async def _opened(db: str) -> Repository:
    return await open_repository(Settings(database_url=db))


async def _seeded(db: str) -> Repository:
    repository = await _opened(db)
    await seed_reference(repository)
    return repository


async def _import(
    repository: Repository, *inputs: Path, **limits: int
) -> tuple[ImportReport, list[Rejection]]:
    rejections: list[Rejection] = []
    report = await import_exports(repository, inputs, rejected=rejections.append, **limits)
    return report, rejections


async def _import_into_new(db: str, export: Path) -> tuple[ImportReport, list[Rejection]]:
    """Imports ``export`` into a new seeded database, closed again afterwards."""
    repository = await _seeded(db)
    try:
        return await _import(repository, export)
    finally:
        await repository.close()


async def test_import_of_the_sample_matches_its_stats(database_url: str) -> None:
    stats = _stats()
    repository = await _seeded(database_url)
    try:
        report, rejections = await _import(repository, shared_ocm() / "poi")
        again, _ = await _import(repository, shared_ocm() / "poi")
    finally:
        await repository.close()
    counts = report.counts
    assert (counts.sites.read, counts.sites.written) == (stats["pois"], stats["pois"])
    assert (counts.connections.read, counts.connections.written) == (
        stats["connections"],
        stats["connections"],
    )
    assert rejections == []
    assert _table_counts(database_url) == (stats["pois"], stats["connections"])
    # A second import changes nothing.
    assert again.counts.sites.written == 0
    assert again.counts.connections.written == 0
    assert again.counts.connections.unchanged == stats["connections"]


async def test_stored_values_match_the_stats(ocm_db: str) -> None:
    stats = _stats()
    by_type = dict(
        fetch_raw(ocm_db, "SELECT connection_type_id, count(*) FROM connection_info GROUP BY 1")
    )

    def count(condition: str) -> int:
        [(found,)] = fetch_raw(ocm_db, f"SELECT count(*) FROM connection_info WHERE {condition}")
        return int(found)

    power_null = count("power_kw_source IS NULL")
    quantity_null = count("quantity IS NULL")
    status_null = count("status_type_id IS NULL")
    assert {str(k): v for k, v in by_type.items()} == stats["ConnectionTypeID"]
    assert power_null == stats["PowerKW_null"]
    assert quantity_null == stats["Quantity_null"]
    assert status_null == stats["StatusTypeID"]["null"]


def _poi(site_id: int, *connections: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "ID": site_id,
        "AddressInfo": {"Title": f"Site {site_id}"},
        "Connections": list(connections),
        **fields,
    }


async def test_rejects_each_bad_record_with_its_reason(database_url: str, tmp_path: Path) -> None:
    export = tmp_path / "mixed.json"
    export.write_text(
        json.dumps(
            [
                _poi(1, {"ID": 10, "ConnectionTypeID": 25}, {"ID": 11, "ConnectionTypeID": 99999}),
                _poi(2, {"ID": 20, "StatusTypeID": 12345}, {"ID": 21, "Amps": "lots"}),
                _poi(3, {"ID": 30, "LevelID": 3, "CurrentTypeID": 77}),
                _poi(4, {"ConnectionTypeID": 25}),
                {"AddressInfo": {}},
                "not a site",
                _poi(5, {"ID": 50}, Connections="none"),
                _poi(6, {"ID": 60, "ConnectionTypeID": 2, "ConnectionType": {"ID": 25}}),
            ]
        )
    )
    report, rejections = await _import_into_new(database_url, export)
    reasons = {r.record: r.reason for r in rejections}
    assert reasons == {
        "connection 11 of site 1": "unknown ConnectionTypeID 99999",
        "connection 20 of site 2": "unknown StatusTypeID 12345",
        "connection 21 of site 2": "Amps is not an integer: 'lots'",
        "connection 30 of site 3": "unknown CurrentTypeID 77",
        "connection None of site 4": "missing ID",
        "record #4": "not an OCM site (no ID)",
        "record #5": "not an OCM site (not a JSON object)",
        "site 5": "Connections is not a list",
        "connection 60 of site 6": "ConnectionTypeID 2 disagrees with ConnectionType.ID 25",
    }
    assert all(r.source == "mixed.json" for r in rejections)
    counts = report.counts
    assert (counts.sites.read, counts.sites.written, counts.sites.rejected) == (8, 5, 3)
    assert (counts.connections.read, counts.connections.written) == (7, 1)
    assert counts.connections.rejected == 6
    assert _table_counts(database_url) == (5, 1)


async def test_reads_the_verbose_form_and_gzip(database_url: str, tmp_path: Path) -> None:
    verbose = [
        {
            "ID": 500,
            "UUID": "u-500",
            "DataProvider": {"ID": 1, "Title": "Open Charge Map Contributors"},
            "OperatorInfo": {"ID": 3},
            "StatusType": {"ID": 50, "IsOperational": True},
            "AddressInfo": {"Title": "Verbose", "Country": {"ID": 74, "ISOCode": "EE"}},
            "Connections": [
                {
                    "ID": 5000,
                    "ConnectionTypeID": 33,
                    "ConnectionType": {"ID": 33, "Title": "CCS (Type 2)"},
                    "StatusType": {"ID": 50},
                    "Level": {"ID": 3},
                    "CurrentType": {"ID": 30},
                    "Amps": 125.0,
                    "Voltage": 400,
                    "Quantity": 2,
                }
            ],
        }
    ]
    export = tmp_path / "verbose.json.gz"
    export.write_bytes(gzip.compress(json.dumps(verbose).encode()))
    repository = await _seeded(database_url)
    try:
        _, rejections = await _import(repository, export)
        row = (await repository.connections_by_ids([5000]))[5000]
    finally:
        await repository.close()
    assert rejections == []
    assert (row.connection_type_id, row.status_type_id, row.level_id, row.current_type_id) == (
        33,
        50,
        3,
        30,
    )
    assert (row.amps, row.voltage, row.power_kw, row.quantity) == (125, 400.0, 50.0, 2)
    [site] = fetch_raw(
        database_url,
        "SELECT country_id, data_provider_id, operator_id, status_type_id FROM charge_point",
    )
    assert site == (74, 1, 3, 50)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("truncated.json", b'[{"ID": 1, "Connections": ['),
        ("object.json", b'{"ID": 1}'),
        ("binary.json.gz", b"\x1f\x8b not really gzip"),
        ("empty.json", b""),
    ],
)
async def test_a_broken_file_writes_nothing(
    database_url: str, tmp_path: Path, name: str, content: bytes
) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps([_poi(1, {"ID": 10})]))
    broken = tmp_path / name
    broken.write_bytes(content)
    repository = await _seeded(database_url)
    try:
        with pytest.raises(ImportFileError, match=name):
            await _import(repository, good, broken)
    finally:
        await repository.close()
    assert _table_counts(database_url) == (0, 0)


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (1, "not a JSON object"),
        ([{"ID": 1, "AddressInfo": {}}], "not a JSON object"),
        ("site", "not a JSON object"),
        (None, "not a JSON object"),
        ({"ID": 7, "Title": "Avcon Connector", "FormalName": "Avcon"}, "no AddressInfo"),
        ({"ID": 7, "AddressInfo": None, "Connections": []}, "no AddressInfo"),
        ({"AddressInfo": {"Title": "No id"}, "Connections": []}, "no ID"),
        ({"Connections": [{"ID": 10}]}, "no ID and AddressInfo"),
        ({}, "no ID and AddressInfo"),
    ],
)
def test_a_record_without_the_shape_of_a_site_is_not_a_site(record: Any, reason: str) -> None:
    with pytest.raises(NotASite) as refused:
        parse_site(record)
    assert str(refused.value) == f"not an OCM site ({reason})"


def test_the_shape_of_a_site_is_an_id_and_an_address() -> None:
    assert parse_site({"ID": 1, "AddressInfo": {}}).id == 1
    # Given the shape, its values are a site's to answer for: not "not an OCM site".
    for record, reason in (
        ({"ID": "one", "AddressInfo": {}}, "ID is not an integer: 'one'"),
        ({"ID": 1, "AddressInfo": "Tallinn"}, "AddressInfo is not an object"),
    ):
        with pytest.raises(RecordError) as refused:
            parse_site(record)
        assert str(refused.value) == reason
        assert not isinstance(refused.value, NotASite)
    # Both of OCM's forms have the shape: every site of the sample (compact) is one.
    for path in sorted((shared_ocm() / "poi").glob("poi_*.json")):
        for raw in read_records(path):
            assert parse_site(raw).id == raw["ID"]


async def test_a_reference_list_is_rejected_record_by_record(database_url: str) -> None:
    reference = shared_ocm() / "reference" / "ConnectionTypes.json"
    entries = len(json.loads(reference.read_text()))
    repository = await _seeded(database_url)
    try:
        report, rejections = await _import(repository, reference)
    finally:
        await repository.close()
    assert [(r.record, r.reason) for r in rejections] == [
        (f"record #{n}", "not an OCM site (no AddressInfo)") for n in range(entries)
    ]
    assert (report.counts.sites.read, report.counts.sites.rejected) == (entries, entries)
    assert (report.counts.sites.written, report.transactions) == (0, 0)
    assert _table_counts(database_url) == (0, 0)


async def test_a_database_without_reference_lists_is_refused_before_reading(
    database_url: str,
) -> None:
    notes: list[str] = []
    repository = await _opened(database_url)
    try:
        with pytest.raises(NoReferenceLists, match=r"no reference lists \(connection_type, "):
            await import_exports(repository, [shared_ocm() / "poi"], notes.append)
    finally:
        await repository.close()
    assert notes == []  # no file was even listed
    assert _table_counts(database_url) == (0, 0)


async def test_a_dry_run_checks_and_counts_but_writes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    export = tmp_path / "mixed.json"
    export.write_text(json.dumps([_poi(1, {"ID": 10}, {"ID": 11, "LevelID": 9}), {"ID": 2}]))
    repository = await _seeded(database_url)
    statements: list[str] = []
    rejections: list[Rejection] = []
    try:
        with traced(repository, statements.append):
            report = await import_exports(
                repository, [export], rejected=rejections.append, dry_run=True
            )
    finally:
        await repository.close()
    assert [r.record for r in rejections] == ["connection 11 of site 1", "record #1"]
    counts = report.counts
    assert (counts.sites.read, counts.sites.written, counts.sites.rejected) == (2, 0, 1)
    assert (counts.connections.read, counts.connections.rejected) == (2, 1)
    assert report.transactions == 0
    assert statements  # it read
    assert begun(statements) == 0
    assert _table_counts(database_url) == (0, 0)


def test_cli_reports_a_summary_and_rejections(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gql.cli import main

    export = tmp_path / "one.json"
    export.write_text(json.dumps([_poi(1, {"ID": 10}, {"ID": 11, "LevelID": 9})]))
    db = database_url
    run_cli("seed", "--database-url", db)
    assert main(["import", "--database-url", db, str(export)]) == 3  # a rejection
    out, err = capsys.readouterr()
    assert "sites: 1 read, 1 written, 0 unchanged, 0 rejected" in out
    assert "connections: 2 read, 1 written, 0 unchanged, 1 rejected" in out
    assert "one.json: rejected connection 11 of site 1: unknown LevelID 9" in err
    assert "[1/1]" in err  # progress
    broken = tmp_path / "broken.json"
    broken.write_text("[")
    assert main(["import", "--database-url", db, str(broken)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


# -- bounds ------------------------------------------------------------------------------


def _sites(count: int) -> Iterator[dict[str, Any]]:
    """Valid sites of two connections each, some 600 bytes apiece."""
    for number in range(1, count + 1):
        yield _poi(
            number,
            {"ID": 10 * number, "ConnectionTypeID": 25, "PowerKW": 22.0, "Comments": "c" * 300},
            {"ID": 10 * number + 1, "Quantity": 2, "Reference": f"EVSE-{number}"},
        )


def _export(path: Path, sites: Iterable[Any], tail: bytes = b"]") -> Path:
    """An export written site by site, as large as a test needs, ending with ``tail``."""
    with path.open("wb") as out:
        out.write(b"[")
        for number, site in enumerate(sites):
            out.write(b"," if number else b"")
            out.write(json.dumps(site).encode())
        out.write(tail)
    return path


async def test_a_gzip_bomb_is_refused_at_the_cap_and_writes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    cap = 1024 * 1024
    expanded = _export(tmp_path / "expanded.json", _sites(12_000)).read_bytes()
    bomb = tmp_path / "bomb.json.gz"
    bomb.write_bytes(gzip.compress(expanded))
    assert len(expanded) > 5 * cap > 20 * bomb.stat().st_size  # small file, large content
    repository = await _seeded(database_url)
    tracemalloc.start()
    try:
        with pytest.raises(
            ImportFileError,
            match=r"bomb\.json\.gz: file too large once decompressed: more than 1,048,576 bytes",
        ):
            await _import(repository, bomb, max_bytes=cap)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        await repository.close()
    # Reading stopped at the cap: it never held the content, nor its records.
    assert peak < len(expanded) / 4
    assert _table_counts(database_url) == (0, 0)


async def test_memory_does_not_grow_with_the_file(backend: str, tmp_path: Path) -> None:
    peaks = []
    for count in (100, 1000):
        export = _export(tmp_path / f"sites-{count}.json", _sites(count))
        folder = tmp_path / f"sites-{count}"
        folder.mkdir()
        with throwaway_database(backend, folder) as db:
            repository = await _seeded(db)
            tracemalloc.start()
            try:
                report, _ = await _import(repository, export, batch_size=20)
                peaks.append(tracemalloc.get_traced_memory()[1])
            finally:
                tracemalloc.stop()
                await repository.close()
        assert report.counts.sites.written == count
        assert report.transactions == count // 20
    small, large = peaks
    # Ten times the file, the same batch in memory; holding the file would take ~10 times.
    assert large < 2 * small, peaks


@pytest.mark.timeout(60)  # a FIFO opened blocking would wait here for a writer forever
@pytest.mark.parametrize("kind", ["device", "fifo"])
async def test_only_regular_files_are_read(database_url: str, tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    odd = not_a_regular_file(folder / "odd.json", kind)
    _export(folder / "good.json", _sites(2))
    repository = await _seeded(database_url)
    try:
        with pytest.raises(ImportFileError, match=r"odd\.json: not a regular file") as refused:
            await _import(repository, odd)
        assert "\n" not in str(refused.value)
        # Found in a folder, it is skipped with a note and the rest is imported.
        notes: list[str] = []
        report = await import_exports(repository, [folder], notes.append)
    finally:
        await repository.close()
    assert f"skipped {odd}: not a regular file" in notes
    assert report.counts.sites.written == 2
    # Reading the path itself (as if it was swapped after the listing) refuses it too.
    with pytest.raises(ImportFileError, match="not a regular file"):
        list(read_records(odd))


async def test_a_file_broken_after_many_batches_writes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    broken = _export(tmp_path / "late.json", _sites(350), tail=b', {"ID": ')
    repository = await _seeded(database_url)
    try:
        with pytest.raises(ImportFileError, match=r"late\.json: not valid JSON: ") as refused:
            await _import(repository, broken, batch_size=100)
    finally:
        await repository.close()
    assert "\n" not in str(refused.value)
    assert _table_counts(database_url) == (0, 0)


TOP = 2**31 - 1
LONG = "x" * 100_000


def _connection(connection_id: int, **fields: Any) -> dict[str, Any]:
    return {"ID": connection_id, **fields}


async def test_records_meet_the_mutations_rules_and_ids_fit_graphql(
    database_url: str, tmp_path: Path
) -> None:
    export = tmp_path / "rules.json"
    export.write_text(
        json.dumps(
            [
                _poi(
                    1,
                    _connection(11, PowerKW=-50),
                    _connection(12, PowerKW=1e308),
                    _connection(13, Quantity=-3),
                    _connection(14, Quantity=2_147_483_648_999),
                    _connection(15, Comments=LONG),
                    _connection(16, Amps=1001, Voltage=1501),
                    _connection(17, Reference="r" * 101),
                    _connection(3_000_000_000),
                    _connection(18, ConnectionTypeID=-1),
                    _connection(19, PowerKW=1000, Quantity=500, Comments="k" * 4000),
                ),
                _poi(5_000_000_000, _connection(50)),
                _poi(2, AddressInfo={"Title": "t" * 201, "Latitude": 91}),
                # The largest ids GraphQL can carry, and OCM's "Unknown" (0) references.
                _poi(TOP, _connection(TOP, ConnectionTypeID=0, StatusTypeID=0)),
            ]
        )
    )
    report, rejections = await _import_into_new(database_url, export)
    reasons = {r.record: r.reason for r in rejections}
    assert reasons == {
        "connection 11 of site 1": "PowerKW must be between 0 and 1000 kW: -50.0",
        "connection 12 of site 1": "PowerKW must be between 0 and 1000 kW: 1e+308",
        "connection 13 of site 1": "Quantity must be between 0 and 500: -3",
        "connection 14 of site 1": "Quantity must be between 0 and 500: 2147483648999",
        "connection 15 of site 1": (
            f"Comments must be at most 4000 characters: {'x' * 80!r}... (100,000 characters)"
        ),
        "connection 16 of site 1": (
            "Amps must be between 0 and 1000 A: 1001; Voltage must be between 0 and 1500 V: 1501.0"
        ),
        "connection 17 of site 1": (
            f"Reference must be at most 100 characters: {'r' * 80!r}... (101 characters)"
        ),
        "connection 3000000000 of site 1": (
            "ID must be between 1 and 2147483647 (GraphQL's Int): 3000000000"
        ),
        "connection 18 of site 1": (
            "ConnectionTypeID must be between 0 and 2147483647 (GraphQL's Int): -1"
        ),
        "site 5000000000": "ID must be between 1 and 2147483647 (GraphQL's Int): 5000000000",
        "site 2": (
            "AddressInfo.Latitude must be between -90 and 90 degrees: 91.0; "
            f"AddressInfo.Title must be at most 200 characters: {'t' * 80!r}... (201 characters)"
        ),
    }
    assert (report.counts.sites.written, report.counts.connections.written) == (2, 2)
    assert fetch_raw(database_url, "SELECT max(power_kw) FROM connection_info") == [(1000.0,)]
    # What was stored can be read: the largest id fits GraphQL's Int.
    async with graphql_runner(database_url) as graphql:
        data = await graphql.data(
            "{ connectionInfos(first: 3, orderBy: ID_DESC) { edges { node { id } } } }"
        )
    assert [edge["node"]["id"] for edge in data["connectionInfos"]["edges"]] == [TOP, 19]


async def test_a_nul_character_in_any_text_is_a_rejection(
    database_url: str, tmp_path: Path
) -> None:
    """PostgreSQL's text cannot store NUL: such a record is rejected with its reason on
    each backend, and the rest is imported."""
    export = tmp_path / "nul.json"
    export.write_text(
        json.dumps(
            [
                _poi(1, _connection(10, Comments="a\x00b"), _connection(11, Reference="\x00")),
                _poi(2, _connection(20), AddressInfo={"Title": "T\x00", "Town": "ok"}),
                _poi(3, _connection(30, Comments="fine")),
            ]
        )
    )
    report, rejections = await _import_into_new(database_url, export)
    nul = "must not contain the NUL character (U+0000)"
    assert {r.record: r.reason for r in rejections} == {
        "connection 10 of site 1": f"Comments {nul}: 'a\\x00b'",
        "connection 11 of site 1": f"Reference {nul}: '\\x00'",
        "site 2": f"AddressInfo.Title {nul}: 'T\\x00'",
    }
    assert (report.counts.sites.written, report.counts.connections.written) == (2, 1)
    assert _table_counts(database_url) == (2, 1)


async def test_a_rejection_quotes_a_huge_value_clipped(database_url: str, tmp_path: Path) -> None:
    export = tmp_path / "huge.json"
    export.write_text(
        json.dumps(
            [
                _poi(1, _connection(10, Comments="y" * 2_000_000)),
                {"ID": "z" * 1_000_000, "AddressInfo": {}},
                _poi(2, _connection(20, Amps={"lots": ["a" * 500_000] * 10})),
            ]
        )
    )
    repository = await _seeded(database_url)
    try:
        _, rejections = await _import(repository, export)
    finally:
        await repository.close()
    assert len(rejections) == 3
    assert all(len(str(rejection)) < 400 for rejection in rejections), rejections
    assert "(2,000,000 characters)" in rejections[0].reason
    assert "(1,000,000 characters)" in rejections[1].record
    assert rejections[2].reason.startswith("Amps is not an integer: {'lots': ['aaa")


async def test_writes_go_in_transactions_of_the_batch_size(
    database_url: str, tmp_path: Path
) -> None:
    export = _export(tmp_path / "batches.json", _sites(250))
    repository = await _seeded(database_url)
    statements: list[str] = []
    try:
        with traced(repository, statements.append):
            report, _ = await _import(repository, export, batch_size=100)
            again, _ = await _import(repository, export, batch_size=100)
    finally:
        await repository.close()
    assert report.transactions == 3
    assert begun(statements) == 3 + 3  # both imports
    assert (report.counts.sites.written, report.counts.connections.written) == (250, 500)
    assert (again.counts.sites.written, again.counts.connections.unchanged) == (0, 500)


# Imports a file and dies (as if killed) when its second write transaction begins.
KILLED_IMPORT = textwrap.dedent(
    """
    import asyncio, os, sys
    from pathlib import Path
    from gql.data.importer import import_exports
    from gql.repository.factory import open_repository
    from gql.settings import Settings
    from tests.transactions import traced

    async def main(db: str, export: str) -> None:
        repository = await open_repository(Settings(database_url=db))
        commits = 0

        def listener(sql: str) -> None:
            nonlocal commits
            if sql == "COMMIT":
                commits += 1
            elif sql.startswith("BEGIN") and commits:
                os._exit(137)

        with traced(repository, listener):
            await import_exports(repository, [Path(export)], batch_size=100)

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


async def test_an_import_killed_half_way_is_completed_by_a_rerun(
    database_url: str, tmp_path: Path
) -> None:
    export = _export(tmp_path / "killed.json", _sites(250))
    db = database_url
    await (await _seeded(db)).close()
    killed = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        KILLED_IMPORT,
        db,
        str(export),
        cwd=REPO_ROOT,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(killed.communicate(), timeout=120)
    assert killed.returncode == 137, stderr.decode()
    assert _table_counts(db) == (100, 200)  # the first batch, whole
    repository = await _opened(db)
    try:
        report, _ = await _import(repository, export, batch_size=100)
    finally:
        await repository.close()
    assert _table_counts(db) == (250, 500)
    assert (report.counts.sites.written, report.counts.sites.unchanged) == (150, 100)


# -- every field of a site ---------------------------------------------------------------

# Where each stored column comes from in a compact OCM record (a path of keys), written
# out here rather than taken from the importer, so the test checks the importer's mapping.
COMPACT_PATHS: dict[str, tuple[str, ...]] = {
    "id": ("ID",),
    "uuid": ("UUID",),
    "title": ("AddressInfo", "Title"),
    "address_line1": ("AddressInfo", "AddressLine1"),
    "address_line2": ("AddressInfo", "AddressLine2"),
    "town": ("AddressInfo", "Town"),
    "state_or_province": ("AddressInfo", "StateOrProvince"),
    "postcode": ("AddressInfo", "Postcode"),
    "country_id": ("AddressInfo", "CountryID"),
    "latitude": ("AddressInfo", "Latitude"),
    "longitude": ("AddressInfo", "Longitude"),
    "access_comments": ("AddressInfo", "AccessComments"),
    "related_url": ("AddressInfo", "RelatedURL"),
    "contact_telephone1": ("AddressInfo", "ContactTelephone1"),
    "data_provider_id": ("DataProviderID",),
    "operator_id": ("OperatorID",),
    "usage_type_id": ("UsageTypeID",),
    "usage_cost": ("UsageCost",),
    "status_type_id": ("StatusTypeID",),
    "submission_status_type_id": ("SubmissionStatusTypeID",),
    "number_of_points": ("NumberOfPoints",),
    "general_comments": ("GeneralComments",),
    "date_created": ("DateCreated",),
    "date_last_status_update": ("DateLastStatusUpdate",),
    "date_last_verified": ("DateLastVerified",),
}


def _at(raw: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = raw
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return None if value == "" else value  # OCM's empty text means absent


COMPACT: dict[str, Any] = {
    "ID": 700,
    "UUID": "6B1A1A0E-0000-4000-8000-000000000700",
    "DataProviderID": 1,
    "OperatorID": 3,
    "UsageTypeID": 4,
    "UsageCost": "0.30 EUR/kWh",
    "AddressInfo": {
        "ID": 7001,
        "Title": "Market car park",
        "AddressLine1": "Turu 1",
        "AddressLine2": "Level -1",
        "Town": "Tartu",
        "StateOrProvince": "Tartumaa",
        "Postcode": "51004",
        "CountryID": 74,
        "Latitude": 58.3776,
        "Longitude": 26.729,
        "ContactTelephone1": "+372 555 0000",
        "ContactTelephone2": "+372 555 0001",
        "AccessComments": "Open 24/7",
        "RelatedURL": "https://example.org/turu",
        "DistanceUnit": 0,
    },
    "Connections": [{"ID": 7100, "ConnectionTypeID": 25, "StatusTypeID": 50}],
    "NumberOfPoints": 2,
    "GeneralComments": "Two posts by the entrance",
    "StatusTypeID": 50,
    "DateLastStatusUpdate": "2021-03-04T05:06:07Z",
    "DateCreated": "2019-01-02T03:04:00Z",
    "DateLastVerified": "2021-03-04T05:06:07Z",
    "SubmissionStatusTypeID": 200,
}
COMPACT_SITE = SiteRecord(
    id=700,
    uuid="6B1A1A0E-0000-4000-8000-000000000700",
    title="Market car park",
    town="Tartu",
    country_id=74,
    latitude=58.3776,
    longitude=26.729,
    data_provider_id=1,
    operator_id=3,
    usage_type_id=4,
    status_type_id=50,
    number_of_points=2,
    date_created="2019-01-02T03:04:00Z",
    date_last_status_update="2021-03-04T05:06:07Z",
    address_line1="Turu 1",
    address_line2="Level -1",
    state_or_province="Tartumaa",
    postcode="51004",
    access_comments="Open 24/7",
    related_url="https://example.org/turu",
    contact_telephone1="+372 555 0000",
    usage_cost="0.30 EUR/kWh",
    submission_status_type_id=200,
    general_comments="Two posts by the entrance",
    date_last_verified="2021-03-04T05:06:07Z",
)


def _verbose(compact: dict[str, Any]) -> dict[str, Any]:
    """``compact`` as OCM's verbose form writes it: each related id replaced by its object
    (as /poi?compact=false answers), dates with an offset and a fraction of a second."""
    verbose = {k: v for k, v in compact.items() if not k.endswith("TypeID")}
    for compact_key, verbose_key, title in (
        ("DataProviderID", "DataProvider", "Open Charge Map Contributors"),
        ("OperatorID", "OperatorInfo", "Operator"),
        ("UsageTypeID", "UsageType", "Public - Membership Required"),
        ("StatusTypeID", "StatusType", "Operational"),
        ("SubmissionStatusTypeID", "SubmissionStatus", "Submission Published"),
    ):
        verbose.pop(compact_key, None)
        verbose[verbose_key] = {"ID": compact[compact_key], "Title": title}
    address = {k: v for k, v in compact["AddressInfo"].items() if k != "CountryID"}
    address["Country"] = {"ID": compact["AddressInfo"]["CountryID"], "ISOCode": "EE"}
    verbose["AddressInfo"] = address
    verbose["DateCreated"] = "2019-01-02T05:04:00.123+02:00"
    verbose["DateLastStatusUpdate"] = "2021-03-04T05:06:07.5"
    return verbose


def test_a_compact_record_fills_every_field_of_the_site() -> None:
    assert parse_site(COMPACT) == COMPACT_SITE
    for field in fields(SiteRecord):
        # Every field is filled (none left at its default), and from its OCM path.
        assert getattr(COMPACT_SITE, field.name) is not None, field.name
        assert getattr(COMPACT_SITE, field.name) == _at(COMPACT, COMPACT_PATHS[field.name])


def test_a_verbose_record_gives_the_same_site() -> None:
    verbose = _verbose(COMPACT)
    assert "OperatorID" not in verbose
    assert "CountryID" not in verbose["AddressInfo"]
    assert parse_site(verbose) == COMPACT_SITE
    # Both forms at once agree; when they disagree the record is refused.
    assert parse_site({**verbose, "SubmissionStatusTypeID": 200}) == COMPACT_SITE
    with pytest.raises(RecordError, match="SubmissionStatusTypeID 100 disagrees"):
        parse_site({**verbose, "SubmissionStatusTypeID": 100})
    with pytest.raises(RecordError, match=r"^OperatorInfo is not an object$"):
        parse_site({**verbose, "OperatorInfo": 3})


def test_empty_texts_are_absent_and_dates_are_normalised() -> None:
    address = {
        key: "" for key in COMPACT["AddressInfo"] if isinstance(COMPACT["AddressInfo"][key], str)
    }
    site = parse_site(
        {
            **COMPACT,
            "UUID": "",
            "UsageCost": "",
            "GeneralComments": "",
            "DateLastVerified": "",
            "DateCreated": "2019-01-02",
            "DateLastStatusUpdate": "2021-03-04T06:06:07+01:00",
            "AddressInfo": {**COMPACT["AddressInfo"], **address},
        }
    )
    texts = [f.name for f in fields(SiteRecord) if f.type == "str | None"]
    assert [name for name in texts if getattr(site, name) is not None] == [
        "date_created",
        "date_last_status_update",
    ]
    assert (site.date_created, site.date_last_status_update) == (
        "2019-01-02T00:00:00Z",
        "2021-03-04T05:06:07Z",
    )
    assert site.date_last_verified is None


async def test_sites_are_stored_whole_and_bad_values_rejected(
    database_url: str, tmp_path: Path
) -> None:
    """Both forms stored field for field; unknown operator, usage type and country ids
    kept (no foreign keys); an unparsable date or an over-long text rejects its site."""
    unknown = {**COMPACT, "ID": 702, "OperatorID": 999_999, "UsageTypeID": 999}
    unknown["AddressInfo"] = {**COMPACT["AddressInfo"], "CountryID": 9999}
    export = tmp_path / "whole.json"
    export.write_text(
        json.dumps(
            [
                {**COMPACT, "Connections": []},
                {**_verbose(COMPACT), "ID": 701, "Connections": [{"ID": 7101, "Reference": ""}]},
                unknown,
                {**COMPACT, "ID": 703, "Connections": [], "DateCreated": "yesterday"},
                {**COMPACT, "ID": 704, "Connections": [], "DateLastVerified": "2021-02-30"},
                {**COMPACT, "ID": 705, "Connections": [], "UsageCost": "€" * 4001},
                {**COMPACT, "ID": 706, "Connections": [], "DateLastStatusUpdate": 20210304},
            ]
        )
    )
    report, rejections = await _import_into_new(database_url, export)
    assert {r.record: r.reason for r in rejections} == {
        "site 703": "DateCreated is not an ISO 8601 date-time: 'yesterday'",
        "site 704": "DateLastVerified is not an ISO 8601 date-time: '2021-02-30'",
        "site 705": (
            f"UsageCost must be at most 4000 characters: {'€' * 80!r}... (4,001 characters)"
        ),
        "site 706": "DateLastStatusUpdate is not a string: 20210304",
    }
    assert report.counts.sites.written == 3
    columns = [f.name for f in fields(SiteRecord)]
    rows = fetch_raw(database_url, f"SELECT {', '.join(columns)} FROM charge_point ORDER BY id")
    stored = [SiteRecord(**dict(zip(columns, row, strict=True))) for row in rows]
    assert stored == [
        COMPACT_SITE,
        replace(COMPACT_SITE, id=701),
        replace(COMPACT_SITE, id=702, operator_id=999_999, usage_type_id=999, country_id=9999),
    ]
    # The one rule for texts holds for connections too: "" is stored null.
    assert fetch_raw(database_url, "SELECT reference FROM connection_info WHERE id = 7101") == [
        (None,)
    ]


def test_the_sample_has_what_the_field_by_field_check_needs() -> None:
    """The stored-sample check below proves something only if the sample has empty texts
    and every field somewhere."""
    records = [
        raw
        for path in sorted((shared_ocm() / "poi").glob("poi_*.json"))
        for raw in json.loads(path.read_text())
    ]
    for name, path in COMPACT_PATHS.items():
        assert any(_at(raw, path) is not None for raw in records), name
    assert any(raw["AddressInfo"].get("AddressLine2") == "" for raw in records)


async def test_the_imported_sample_matches_its_json_field_by_field(ocm_db: str) -> None:
    records = {
        raw["ID"]: raw
        for path in sorted((shared_ocm() / "poi").glob("poi_*.json"))
        for raw in json.loads(path.read_text())
    }
    columns = list(COMPACT_PATHS)
    rows = fetch_raw(ocm_db, f"SELECT {', '.join(columns)} FROM charge_point ORDER BY id")
    assert [row[0] for row in rows] == sorted(records)
    for row in rows:
        raw = records[row[0]]
        expected = tuple(_at(raw, path) for path in COMPACT_PATHS.values())
        assert row == expected, raw["ID"]
    # A few sites named, so a mapping broken for all of them would read plainly here.
    stored = dict(zip(columns, rows[0], strict=True))
    assert stored["id"] == 11729
    assert stored["address_line1"] == "Vabaduse väljak 9"
    assert stored["address_line2"] is None  # "" in the export
    assert stored["date_last_verified"] == "2012-06-21T21:16:00Z"
    assert stored["submission_status_type_id"] == 200
