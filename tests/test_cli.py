"""The ocm-gql command line, run as a real process."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.mark.parametrize("kind", ["gzip bomb", "device", "fifo", "truncated gzip"])
def test_import_refusals_are_one_line_and_exit_2(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "export.json.gz"
    if kind == "gzip bomb":
        path.write_bytes(gzip.compress(b"[" + b" " * 5_000_000 + b"]"))
    elif kind == "truncated gzip":
        whole = gzip.compress(b"[" + b",".join([b'{"ID": 1}'] * 1000) + b"]")
        path.write_bytes(whole[: len(whole) - 10])
    elif kind == "device":
        if not Path("/dev/zero").exists():
            pytest.skip("no /dev/zero here")
        path.symlink_to("/dev/zero")
    else:
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        os.mkfifo(path)
    result = _run(
        "import",
        "--db",
        str(tmp_path / "x.db"),
        str(path),
        env={"OCM_GQL_IMPORT_MAX_BYTES": "1048576"},
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("ocm-gql: error:")]
    assert len(errors) == 1, result.stderr
    expected = {
        "gzip bomb": "file too large once decompressed: more than 1,048,576 bytes",
        "truncated gzip": "cannot read: ",
        "device": "not a regular file",
        "fifo": "not a regular file",
    }[kind]
    assert errors[0].startswith(f"ocm-gql: error: {path}: {expected}"), errors


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


# -- keys ----------------------------------------------------------------------------------


def _seeded(tmp_path: Path) -> Path:
    db = tmp_path / "keys.db"
    assert _run("seed", "--db", str(db)).returncode == 0
    return db


def test_keys_create_prints_the_key_once_on_its_own_line(tmp_path: Path) -> None:
    db = _seeded(tmp_path)
    result = _run("keys", "create", "--db", str(db), "--name", "ci-bot")
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"ocmgql_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\n", result.stdout)
    key = result.stdout.strip()
    assert "ci-bot" in result.stderr
    assert "shown only now" in result.stderr
    assert key not in result.stderr
    # Only a salted hash is kept: the secret is nowhere in the database's files.
    secret = key[len("ocmgql_") + 13 :]  # what follows ocmgql_<12 hex>_
    for path in tmp_path.glob("keys.db*"):
        assert secret.encode() not in path.read_bytes()
    listed = _run("keys", "list", "--db", str(db))
    assert listed.returncode == 0
    assert secret not in listed.stdout
    assert key not in listed.stdout
    [line] = listed.stdout.splitlines()
    name, kind, created, state = line.split("\t")
    assert (name, kind, state) == ("ci-bot", "write", "active")
    assert created.startswith("created 20")


def test_keys_list_revoke_and_read_only(tmp_path: Path) -> None:
    db = _seeded(tmp_path)
    assert _run("keys", "create", "--db", str(db), "--name", "writer").returncode == 0
    viewer = _run("keys", "create", "--db", str(db), "--name", "viewer", "--read-only")
    assert viewer.returncode == 0
    assert "read-only" in viewer.stderr
    revoked = _run("keys", "revoke", "--db", str(db), "writer")
    assert revoked.returncode == 0
    assert "writer" in revoked.stdout
    rows = {
        line.split("\t")[0]: line.split("\t")
        for line in _run("keys", "list", "--db", str(db)).stdout.splitlines()
    }
    assert rows["writer"][1] == "write"
    assert rows["writer"][3].startswith("revoked 20")
    assert rows["viewer"][1] == "read-only"
    assert rows["viewer"][3] == "active"
    again = _run("keys", "revoke", "--db", str(db), "writer")
    assert again.returncode == 2
    assert again.stderr.strip() == "ocm-gql: error: no active key named 'writer'"
    unknown = _run("keys", "revoke", "--db", str(db), "nobody")
    assert unknown.returncode == 2
    assert "Traceback" not in unknown.stderr


def test_keys_create_refusals(tmp_path: Path) -> None:
    db = _seeded(tmp_path)
    assert _run("keys", "create", "--db", str(db), "--name", "taken").returncode == 0
    for name, reason in (("taken", "exists already"), ("bad name", "key name")):
        result = _run("keys", "create", "--db", str(db), "--name", name)
        assert result.returncode == 2
        assert result.stdout == ""  # no key printed
        assert result.stderr.startswith("ocm-gql: error: ")
        assert reason in result.stderr
        assert "Traceback" not in result.stderr
    assert len(_run("keys", "list", "--db", str(db)).stdout.splitlines()) == 1


def test_keys_need_an_existing_database(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    for args in (("create", "--name", "x"), ("list",), ("revoke", "x")):
        result = _run("keys", args[0], "--db", str(missing), *args[1:])
        assert result.returncode == 2, args
        assert f"no database at {missing}" in result.stderr
        assert result.stdout == ""
    assert not missing.exists()
    usage = _run("keys")
    assert usage.returncode == 2
    assert "create" in usage.stderr
