"""`ocm-gql sync`: OCM's /poi paged into the database, against a fake OCM server on
loopback (tests/fake_ocm.py) serving ../shared/ocm/poi, in process on each backend and
through the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gql.data.seeding import seed_reference
from gql.data.sync import (
    CLOCK_OVERLAP,
    BadSyncInput,
    OcmClient,
    RetryPolicy,
    SyncFailed,
    parse_since,
    sync_country,
)
from gql.repository.base import Repository, WriteConflict
from gql.repository.factory import open_repository
from gql.repository.models import ConnectionWrite, SiteRecord, SyncCheckpoint
from gql.repository.postgres import PostgresRepository
from gql.repository.replicated import ReplicatedRepository
from gql.settings import Settings
from tests.conftest import REPO_ROOT, run_cli, shared_ocm
from tests.databases import fetch_dicts, fetch_raw, throwaway_postgres
from tests.fake_ocm import FakeOcm

ESTONIA = 74
KEY = "ocm-test-key-5f1c0a9e"
SITES_OF_ESTONIA = f"SELECT * FROM charge_point WHERE country_id = {ESTONIA} ORDER BY id"
CONNECTIONS_OF_ESTONIA = (
    "SELECT c.* FROM connection_info c JOIN charge_point p ON p.id = c.charge_point_id"
    f" WHERE p.country_id = {ESTONIA} ORDER BY c.id"
)
FAST = RetryPolicy(attempts=3, first_delay=0.01, max_delay=0.05)


def _ids_of_estonia() -> list[int]:
    records = json.loads((shared_ocm() / "poi" / "poi_EE.json").read_text())
    return sorted(record["ID"] for record in records)


@pytest.fixture
def fake() -> Iterator[FakeOcm]:
    files = sorted((shared_ocm() / "poi").glob("poi_*.json"))
    with FakeOcm.serving(files) as server:
        yield server


@pytest.fixture
async def repository(database_url: str) -> AsyncIterator[Repository]:
    opened = await open_repository(Settings(database_url=database_url))
    await seed_reference(opened)
    yield opened
    await opened.close()


class Sleeps:
    """Records the waits between tries instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _client(fake: FakeOcm, sleeps: Sleeps | None = None, *, key: str | None = KEY) -> OcmClient:
    return OcmClient(fake.url, key, timeout=10, retry=FAST, sleep=sleeps or Sleeps())


async def _sync(
    repository: Repository, fake: FakeOcm, *, page_size: int = 30, **options: Any
) -> Any:
    async with _client(fake, options.pop("sleeps", None)) as client:
        return await sync_country(repository, client, "EE", page_size=page_size, **options)


async def test_a_full_sync_stores_what_the_import_stores(
    repository: Repository, fake: FakeOcm, database_url: str, ocm_db: str
) -> None:
    report = await _sync(repository, fake, page_size=30)
    ids = _ids_of_estonia()
    assert report.counts.sites.read == report.counts.sites.written == len(ids) == 100
    # The same rows as `ocm-gql import` of the same records (ocm_db holds both countries).
    assert fetch_dicts(database_url, SITES_OF_ESTONIA) == fetch_dicts(ocm_db, SITES_OF_ESTONIA)
    assert fetch_dicts(database_url, CONNECTIONS_OF_ESTONIA) == fetch_dicts(
        ocm_db, CONNECTIONS_OF_ESTONIA
    )
    assert fetch_raw(database_url, "SELECT count(*) FROM charge_point") == [(100,)]  # no IS
    # OCM's parameters: compact, id order, each page after the last id of the one before.
    requests = fake.poi_requests()
    assert [r.params["greaterthanid"] for r in requests] == ["0", *map(str, ids[29:90:30])]
    for request in requests:
        assert request.params["countrycode"] == "EE"
        assert request.params["maxresults"] == "30"
        assert request.params["compact"] == "true"
        assert request.params["verbose"] == "false"
        assert request.params["sortby"] == "id_asc"
        assert "modifiedsince" not in request.params  # the first sync asks for everything
        assert request.headers["x-api-key"] == KEY
        assert KEY not in request.path
        assert KEY not in str(request.params)
    assert report.pages == 4
    checkpoint = await repository.sync_checkpoint("EE")
    assert checkpoint == report.checkpoint
    assert checkpoint is not None
    assert checkpoint.last_id == ids[-1]
    assert checkpoint.modified_since is None
    assert checkpoint.finished_at is not None
    assert await repository.sync_checkpoint("IS") is None


