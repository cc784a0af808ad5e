"""Paths that are not regular files, for the importer's refusals."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def not_a_regular_file(path: Path, kind: str) -> Path:
    """``path`` made a link to /dev/zero (``kind`` "device") or a FIFO ("fifo"); skips
    where the system has neither."""
    if kind == "device":
        if not Path("/dev/zero").exists():
            pytest.skip("no /dev/zero here")
        path.symlink_to("/dev/zero")
    else:
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        os.mkfifo(path)
    return path
