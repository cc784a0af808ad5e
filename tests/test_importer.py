"""Importing OCM POI exports: counts, idempotence, rejections, both forms, broken files."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from gql.importer import ImportFileError, import_exports
from gql.repository.sqlite import SqliteRepository
from gql.seeding import seed_reference
from tests.conftest import run_cli, shared_ocm


def _stats() -> dict[str, Any]:
    stats: dict[str, Any] = json.loads((shared_ocm() / "poi" / "STATS.json").read_text())
    return stats


def _table_counts(db: Path) -> tuple[int, int]:
    with sqlite3.connect(db) as raw:
        sites = raw.execute("SELECT count(*) FROM charge_point").fetchone()[0]
        connections = raw.execute("SELECT count(*) FROM connection_info").fetchone()[0]
    return sites, connections


async def _seeded(path: Path) -> SqliteRepository:
    repository = await SqliteRepository.open(path)
    await seed_reference(repository)
    return repository


async def test_import_of_the_sample_matches_its_stats(tmp_path: Path) -> None:
    stats = _stats()
    repository = await _seeded(tmp_path / "import.db")
    try:
        report = await import_exports(repository, [shared_ocm() / "poi"])
        again = await import_exports(repository, [shared_ocm() / "poi"])
    finally:
        await repository.close()
    counts = report.counts
    assert (counts.sites.read, counts.sites.written) == (stats["pois"], stats["pois"])
    assert (counts.connections.read, counts.connections.written) == (
        stats["connections"],
        stats["connections"],
    )
    assert report.rejections == []
    assert _table_counts(tmp_path / "import.db") == (stats["pois"], stats["connections"])
    # A second import changes nothing.
    assert again.counts.sites.written == 0
    assert again.counts.connections.written == 0
    assert again.counts.connections.unchanged == stats["connections"]


async def test_stored_values_match_the_stats(ocm_db: Path) -> None:
    stats = _stats()
    with sqlite3.connect(ocm_db) as raw:
        by_type = dict(
            raw.execute(
                "SELECT connection_type_id, count(*) FROM connection_info GROUP BY 1"
            ).fetchall()
        )
        power_null = raw.execute(
            "SELECT count(*) FROM connection_info WHERE power_kw_source IS NULL"
        ).fetchone()[0]
        quantity_null = raw.execute(
            "SELECT count(*) FROM connection_info WHERE quantity IS NULL"
        ).fetchone()[0]
        status_null = raw.execute(
            "SELECT count(*) FROM connection_info WHERE status_type_id IS NULL"
        ).fetchone()[0]
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


async def test_rejects_each_bad_record_with_its_reason(tmp_path: Path) -> None:
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
    repository = await _seeded(tmp_path / "mixed.db")
    try:
        report = await import_exports(repository, [export])
    finally:
        await repository.close()
    reasons = {r.record: r.reason for r in report.rejections}
    assert reasons == {
        "connection 11 of site 1": "unknown ConnectionTypeID 99999",
        "connection 20 of site 2": "unknown StatusTypeID 12345",
        "connection 21 of site 2": "Amps is not an integer: 'lots'",
        "connection 30 of site 3": "unknown CurrentTypeID 77",
        "connection None of site 4": "missing ID",
        "site None": "missing ID",
        "record #5": "not a JSON object",
        "site 5": "Connections is not a list",
        "connection 60 of site 6": "ConnectionTypeID 2 disagrees with ConnectionType.ID 25",
    }
    assert all(r.source == "mixed.json" for r in report.rejections)
    counts = report.counts
    assert (counts.sites.read, counts.sites.written, counts.sites.rejected) == (8, 5, 3)
    assert (counts.connections.read, counts.connections.written) == (7, 1)
    assert counts.connections.rejected == 6
    assert _table_counts(tmp_path / "mixed.db") == (5, 1)


async def test_reads_the_verbose_form_and_gzip(tmp_path: Path) -> None:
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
    repository = await _seeded(tmp_path / "verbose.db")
    try:
        report = await import_exports(repository, [export])
        row = (await repository.connections_by_ids([5000]))[5000]
    finally:
        await repository.close()
    assert report.rejections == []
    assert (row.connection_type_id, row.status_type_id, row.level_id, row.current_type_id) == (
        33,
        50,
        3,
        30,
    )
    assert (row.amps, row.voltage, row.power_kw, row.quantity) == (125, 400.0, 50.0, 2)
    with sqlite3.connect(tmp_path / "verbose.db") as raw:
        site = raw.execute(
            "SELECT country_id, data_provider_id, operator_id, status_type_id FROM charge_point"
        ).fetchone()
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
async def test_a_broken_file_writes_nothing(tmp_path: Path, name: str, content: bytes) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps([_poi(1, {"ID": 10})]))
    broken = tmp_path / name
    broken.write_bytes(content)
    repository = await _seeded(tmp_path / "broken.db")
    try:
        with pytest.raises(ImportFileError, match=name):
            await import_exports(repository, [good, broken])
    finally:
        await repository.close()
    assert _table_counts(tmp_path / "broken.db") == (0, 0)


def test_cli_reports_a_summary_and_rejections(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gql.cli import main

    export = tmp_path / "one.json"
    export.write_text(json.dumps([_poi(1, {"ID": 10}, {"ID": 11, "LevelID": 9})]))
    db = str(tmp_path / "cli.db")
    run_cli("seed", "--db", db)
    assert main(["import", "--db", db, str(export)]) == 0
    out, err = capsys.readouterr()
    assert "sites: 1 read, 1 written, 0 unchanged, 0 rejected" in out
    assert "connections: 2 read, 1 written, 0 unchanged, 1 rejected" in out
    assert "one.json: rejected connection 11 of site 1: unknown LevelID 9" in err
    assert "[1/1]" in err  # progress
    broken = tmp_path / "broken.json"
    broken.write_text("[")
    assert main(["import", "--db", db, str(broken)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