async def test_a_page_exactly_full_ends_with_an_empty_one(
    repository: Repository, fake: FakeOcm
) -> None:
    report = await _sync(repository, fake, page_size=50)
    assert report.pages == 3  # 50, 50, then none: only an empty or short page ends a run
    assert report.counts.sites.written == 100
    assert report.checkpoint.finished_at is not None


async def test_the_next_run_asks_only_for_what_changed_since_the_last_one_started(
    repository: Repository, fake: FakeOcm, database_url: str
) -> None:
    first = await _sync(repository, fake)
    before = fetch_dicts(database_url, SITES_OF_ESTONIA)
    fake.requests.clear()
    second = await _sync(repository, fake)
    (asked,) = fake.poi_requests()
    started = datetime.fromisoformat(first.checkpoint.started_at.replace("Z", "+00:00"))
    expected_since = (started - CLOCK_OVERLAP).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert asked.params["modifiedsince"] == expected_since
    assert asked.params["greaterthanid"] == "0"
    assert second.counts.sites.read == 0
    assert second.counts.sites.written == 0
    assert fetch_dicts(database_url, SITES_OF_ESTONIA) == before
    # An edit at OCM after that: the next run fetches that site alone, and writes it.
    edited = _ids_of_estonia()[42]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    address = next(r for r in fake.records if r["ID"] == edited)["AddressInfo"]
    fake.update(edited, DateLastStatusUpdate=now, AddressInfo={**address, "Title": "Renamed"})
    fake.requests.clear()
    third = await _sync(repository, fake)
    assert third.counts.sites.read == 1
    assert third.counts.sites.written == 1
    assert fetch_raw(database_url, f"SELECT title FROM charge_point WHERE id = {edited}") == [
        ("Renamed",)
    ]
    second_started = datetime.fromisoformat(second.checkpoint.started_at.replace("Z", "+00:00"))
    assert fake.poi_requests()[0].params["modifiedsince"] == (
        (second_started - CLOCK_OVERLAP).strftime("%Y-%m-%dT%H:%M:%SZ")
    )


async def test_since_overrides_the_checkpoint(repository: Repository, fake: FakeOcm) -> None:
    await _sync(repository, fake)
    fake.requests.clear()
    report = await _sync(repository, fake, since=datetime(2022, 8, 1, tzinfo=UTC))
    assert fake.poi_requests()[0].params["modifiedsince"] == "2022-08-01T00:00:00Z"
    assert fake.poi_requests()[0].params["greaterthanid"] == "0"
    updated_since = [
        r
        for r in fake.records
        if r["AddressInfo"]["CountryID"] == ESTONIA
        and r["DateLastStatusUpdate"] > "2022-08-01T00:00:00Z"
    ]
    assert report.counts.sites.read == len(updated_since) > 0
    assert report.counts.sites.written == 0  # already stored as they are


