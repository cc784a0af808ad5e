"""Two `ocm-gql serve` processes on one SQLite file, 8 writers spread over both, and one
process killed with SIGKILL in the middle: every acknowledged write is in the file and in
the change log, the survivor keeps serving, and the writers of the dead one carry on
through it (as behind a load balancer)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import defaultdict
from pathlib import Path

import httpx2
import pytest

from tests.conftest import run_cli
from tests.processes import ocm_server
from tests.test_write_durability import (
    QUIET,
    Entry,
    Tally,
    WriterTask,
    _check_chains,
    _entry_matches,
    _integrity,
    _key,
    _log,
    _rows,
    _whole_shared_row,
)

pytestmark = pytest.mark.e2e

SECONDS = 10.0
KILL_AFTER = 4.0


@pytest.mark.timeout(120)
def test_a_process_killed_under_load_loses_no_acknowledged_write(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    url = f"sqlite:///{db}"
    run_cli("seed", "--db", str(db), "--demo", "40", "--seed", "1")
    keys = {f"writer{i}": _key(url, f"writer{i}") for i in range(8)}
    _whole_shared_row(url)
    a = ocm_server("--db", str(db), cwd=tmp_path, env=QUIET)
    b = ocm_server("--db", str(db), cwd=tmp_path, env=QUIET)
    tally = Tally()
    # Per writer of A: how many of its writes were acknowledged before A died.
    acked_before_kill: dict[str, int] = {}
    acks_at_kill = 0

    async def load() -> None:
        writers = [
            WriterTask(name, key, (a.url, b.url)[seed % 2], tally, seed)
            for seed, (name, key) in enumerate(keys.items())
        ]
        on_a = writers[::2]
        for writer in writers:
            for _ in range(3):
                await writer.create()
        started = time.monotonic()
        deadline = started + SECONDS
        killed = asyncio.Event()

        async def write_loop(writer: WriterTask) -> None:
            while time.monotonic() < deadline:
                try:
                    await writer.step()
                except httpx2.TransportError:
                    # A died with this write in flight: it may or may not have committed.
                    assert writer in on_a
                    assert killed.is_set()
                    acked_before_kill[writer.name] = sum(
                        ack.writer == writer.name for ack in tally.acks
                    )
                    await writer.client.aclose()
                    headers = {"X-API-Key": keys[writer.name]}
                    writer.client = httpx2.AsyncClient(base_url=b.url, headers=headers, timeout=60)

        async def kill_midway() -> None:
            nonlocal acks_at_kill
            await asyncio.sleep(KILL_AFTER)
            acks_at_kill = len(tally.acks)
            killed.set()
            a.process.kill()  # SIGKILL: no shutdown, no rollback by the server

        try:
            await asyncio.gather(*(write_loop(w) for w in writers), kill_midway())
        finally:
            for writer in writers:
                await writer.client.aclose()

    try:
        asyncio.run(load())
    finally:
        a.stop()
        output = b.stop()
    assert a.process.returncode == -9
    assert sorted(acked_before_kill) == sorted(list(keys)[::2])  # every writer of A moved
    assert tally.server_errors == 0
    assert tally.locked == 0
    assert tally.refused == []
    assert "locked" not in output
    assert "Traceback" not in output
    # B kept serving, for its own writers and A's.
    assert len(tally.acks) - acks_at_kill > 20

    assert _integrity(url) == "ok"
    entries, rows = _log(url), _rows(url)
    _check_chains(entries, rows)
    by_writer: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_writer[entry.actor].append(entry)
    for writer in keys:
        acks = [ack for ack in tally.acks if ack.writer == writer]
        logged = by_writer[writer]
        if writer in acked_before_kill and len(logged) == len(acks) + 1:
            # The write in flight when A died committed: it sits between the writes
            # acknowledged by A and those acknowledged by B.
            del logged[acked_before_kill[writer]]
        assert len(logged) == len(acks), writer
        for entry, ack in zip(logged, acks, strict=True):
            assert _entry_matches(entry, ack), (entry, ack)
    # The file as sqlite3 reads it, apart from the server: every acknowledged create is there.
    connection = sqlite3.connect(db)
    try:
        stored = {row[0] for row in connection.execute("SELECT id FROM connection_info")}
    finally:
        connection.close()
    assert set(tally.created) <= stored
