"""Which worker of a `serve --workers N` holds what, read from /proc (Linux): the
workers are the children of `serve` holding its listening socket, and a connection's
server-side socket is held by exactly one of them. Tests use it to send requests through
a chosen worker without any API of the server's own."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.processes import Process


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        # Fields after the command name (which may hold spaces): state, then the parent.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def server_sockets(port: int, state: str) -> set[int]:
    """Inodes of the sockets on our side of ``port``: "0A" listening, "01" established."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
                inodes.add(int(fields[9]))
    return inodes


def open_sockets(pid: int) -> set[int]:
    inodes = set()
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return inodes
    for descriptor in descriptors:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{descriptor}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[len("socket:[") : -1]))
    return inodes


def worker_pids(server: Process) -> set[int]:
    """The children of `serve` that hold its listening socket (multiprocessing's resource
    tracker is a child too, but serves nothing)."""
    listening = server_sockets(server.port, "0A")
    return {pid for pid in children(server.process.pid) if open_sockets(pid) & listening}


def holder(inode: int, workers: set[int]) -> int:
    [pid] = [pid for pid in workers if inode in open_sockets(pid)]
    return pid


def wait_for_workers(server: Process, count: int) -> set[int]:
    deadline = time.monotonic() + 60  # a guard against hanging, not a measurement
    while len(workers := worker_pids(server)) != count:
        assert time.monotonic() < deadline, workers
        time.sleep(0.1)
    return workers