async def test_an_interrupted_sync_keeps_whole_pages_and_resumes_after_them(
    repository: Repository, fake: FakeOcm, database_url: str, ocm_db: str
) -> None:
    ids = _ids_of_estonia()
    # The 4th page fails on every try: three pages of 10 are written, and no more.
    fake.fail("500", at=4, times=FAST.attempts)
    with pytest.raises(SyncFailed, match=r"OCM answered 500 Internal Server Error \(3 tries\)"):
        await _sync(repository, fake, page_size=10)
    stored = fetch_raw(database_url, "SELECT id FROM charge_point ORDER BY id")
    assert [row[0] for row in stored] == ids[:30]
    checkpoint = await repository.sync_checkpoint("EE")
    assert checkpoint is not None
    assert checkpoint.last_id == ids[29]
    assert checkpoint.finished_at is None
    # Every written site has all its connections: pages are whole.
    imported = fetch_dicts(ocm_db, CONNECTIONS_OF_ESTONIA)
    assert fetch_dicts(database_url, CONNECTIONS_OF_ESTONIA) == [
        row for row in imported if row["charge_point_id"] <= ids[29]
    ]
    # The rerun resumes after the last page written, with the same modifiedsince.
    fake.requests.clear()
    resumed = await _sync(repository, fake, page_size=10)
    assert resumed.resumed
    assert fake.poi_requests()[0].params["greaterthanid"] == str(ids[29])
    assert "modifiedsince" not in fake.poi_requests()[0].params
    assert resumed.counts.sites.read == 70
    assert resumed.checkpoint.started_at == checkpoint.started_at  # the run's own start
    assert resumed.checkpoint.finished_at is not None
    assert fetch_dicts(database_url, SITES_OF_ESTONIA) == fetch_dicts(ocm_db, SITES_OF_ESTONIA)
    assert fetch_dicts(database_url, CONNECTIONS_OF_ESTONIA) == fetch_dicts(
        ocm_db, CONNECTIONS_OF_ESTONIA
    )


async def test_a_page_and_its_checkpoint_are_written_together_or_not_at_all(
    repository: Repository, database_url: str
) -> None:
    good = SyncCheckpoint("EE", None, "2026-01-01T00:00:00Z", 5)
    await repository.write_synced_sites([SiteRecord(id=5)], [], good)
    # A connection of an unknown type breaks a constraint: neither the site nor the
    # checkpoint of that page is kept.
    broken = ConnectionWrite(id=1, charge_point_id=7, connection_type_id=999_999)
    with pytest.raises(WriteConflict):
        await repository.write_synced_sites(
            [SiteRecord(id=7)], [broken], SyncCheckpoint("EE", None, good.started_at, 7)
        )
    assert fetch_raw(database_url, "SELECT id FROM charge_point ORDER BY id") == [(5,)]
    assert await repository.sync_checkpoint("EE") == good


async def test_a_replicated_database_syncs_through_its_primary(fake: FakeOcm) -> None:
    """Pages and checkpoints are written to the primary, and the checkpoint is read
    there: a lagging replica must not send a run back to where it was."""
    with throwaway_postgres() as primary_url, throwaway_postgres() as replica_url:
        primary = await PostgresRepository.open(primary_url)
        replica = await PostgresRepository.open(replica_url)
        replicated = ReplicatedRepository(primary, replica)
        try:
            for side in (primary, replica):
                await seed_reference(side)
            report = await _sync(replicated, fake)
            assert report.counts.sites.written == 100
            assert await replicated.sync_checkpoint("EE") == report.checkpoint
            assert await replica.sync_checkpoint("EE") is None
            assert fetch_raw(primary_url, "SELECT count(*) FROM charge_point") == [(100,)]
            assert fetch_raw(replica_url, "SELECT count(*) FROM charge_point") == [(0,)]
        finally:
            await replicated.close()


@pytest.mark.parametrize("kind", ["500", "truncated", "drop"])
async def test_a_failure_that_passes_is_tried_again_after_a_backoff(
    repository: Repository, fake: FakeOcm, kind: Any
) -> None:
    fake.fail(kind, at=2, times=2)
    sleeps = Sleeps()
    report = await _sync(repository, fake, sleeps=sleeps)
    assert report.counts.sites.written == 100
    assert len(fake.poi_requests()) == report.pages + 2
    assert sleeps.waits == [FAST.first_delay, FAST.first_delay * 2]  # doubled


async def test_a_request_past_the_timeout_is_tried_again(
    repository: Repository, fake: FakeOcm
) -> None:
    fake.fail("stall", at=2, stall_seconds=1.0)
    sleeps = Sleeps()
    async with OcmClient(fake.url, KEY, timeout=0.2, retry=FAST, sleep=sleeps) as client:
        report = await sync_country(repository, client, "EE", page_size=30)
    assert report.counts.sites.written == 100
    assert sleeps.waits == [FAST.first_delay]
    assert fake.poi_requests()[1].params == fake.poi_requests()[2].params  # the same page


