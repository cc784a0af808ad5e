"""One version everywhere: pyproject.toml sets it; the installed package, `ocm-gql
--version`, /healthz and the changelog's latest release all say the same."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

from starlette.testclient import TestClient

from gql.app import create_app
from gql.settings import Settings
from gql.version import VERSION
from tests.conftest import REPO_ROOT

# Keep a Changelog's release headings: "## [1.2.3] - 2026-01-31", or "## [Unreleased]".
RELEASE = re.compile(r"^## \[(?P<version>[^\]]+)\](?: - (?P<date>\d{4}-\d{2}-\d{2}))?$")


def _pyproject_version() -> str:
    with (REPO_ROOT / "pyproject.toml").open("rb") as pyproject:
        return str(tomllib.load(pyproject)["project"]["version"])


def _changelog_releases() -> list[tuple[str, str | None]]:
    lines = (REPO_ROOT / "CHANGELOG.md").read_text().splitlines()
    headings = [line for line in lines if line.startswith("## ")]
    matches = [RELEASE.match(line) for line in headings]
    assert all(matches), [h for h, m in zip(headings, matches, strict=True) if not m]
    return [(m["version"], m["date"]) for m in matches if m]


def test_the_installed_package_has_pyprojects_version() -> None:
    # An editable install made before a version bump fails here: reinstall.
    assert VERSION == version("ocm-gql") == _pyproject_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", VERSION)


def test_the_command_line_prints_it() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "gql", "--version"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert run.stdout == f"ocm-gql {_pyproject_version()}\n"


def test_healthz_reports_it(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(db=tmp_path / "version.db"))) as client:
        health = client.get("/healthz").json()
    assert health == {"status": "ok", "version": _pyproject_version()}


def test_the_changelogs_latest_release_is_it() -> None:
    releases = _changelog_releases()
    assert releases[0] == ("Unreleased", None)
    released = releases[1:]
    assert released, "no release in CHANGELOG.md"
    assert all(date is not None for _, date in released)
    assert released[0][0] == _pyproject_version()
    dates = [date for _, date in released]
    assert dates == sorted(dates, reverse=True)  # newest first
