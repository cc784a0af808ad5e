"""The ocm-gql command line, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT


def _run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OCM_GQL_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "gql", *args],
        capture_output=True,
        text=True,
        cwd=cwd or REPO_ROOT,
        env=environment,
        timeout=120,
    )


def test_help_lists_the_commands() -> None:
    result = _run("--help")
    assert result.returncode == 0
    for command in ("serve", "seed", "import", "export-schema"):
        assert command in result.stdout


def test_every_command_takes_db() -> None:
    for command in ("serve", "seed", "import", "export-schema"):
        assert "--db" in _run(command, "--help").stdout, command


def test_serve_refuses_a_missing_database_it_was_pointed_at(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    result = _run("serve", "--db", str(missing))
    assert result.returncode == 2
    assert f"no database at {missing}" in result.stderr
    assert "ocm-gql seed --db" in result.stderr
    assert "Traceback" not in result.stderr
    assert not missing.exists()
    from_env = _run("serve", env={"OCM_GQL_DB": str(missing)})
    assert from_env.returncode == 2
    assert "no database at" in from_env.stderr


def test_bad_settings_are_one_clear_line(tmp_path: Path) -> None:
    result = _run("seed", "--db", str(tmp_path / "x.db"), env={"OCM_GQL_MAX_PAGE_SIZE": "lots"})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "ocm-gql: error: OCM_GQL_MAX_PAGE_SIZE must be an integer, got 'lots'"
    )


def test_import_of_a_missing_path(tmp_path: Path) -> None:
    result = _run("import", "--db", str(tmp_path / "x.db"), str(tmp_path / "missing.json"))
    assert result.returncode == 2
    assert "missing.json: no such file or folder" in result.stderr


def test_seed_refuses_a_negative_demo_size(tmp_path: Path) -> None:
    result = _run("seed", "--db", str(tmp_path / "x.db"), "--demo", "-5")
    assert result.returncode == 2
    assert "must be 0 or more" in result.stderr


def test_serve_refuses_an_unusable_trusted_documents_manifest(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text('{"format": "something-else"}')
    for path, reason in (
        (manifest, "apollo-persisted-query-manifest"),
        (tmp_path / "no.json", "cannot read"),
    ):
        result = _run(
            "serve", "--db", str(tmp_path / "x.db"), env={"OCM_GQL_TRUSTED_DOCUMENTS": str(path)}
        )
        assert result.returncode == 2
        assert result.stderr.startswith("ocm-gql: error: ")
        assert str(path) in result.stderr
        assert reason in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.db").exists()