async def test_a_429_waits_as_long_as_retry_after_asks_up_to_the_cap(
    repository: Repository, fake: FakeOcm
) -> None:
    fake.fail("429", at=2, retry_after="0.03")
    fake.fail("429", at=4, retry_after="3600")  # capped at max_delay
    fake.fail("429", at=6)  # no Retry-After: the backoff
    sleeps = Sleeps()
    report = await _sync(repository, fake, sleeps=sleeps)
    assert report.counts.sites.written == 100
    assert sleeps.waits == [0.03, FAST.max_delay, FAST.first_delay]


async def test_a_429_is_honoured_in_real_time(repository: Repository, fake: FakeOcm) -> None:
    """Without a recording sleep: the retry comes no sooner than Retry-After asked."""
    fake.fail("429", at=1, retry_after="0.3")
    async with OcmClient(fake.url, KEY, retry=RetryPolicy(attempts=2, first_delay=0.001)) as client:
        await sync_country(repository, client, "EE", page_size=100)
    first, second = fake.poi_requests()[:2]
    assert second.at - first.at >= 0.3


@pytest.mark.parametrize(
    ("kind", "cause"),
    [("truncated", "OCM's answer is not whole JSON"), ("drop", "the request to OCM at")],
)
async def test_a_failure_that_outlasts_the_tries_names_its_cause(
    repository: Repository, fake: FakeOcm, kind: Any, cause: str
) -> None:
    fake.fail(kind, at=1, times=FAST.attempts)
    with pytest.raises(SyncFailed) as raised:
        await _sync(repository, fake)
    assert str(raised.value).startswith(cause)
    assert "\n" not in str(raised.value)
    assert await repository.sync_checkpoint("EE") is None


async def test_a_refused_key_stops_at_once(repository: Repository, fake: FakeOcm) -> None:
    fake.required_key = KEY
    async with _client(fake, key="wrong") as client:
        with pytest.raises(SyncFailed, match=r"401 Unauthorized \(check the API key\)"):
            await sync_country(repository, client, "EE")
    assert len(fake.poi_requests()) == 1  # not tried again


async def test_a_country_missing_from_the_reference_lists_is_refused(
    repository: Repository, fake: FakeOcm
) -> None:
    async with _client(fake) as client:
        with pytest.raises(BadSyncInput, match="--country 'XX' is not a country"):
            await sync_country(repository, client, "XX")
    assert fake.requests == []


def test_since_takes_a_date_or_a_time_in_utc() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_since("2024-05-01", now) == datetime(2024, 5, 1, tzinfo=UTC)
    assert parse_since("2024-05-01T12:30:00+02:00", now) == datetime(2024, 5, 1, 10, 30, tzinfo=UTC)
    assert parse_since("2024-05-01T12:30Z", now) == datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    for bad in ("2024-13-01", "yesterday", "", "2027-01-01"):
        with pytest.raises(BadSyncInput):
            parse_since(bad, now)


# -- the command line, as a real process -------------------------------------------------


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OCM_GQL_")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "gql", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=environment,
        timeout=120,
    )


def _fast_env(fake: FakeOcm, **more: str) -> dict[str, str]:
    return {
        "OCM_GQL_OCM_API_URL": fake.url,
        "OCM_GQL_SYNC_PAGE_SIZE": "30",
        "OCM_GQL_SYNC_ATTEMPTS": "2",
        "OCM_GQL_SYNC_RETRY_DELAY_SECONDS": "0.01",
        **more,
    }


@pytest.fixture
def seeded_db(tmp_path: Path) -> Path:
    db = tmp_path / "sync.db"
    run_cli("seed", "--db", str(db))
    return db


