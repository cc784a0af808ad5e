"""A private PostgreSQL server for fault tests, from the installed binaries: its own data
folder and a free port on loopback, so a test may stop and start it at will without
disturbing the shared service (127.0.0.1:5432) the other tests use.

The binaries come from ``OCM_GQL_TEST_POSTGRES_BIN`` (default: PostgreSQL 15's folder on
Debian). Without them the test skips on a developer's machine and fails when ``CI`` is
set. PostgreSQL refuses to run as root, so under root it runs as the user ``postgres``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.processes import free_port

BIN = Path(os.environ.get("OCM_GQL_TEST_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
USER = "postgres"


def require_binaries() -> None:
    missing = [name for name in ("initdb", "pg_ctl", "postgres") if not (BIN / name).exists()]
    if missing:
        reason = f"PostgreSQL's {', '.join(missing)} not found in {BIN} (OCM_GQL_TEST_POSTGRES_BIN)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must run the fault tests)", pytrace=False)
        pytest.skip(reason)


class PostgresInstance:
    """One server: ``start`` and ``stop`` it as often as the test needs."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.log = folder / "server.log"
        self.port = free_port()

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        # Trust authentication: a password in the URL is accepted and ignored, so tests
        # can check it never shows.
        user = USER if password is None else f"{USER}:{password}"
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        self._run(BIN / "initdb", "-D", self.data, "-U", USER, "--auth=trust", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        self._run(BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast`` ends sessions and checkpoints; ``immediate`` is a crash (recovery from
        the write-ahead log at the next start)."""
        self._run(BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def running(self) -> bool:
        status = subprocess.run(
            self._as_owner(BIN / "pg_ctl", "-D", self.data, "status"),
            capture_output=True,
            check=False,
        )
        return status.returncode == 0

    def create_database(self, name: str) -> None:
        async def create() -> None:
            connection = await asyncpg.connect(self.url(), timeout=10)
            try:
                await connection.execute(f'CREATE DATABASE "{name}"')
            finally:
                await connection.close()

        asyncio.run(create())

    def _run(self, *command: str | Path) -> None:
        done = subprocess.run(self._as_owner(*command), capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise AssertionError(f"{command[:2]} failed:\n{done.stdout}{done.stderr}{log}")

    def _as_owner(self, *command: str | Path) -> list[str]:
        arguments = [str(part) for part in command]
        if os.geteuid() == 0:
            return ["runuser", "-u", USER, "--", *arguments]
        return arguments


@contextlib.contextmanager
def private_postgres() -> Iterator[PostgresInstance]:
    """A new server, started; stopped (immediately) and removed afterwards."""
    require_binaries()
    # Not under pytest's tmp folder: that one is private to root, and the server runs as
    # postgres under root.
    folder = Path(tempfile.mkdtemp(prefix="ocm-gql-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam(USER)
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    instance = PostgresInstance(folder)
    try:
        instance.init()
        instance.start()
        yield instance
    finally:
        if instance.running():
            instance.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)
