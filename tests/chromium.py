"""The browser tests' scripts (tests/browser): Node with playwright-core driving Debian's
Chromium, which never downloads a browser and fails on any request off loopback."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT
from tests.processes import npm_project

BROWSER_SCRIPTS = REPO_ROOT / "tests" / "browser"
CHROMIUM = Path("/usr/bin/chromium")


def browser_scripts() -> Path:
    """The scripts' npm project, installed from its lock file when not yet; skips without
    Debian's Chromium."""
    if not CHROMIUM.is_file():
        pytest.skip(f"Debian's Chromium is needed at {CHROMIUM} (apt-get install chromium)")
    return npm_project(BROWSER_SCRIPTS, "playwright-core", "the browser test")


def browser_report(
    project: Path, script: str, env: dict[str, str], timeout: float = 180
) -> dict[str, Any]:
    """The JSON report a script prints, once it has run to its end and seen no problem
    (failed request, console error, request off loopback)."""
    run = subprocess.run(
        ["node", script],
        cwd=project,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}"
    report: dict[str, Any] = json.loads(run.stdout)
    assert report["problems"] == []
    return report