def test_the_command_syncs_a_country_and_never_shows_the_key(
    seeded_db: Path, fake: FakeOcm
) -> None:
    fake.required_key = KEY
    # At the debug level too, where httpx logs its requests.
    debug = _fast_env(fake, OCM_GQL_LOG_LEVEL="debug")
    result = _run("sync", "--db", str(seeded_db), "--country", "ee", "--api-key", KEY, env=debug)
    assert result.returncode == 0, result.stderr
    assert "sites: 100 read, 100 written, 0 unchanged, 0 rejected" in result.stdout
    assert "pages: 4, requests: 4" in result.stdout
    assert "syncing EE: every site" in result.stderr
    assert "page 4: 10 sites" in result.stderr
    assert KEY not in result.stdout + result.stderr
    assert {r.headers["x-api-key"] for r in fake.poi_requests()} == {KEY}
    # The key from the environment, as well: sent, and hidden by `ocm-gql settings`.
    fake.requests.clear()
    env = _fast_env(fake, OCM_GQL_OCM_API_KEY=KEY)
    again = _run("sync", "--db", str(seeded_db), "--country", "EE", env=env)
    assert again.returncode == 0, again.stderr
    assert "sites: 0 read, 0 written" in again.stdout
    assert "modifiedsince" in fake.poi_requests()[0].params
    assert KEY not in again.stdout + again.stderr
    shown = _run("settings", "--db", str(seeded_db), env=env)
    assert "OCM_GQL_OCM_API_KEY=********" in shown.stdout
    assert KEY not in shown.stdout + shown.stderr


def test_the_command_stops_in_one_line_and_a_rerun_completes(
    seeded_db: Path, fake: FakeOcm
) -> None:
    ids = _ids_of_estonia()
    fake.fail("500", at=3, times=2)
    stopped = _run("sync", "--db", str(seeded_db), "--country", "EE", env=_fast_env(fake))
    assert stopped.returncode == 2
    last = stopped.stderr.splitlines()[-1]
    assert last == (
        "ocm-gql: error: sync of EE stopped: OCM answered 500 Internal Server Error (2 tries);"
        f" the pages written up to site {ids[59]} stay; run the sync again to resume after them"
    )
    assert "Traceback" not in stopped.stderr
    url = f"sqlite:///{seeded_db}"
    assert fetch_raw(url, "SELECT count(*) FROM charge_point") == [(60,)]
    assert fetch_raw(url, "SELECT last_id, finished_at FROM sync_state") == [(ids[59], None)]
    resumed = _run("sync", "--db", str(seeded_db), "--country", "EE", env=_fast_env(fake))
    assert resumed.returncode == 0, resumed.stderr
    assert f"after site {ids[59]}" in resumed.stderr
    assert "sites: 40 read, 40 written" in resumed.stdout
    assert fetch_raw(url, "SELECT count(*) FROM charge_point") == [(100,)]


