"""Real processes on loopback for end-to-end tests: started, awaited, always stopped."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2
import pytest


def npm_project(project: Path, installed: str, purpose: str) -> Path:
    """An npm project of the repo, installed from its committed lock file (npm ci) when
    ``installed`` (a path below node_modules) is missing; skips without Node.js."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip(f"Node.js and npm are needed for {purpose}")
    if not (project / "node_modules" / installed).exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=project,
            check=True,
            capture_output=True,
            timeout=600,
        )
    return project


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Process:
    """A child process that serves HTTP on 127.0.0.1:``port``; ready once ``ready_path``
    answers (any HTTP status below 500)."""

    def __init__(
        self,
        command: list[str],
        *,
        port: int,
        cwd: Path,
        env: dict[str, str] | None = None,
        ready_path: str = "/",
        ready_method: str = "GET",
        timeout: float = 90,
    ) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("OCM_GQL_")}
        environment.update(env or {})
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        # Read as it comes: a full pipe would block the child's next log line, and with
        # it the whole server (an access line per request fills 64 KiB soon enough).
        self._output: list[str] = []
        assert self.process.stdout is not None
        self._reader = threading.Thread(
            target=self._output.extend, args=(self.process.stdout,), daemon=True
        )
        self._reader.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{command[:3]} exited early:\n{self.stop()}")
            try:
                response = httpx2.request(ready_method, self.url + ready_path, timeout=2)
                if response.status_code < 500:
                    return
            except httpx2.TransportError:
                pass
            time.sleep(0.1)
        output = self.stop()
        raise AssertionError(f"{command[:3]} was not ready in {timeout} s:\n{output}")

    def wait_for_output(self, text: str, count: int = 1, timeout: float = 60) -> None:
        """Waits until ``text`` has appeared in ``count`` lines of what the process printed."""
        deadline = time.monotonic() + timeout
        while sum(text in line for line in list(self._output)) < count:
            assert time.monotonic() < deadline, f"{text!r} not printed {count} times"
            time.sleep(0.02)

    def stop(self) -> str:
        """Stops the process (SIGTERM, then SIGKILL after 20 s); returns all it printed."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=20)
        return "".join(self._output)


def ocm_server(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Process:
    """`ocm-gql serve` on a free port; ``env`` adds variables (such as OCM_GQL_ settings)."""
    port = free_port()
    return Process(
        [sys.executable, "-m", "gql", "serve", "--port", str(port), *args],
        port=port,
        cwd=cwd,
        env=env,
        ready_path="/healthz",
    )


def rss_mb(pid: int) -> float:
    """A process's resident memory, from /proc (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")
