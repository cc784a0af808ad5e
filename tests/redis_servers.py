"""Redis for tests: the shared server, and private ones for fault tests.

The shared server comes from ``OCM_GQL_TEST_REDIS_URL`` (default: the local service at
127.0.0.1:6379, database 0). Tests never flush it: each gets a key prefix of its own
(`unique_prefix`), so runs and tests never see each other's keys or channels. When it
cannot be reached, tests skip with the reason on a developer's machine and fail when
``CI`` is set, so CI never goes green without them.

Fault tests start a private ``redis-server`` on a free port (`PrivateRedis`) and stop and
start it at will, never touching the shared one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.processes import free_port

TEST_REDIS_URL = os.environ.get("OCM_GQL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
_reachable: bool | None = None


def _fail_or_skip(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the Redis tests)", pytrace=False)
    pytest.skip(reason)


def require_redis() -> str:
    """The shared test Redis URL; skips (fails when CI is set) when it cannot be reached."""
    global _reachable
    if _reachable is None:
        try:
            with redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2) as client:
                client.ping()
            _reachable = True
        except (redis.RedisError, OSError) as error:
            _reachable = False
            _fail_or_skip(f"Redis at {TEST_REDIS_URL} cannot be reached: {error}")
    if not _reachable:
        _fail_or_skip(f"Redis at {TEST_REDIS_URL} cannot be reached")
    return TEST_REDIS_URL


def unique_prefix() -> str:
    """A key prefix no other test (or test run) uses."""
    return f"ocm-gql-test:{os.getpid()}:{secrets.token_hex(4)}:"


def delete_prefixed(url: str, prefix: str) -> None:
    """Removes a test's keys, so the shared server does not fill up."""
    with redis.Redis.from_url(url) as client:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)


@contextlib.contextmanager
def redis_prefix() -> Iterator[tuple[str, str]]:
    """(URL, prefix) on the shared test Redis, the prefix's keys deleted afterwards."""
    url = require_redis()
    prefix = unique_prefix()
    try:
        yield url, prefix
    finally:
        with contextlib.suppress(redis.RedisError, OSError):
            delete_prefixed(url, prefix)


class PrivateRedis:
    """A redis-server of the test's own, on a free loopback port, keeping nothing on disk.
    ``stop`` and ``start`` it as often as the test needs; it keeps its port."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None
        self._process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            time.sleep(0.02)
        raise AssertionError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)
        self._process = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None


@contextlib.contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    """A started private Redis, always stopped afterwards; skips (fails in CI) without
    redis-server."""
    if shutil.which("redis-server") is None:
        _fail_or_skip("redis-server is not installed (Debian package redis-server)")
    with tempfile.TemporaryDirectory(prefix="ocm-gql-redis-") as folder:
        server = PrivateRedis(Path(folder))
        server.start()
        try:
            yield server
        finally:
            server.stop()