def test_a_sync_killed_mid_way_keeps_whole_pages_and_the_rerun_completes(
    seeded_db: Path, fake: FakeOcm
) -> None:
    ids = _ids_of_estonia()
    fake.fail("stall", at=3, stall_seconds=3.0)  # pages 1 and 2 are written by then
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OCM_GQL_")}
    environment.update(_fast_env(fake))
    process = subprocess.Popen(
        [sys.executable, "-m", "gql", "sync", "--db", str(seeded_db), "--country", "EE"],
        cwd=REPO_ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while len(fake.poi_requests()) < 3:
            assert process.poll() is None, "the sync ended before its third request"
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        process.kill()
        process.wait(10)
    url = f"sqlite:///{seeded_db}"
    assert fetch_raw(url, "SELECT id FROM charge_point ORDER BY id") == [(i,) for i in ids[:60]]
    assert fetch_raw(url, "SELECT last_id, finished_at FROM sync_state") == [(ids[59], None)]
    fake.requests.clear()
    resumed = _run("sync", "--db", str(seeded_db), "--country", "EE", env=_fast_env(fake))
    assert resumed.returncode == 0, resumed.stderr
    assert fake.poi_requests()[0].params["greaterthanid"] == str(ids[59])
    assert fetch_raw(url, "SELECT count(*) FROM charge_point") == [(100,)]


def test_a_rejected_record_is_listed_and_skipped_and_exits_3(
    seeded_db: Path, fake: FakeOcm
) -> None:
    ids = _ids_of_estonia()
    address = next(r for r in fake.records if r["ID"] == ids[-1])["AddressInfo"]
    fake.update(ids[-1], AddressInfo={**address, "Latitude": 999})
    result = _run("sync", "--db", str(seeded_db), "--country", "EE", env=_fast_env(fake))
    assert result.returncode == 3
    assert f"OCM page 4: rejected site {ids[-1]}: AddressInfo.Latitude" in result.stderr
    assert "sites: 100 read, 99 written, 0 unchanged, 1 rejected" in result.stdout
    assert result.stderr.splitlines()[-1].startswith("ocm-gql: error: 1 of 100 sites and ")
    url = f"sqlite:///{seeded_db}"
    # Past it all the same: asking again would only be refused again.
    assert fetch_raw(url, "SELECT last_id FROM sync_state") == [(ids[-1],)]
    allowed = _run(
        "sync",
        "--db",
        str(seeded_db),
        "--country",
        "EE",
        "--since",
        "2012-01-01",
        "--allow-rejects",
        env=_fast_env(fake),
    )
    assert allowed.returncode == 0, allowed.stderr
    assert "sites: 100 read, 0 written, 99 unchanged, 1 rejected" in allowed.stdout


def test_an_unreachable_ocm_is_one_line(seeded_db: Path, fake: FakeOcm) -> None:
    env = _fast_env(fake, OCM_GQL_OCM_API_URL="http://127.0.0.1:9/v3")  # discard: refused
    result = _run("sync", "--db", str(seeded_db), "--country", "EE", env=env)
    assert result.returncode == 2
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("ocm-gql:")]
    assert error.startswith(
        "ocm-gql: error: sync of EE stopped: the request to OCM at http://127.0.0.1:9/v3"
    )
    assert error.endswith("(2 tries); run the sync again to resume")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ("--country", "E1"),
            "--country must be an ISO 3166 two-letter country code such as EE, got 'E1'",
        ),
        (
            ("--country", "Estonia"),
            "--country must be an ISO 3166 two-letter country code such as EE, got 'Estonia'",
        ),
        (("--country", "XX"), "--country 'XX' is not a country of the reference lists"),
        (
            ("--country", "EE", "--since", "2024-13-01"),
            "--since must be a date (YYYY-MM-DD) or an ISO 8601 time, got '2024-13-01'",
        ),
        (
            ("--country", "EE", "--since", "2999-01-01"),
            "--since must not be in the future, got '2999-01-01'",
        ),
    ],
)
def test_a_bad_country_or_date_is_one_line_and_exit_2(
    seeded_db: Path, fake: FakeOcm, flags: tuple[str, ...], message: str
) -> None:
    result = _run("sync", "--db", str(seeded_db), *flags, env=_fast_env(fake))
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == f"ocm-gql: error: {message}"
    assert [line for line in result.stderr.splitlines() if "error" in line] == [
        f"ocm-gql: error: {message}"
    ]
    assert result.stdout == ""
    assert fake.requests == []


def test_a_missing_database_named_by_db_is_refused(tmp_path: Path, fake: FakeOcm) -> None:
    missing = tmp_path / "none.db"
    result = _run("sync", "--db", str(missing), "--country", "EE", env=_fast_env(fake))
    assert result.returncode == 2
    assert result.stderr == (
        f"ocm-gql: error: no database at {missing}; create one with `ocm-gql seed --db {missing}`\n"
    )
    assert not missing.exists()
    assert fake.requests == []


def test_sync_state_is_copied_with_the_rest(seeded_db: Path, fake: FakeOcm, tmp_path: Path) -> None:
    assert (
        _run("sync", "--db", str(seeded_db), "--country", "EE", env=_fast_env(fake)).returncode == 0
    )
    target = tmp_path / "copy.db"
    run_cli("copy", "--from", f"sqlite:///{seeded_db}", "--to", f"sqlite:///{target}")
    state = "SELECT * FROM sync_state"
    assert fetch_raw(f"sqlite:///{target}", state) == fetch_raw(f"sqlite:///{seeded_db}", state)
    assert len(fetch_raw(f"sqlite:///{target}", state)) == 1
