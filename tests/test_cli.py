"""The ocm-gql command line, run as a real process."""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import gzip
import json
import os
import pty
import re
import sqlite3
import struct
import subprocess
import sys
import termios
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from gql import cli
from gql.settings import documented_settings
from tests.conftest import REPO_ROOT, run_cli, shared_ocm
from tests.databases import require_postgres, throwaway_postgres
from tests.special_files import not_a_regular_file


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
    for command in ("serve", "seed", "import", "copy", "export-schema"):
        assert command in result.stdout


def test_every_command_that_opens_the_database_takes_db() -> None:
    for command in (("serve",), ("seed",), ("import",), ("sync",), ("keys", "list"), ("settings",)):
        assert "--db" in _run(*command, "--help").stdout, command
    # export-schema never reads the database, so it offers no --db to ignore.
    export_help = _run("export-schema", "--help")
    assert "--db" not in export_help.stdout
    assert "--federation" in export_help.stdout
    refused = _run("export-schema", "--db", "x.db")
    assert refused.returncode == 2
    assert "unrecognized arguments: --db" in refused.stderr


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Every command's parser by its full name ("keys revoke"), the top level as ""."""
    found = {"": parser}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.update({f"{name} {k}".strip(): v for k, v in _subparsers(sub).items()})
    return found


def test_every_positional_argument_and_flag_has_help() -> None:
    parsers = _subparsers(cli._parser())
    assert {"serve", "import", "keys revoke", "settings", "keys list"} <= set(parsers)
    for name, parser in parsers.items():
        for action in parser._actions:
            if not isinstance(action, argparse._SubParsersAction):
                assert action.help, (name, action.dest)


def test_every_help_points_to_the_settings_command() -> None:
    for command in ((), ("serve",), ("import",), ("keys",), ("keys", "create"), ("settings",)):
        help_text = " ".join(_run(*command, "--help").stdout.split())
        assert "Every OCM_GQL_* setting applies; `ocm-gql settings` lists them" in help_text, (
            command
        )
    serve_help = " ".join(_run("serve", "--help").stdout.split())
    assert "--log-level {debug,info,warning,error}" in serve_help
    assert "overrides $OCM_GQL_LOG_LEVEL" in serve_help


def test_a_missing_command_names_the_commands() -> None:
    keys = _run("keys")
    assert keys.returncode == 2
    assert keys.stderr.splitlines()[-1] == (
        "ocm-gql keys: error: the following arguments are required: {create,list,revoke}"
    )
    assert "keys_command" not in keys.stderr
    top = _run()
    assert top.returncode == 2
    assert top.stderr.splitlines()[-1].endswith(
        "required: {serve,seed,import,sync,copy,export-schema,keys,settings}"
    )


def _settings_lines(result: subprocess.CompletedProcess[str]) -> dict[str, tuple[str, str]]:
    """NAME: (value, source) from `ocm-gql settings`."""
    assert result.returncode == 0, result.stderr
    rows = {}
    for line in result.stdout.splitlines():
        assignment, source = line.rsplit("  (", 1)
        name, value = assignment.strip().split("=", 1)
        rows[name] = (value, source.rstrip(")"))
    return rows


def test_settings_prints_every_setting_with_its_source(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("OCM_GQL_MAX_DEPTH=7\nOCM_GQL_PORT=9001\n")
    result = _run(
        "settings",
        "--db",
        "flagged.db",
        cwd=tmp_path,
        env={"OCM_GQL_PORT": "9002", "OCM_GQL_CORS_ORIGINS": "https://a.example,https://b"},
    )
    rows = _settings_lines(result)
    assert list(rows) == [name for name, _ in documented_settings()]
    assert rows["OCM_GQL_DB"] == ("flagged.db", "flag")
    assert rows["OCM_GQL_PORT"] == ("9002", "environment")
    assert rows["OCM_GQL_MAX_DEPTH"] == ("7", ".env file")
    assert rows["OCM_GQL_CORS_ORIGINS"] == ("https://a.example,https://b", "environment")
    assert rows["OCM_GQL_HOST"] == ("127.0.0.1", "default")
    assert rows["OCM_GQL_TRUSTED_DOCUMENTS"] == ("None", "default")
    listed = _run("settings", "--json", "--log-level", "debug", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    by_name = {row["name"]: row for row in json.loads(listed.stdout)}
    assert by_name["OCM_GQL_LOG_LEVEL"] == {
        "name": "OCM_GQL_LOG_LEVEL",
        "value": "debug",
        "source": "flag",
    }
    assert by_name["OCM_GQL_MAX_DEPTH"] == {
        "name": "OCM_GQL_MAX_DEPTH",
        "value": 7,
        "source": ".env file",
    }
    assert by_name["OCM_GQL_INTROSPECTION"]["value"] is True
    assert by_name["OCM_GQL_PLAYGROUND_ASSETS"]["value"] is None


def test_settings_refuses_a_bad_value_in_one_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("OCM_GQL_MAX_DEPTH=deep\n")
    result = _run("settings", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "ocm-gql: error: OCM_GQL_MAX_DEPTH must be an integer, got 'deep'\n"
    flagged = _run("settings", "--port", "0", cwd=tmp_path, env={"OCM_GQL_MAX_DEPTH": "3"})
    assert flagged.returncode == 2
    assert flagged.stderr == "ocm-gql: error: --port must be at least 1, got 0\n"


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


def _seeded_in_process(tmp_path: Path) -> Path:
    db = tmp_path / "x.db"
    run_cli("seed", "--db", str(db))  # in process: quicker, and only set-up here
    return db


def test_import_of_a_missing_path(tmp_path: Path) -> None:
    db = _seeded_in_process(tmp_path)
    result = _run("import", "--db", str(db), str(tmp_path / "missing.json"))
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
    else:
        not_a_regular_file(path, kind)
    result = _run(
        "import",
        "--db",
        str(_seeded_in_process(tmp_path)),
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


def _error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("ocm-gql: error:")]


def _rows(db: Path) -> tuple[int, int]:
    with sqlite3.connect(db) as raw:
        sites = raw.execute("SELECT count(*) FROM charge_point").fetchone()[0]
        connections = raw.execute("SELECT count(*) FROM connection_info").fetchone()[0]
    return sites, connections


def test_import_refuses_a_missing_database_it_was_pointed_at(tmp_path: Path) -> None:
    missing = tmp_path / "new.db"
    sample = str(shared_ocm() / "poi")
    for result in (
        _run("import", "--db", str(missing), sample),
        _run("import", sample, env={"OCM_GQL_DB": str(missing)}),
        _run("import", "--dry-run", "--db", str(missing), sample),
    ):
        assert result.returncode == 2
        assert result.stderr == (
            f"ocm-gql: error: no database at {missing}; create one with "
            f"`ocm-gql seed --db {missing}`\n"
        )
        assert result.stdout == ""
    assert not missing.exists()


def test_import_creates_only_the_default_database_with_the_reference_lists(
    tmp_path: Path,
) -> None:
    stats = json.loads((shared_ocm() / "poi" / "STATS.json").read_text())
    sample = str(shared_ocm() / "poi")
    # A dry run creates nothing, not even the default file.
    dry = _run("import", "--dry-run", sample, cwd=tmp_path)
    assert dry.returncode == 2
    assert "no database at ocm-gql.db" in dry.stderr
    assert not (tmp_path / "ocm-gql.db").exists()
    result = _run("import", sample, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "created ocm-gql.db; loading the reference lists" in result.stderr
    assert f"connections: {stats['connections']} read, {stats['connections']} written" in (
        result.stdout
    )
    assert _rows(tmp_path / "ocm-gql.db") == (stats["pois"], stats["connections"])


def test_import_refuses_a_database_without_reference_lists(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    result = _run("import", "--db", str(empty), str(shared_ocm() / "poi"))
    assert result.returncode == 2
    assert _error_lines(result) == [
        f"ocm-gql: error: cannot import into {empty}: the database has no reference lists "
        "(connection_type, status_type, level_type, supply_type, operator, usage_type, country);"
        " load them with "
        f"`ocm-gql seed --db {empty}`"
    ]
    assert "checking" not in result.stderr  # refused before reading
    assert _rows(empty) == (0, 0)


@pytest.mark.parametrize("kind", ["folder", "not SQLite"])
def test_import_into_an_unusable_database_is_one_line_and_exit_2(tmp_path: Path, kind: str) -> None:
    db = tmp_path / "odd.db"
    if kind == "folder":
        db.mkdir()
        reason = "it is not a file"
    else:
        db.write_text("not a database, only text\n" * 100)
        reason = "file is not a database"
    result = _run("import", "--db", str(db), str(shared_ocm() / "poi"))
    assert result.returncode == 2
    assert result.stderr.startswith(f"ocm-gql: error: cannot use the database {db}: {reason}")
    assert len(result.stderr.splitlines()) == 1, result.stderr  # no traceback, no loop noise
    assert result.stdout == ""


def test_import_of_records_that_are_not_sites_exits_3(tmp_path: Path) -> None:
    db = _seeded_in_process(tmp_path)
    reference = shared_ocm() / "reference" / "ConnectionTypes.json"
    entries = len(json.loads(reference.read_text()))
    result = _run("import", "--db", str(db), str(reference))
    assert result.returncode == 3
    rejected = [line for line in result.stderr.splitlines() if ": rejected " in line]
    assert len(rejected) == entries
    assert rejected[0] == (
        "ConnectionTypes.json: rejected record #0: not an OCM site (no AddressInfo)"
    )
    assert f"sites: {entries} read, 0 written, 0 unchanged, {entries} rejected" in result.stdout
    assert _error_lines(result) == [
        f"ocm-gql: error: {entries} of {entries} sites and 0 of 0 connections were rejected "
        "(listed above); pass --allow-rejects to accept rejections"
    ]
    assert _rows(db) == (0, 0)
    numbers = tmp_path / "numbers.json"
    numbers.write_text("[1, 2, 3]")
    result = _run("import", "--db", str(db), str(numbers))
    assert result.returncode == 3
    assert [line for line in result.stderr.splitlines() if ": rejected " in line] == [
        f"numbers.json: rejected record #{n}: not an OCM site (not a JSON object)" for n in range(3)
    ]
    assert "sites: 3 read, 0 written, 0 unchanged, 3 rejected" in result.stdout
    allowed = _run("import", "--allow-rejects", "--db", str(db), str(numbers))
    assert allowed.returncode == 0
    assert "sites: 3 read, 0 written, 0 unchanged, 3 rejected" in allowed.stdout
    assert _error_lines(allowed) == []


def _one_good_one_bad(tmp_path: Path) -> Path:
    export = tmp_path / "mixed.json"
    good = {"ID": 1, "AddressInfo": {"Title": "Good"}, "Connections": [{"ID": 10}]}
    bad_connection = {"ID": 11, "ConnectionTypeID": 99999}
    export.write_text(
        json.dumps(
            [good, {"ID": 2, "AddressInfo": {"Title": "Odd"}, "Connections": [bad_connection]}]
        )
    )
    return export


def test_an_import_with_rejections_writes_the_rest_and_exits_3(tmp_path: Path) -> None:
    db = _seeded_in_process(tmp_path)
    export = _one_good_one_bad(tmp_path)
    result = _run("import", "--db", str(db), str(export))
    assert result.returncode == 3
    assert "mixed.json: rejected connection 11 of site 2: unknown ConnectionTypeID 99999" in (
        result.stderr
    )
    assert "sites: 2 read, 2 written, 0 unchanged, 0 rejected" in result.stdout
    assert "connections: 2 read, 1 written, 0 unchanged, 1 rejected" in result.stdout
    assert _error_lines(result) == [
        "ocm-gql: error: 0 of 2 sites and 1 of 2 connections were rejected (listed above); "
        "pass --allow-rejects to accept rejections"
    ]
    assert _rows(db) == (2, 1)
    again = _run("import", "--allow-rejects", "--db", str(db), str(export))
    assert again.returncode == 0
    assert "connections: 2 read, 0 written, 1 unchanged, 1 rejected" in again.stdout


def test_import_dry_run_checks_everything_and_writes_nothing(tmp_path: Path) -> None:
    stats = json.loads((shared_ocm() / "poi" / "STATS.json").read_text())
    db = _seeded_in_process(tmp_path)
    before = db.read_bytes()
    result = _run("import", "--dry-run", "--db", str(db), str(shared_ocm() / "poi"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"sites: {stats['pois']} read, {stats['pois']} valid, 0 rejected",
        f"connections: {stats['connections']} read, {stats['connections']} valid, 0 rejected",
        "dry run: nothing written",
    ]
    assert "[2/3] checking" in result.stderr
    assert "writing" not in result.stderr
    # With rejections it exits as the import would, and still writes nothing.
    mixed = _run("import", "--dry-run", "--db", str(db), str(_one_good_one_bad(tmp_path)))
    assert mixed.returncode == 3
    assert "connections: 2 read, 1 valid, 1 rejected" in mixed.stdout
    assert "rejected connection 11 of site 2" in mixed.stderr
    assert db.read_bytes() == before
    assert _rows(db) == (0, 0)


def test_import_help_documents_the_flags_and_exit_codes() -> None:
    help_text = " ".join(_run("import", "--help").stdout.split())
    for text in (
        "--dry-run",
        "--allow-rejects",
        "exit codes: 0 ",
        " 2 the import could not",
        " 3 some records were rejected",
    ):
        assert text in help_text, text


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


def test_keys_list_json(tmp_path: Path) -> None:
    db = _seeded(tmp_path)
    assert _run("keys", "list", "--json", "--db", str(db)).stdout.strip() == "[]"
    created = _run("keys", "create", "--db", str(db), "--name", "writer")
    key = created.stdout.strip()
    assert (
        _run("keys", "create", "--db", str(db), "--name", "viewer", "--read-only").returncode == 0
    )
    assert _run("keys", "revoke", "--db", str(db), "writer").returncode == 0
    listed = _run("keys", "list", "--json", "--db", str(db))
    assert listed.returncode == 0, listed.stderr
    assert key not in listed.stdout
    assert key[len("ocmgql_") + 13 :] not in listed.stdout  # nor the secret part
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert set(rows) == {"writer", "viewer"}
    for row in rows.values():
        assert set(row) == {"name", "readOnly", "createdAt", "revokedAt"}
        assert row["createdAt"].startswith("20")
    assert (rows["writer"]["readOnly"], rows["viewer"]["readOnly"]) == (False, True)
    assert rows["writer"]["revokedAt"].startswith("20")
    assert rows["viewer"]["revokedAt"] is None


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


# -- choosing the database by URL ------------------------------------------------------

PASSWORD = "sekret"


def _with_password(url: str) -> str:
    """``url`` with the password PASSWORD (the test server trusts and ignores it)."""
    parts = urlsplit(url)
    netloc = f"{parts.username or 'postgres'}:{PASSWORD}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit(parts._replace(netloc=netloc))


def test_database_url_names_an_sqlite_file_as_db_does(tmp_path: Path) -> None:
    seeded = _run("seed", "--database-url", "sqlite:///by-url.db", cwd=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    assert (tmp_path / "by-url.db").is_file()
    created = _run("keys", "create", "--db", "by-url.db", "--name", "ci", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    absolute = f"sqlite:///{tmp_path / 'by-url.db'}"
    listed = _run("keys", "list", "--database-url", absolute)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("ci\twrite\t")
    missing = _run("keys", "list", "--database-url", f"sqlite:///{tmp_path / 'none.db'}")
    assert missing.returncode == 2
    assert _error_lines(missing) == [
        f"ocm-gql: error: no database at {tmp_path / 'none.db'}; create one with "
        f"`ocm-gql seed --db {tmp_path / 'none.db'}`"
    ]


def test_the_database_url_wins_over_db(tmp_path: Path) -> None:
    from_env = _run(
        "seed",
        cwd=tmp_path,
        env={"OCM_GQL_DB": "by-db.db", "OCM_GQL_DATABASE_URL": "sqlite:///by-url.db"},
    )
    assert from_env.returncode == 0, from_env.stderr
    assert (tmp_path / "by-url.db").is_file()
    assert not (tmp_path / "by-db.db").exists()
    flagged = _run(
        "seed", "--db", "flag-db.db", "--database-url", "sqlite:///flag.db", cwd=tmp_path
    )
    assert flagged.returncode == 0, flagged.stderr
    assert (tmp_path / "flag.db").is_file()
    assert not (tmp_path / "flag-db.db").exists()


@pytest.mark.parametrize(
    "url", [f"mysql://root:{PASSWORD}@db/ocm", "sqlite://relative.db", f"http://u:{PASSWORD}@h/"]
)
def test_a_database_url_of_no_backend_is_one_line(tmp_path: Path, url: str) -> None:
    for result in (
        _run("seed", "--database-url", url, cwd=tmp_path),
        _run("keys", "list", cwd=tmp_path, env={"OCM_GQL_DATABASE_URL": url}),
    ):
        assert result.returncode == 2
        assert result.stdout == ""
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert result.stderr.startswith("ocm-gql: error: ")
        assert "sqlite:///" in result.stderr  # says what is accepted
        assert PASSWORD not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_settings_hide_the_database_password() -> None:
    url = f"postgresql://ocm:{PASSWORD}@db.example:5433/ocm"
    env = {"OCM_GQL_DATABASE_URL": url, "OCM_GQL_DATABASE_READ_URL": url.replace("db.", "r.")}
    rows = _settings_lines(_run("settings", env=env))
    assert rows["OCM_GQL_DATABASE_URL"] == (
        "postgresql://ocm:********@db.example:5433/ocm",
        "environment",
    )
    assert rows["OCM_GQL_DATABASE_READ_URL"][0] == "postgresql://ocm:********@r.example:5433/ocm"
    listed = _run("settings", "--json", "--database-url", url)
    assert listed.returncode == 0, listed.stderr
    assert PASSWORD not in listed.stdout
    by_name = {row["name"]: row for row in json.loads(listed.stdout)}
    assert by_name["OCM_GQL_DATABASE_URL"]["source"] == "flag"


def test_commands_on_postgresql() -> None:
    with throwaway_postgres() as plain:
        url = _with_password(plain)
        seeded = _run("seed", "--database-url", url, "--demo", "30")
        assert seeded.returncode == 0, seeded.stderr
        assert "demo: 30 connections (seed 0): 30 written" in seeded.stdout
        created = _run("keys", "create", "--name", "ci", env={"OCM_GQL_DATABASE_URL": url})
        assert created.returncode == 0, created.stderr
        listed = _run("keys", "list", "--json", "--database-url", url)
        assert listed.returncode == 0, listed.stderr
        assert [key["name"] for key in json.loads(listed.stdout)] == ["ci"]
        imported = _run("import", "--database-url", url, str(shared_ocm() / "poi"))
        assert imported.returncode == 0, imported.stderr
        stats = json.loads((shared_ocm() / "poi" / "STATS.json").read_text())
        assert f"sites: {stats['pois']} read, {stats['pois']} written" in imported.stdout
        for result in (seeded, created, listed, imported):
            assert PASSWORD not in result.stdout + result.stderr


def _newer_schema(url: str) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(
                "INSERT INTO ocm_gql_schema_version VALUES (999, '2099-01-01T00:00:00.000Z')"
            )
        finally:
            await connection.close()

    asyncio.run(run())


@pytest.mark.parametrize("fault", ["unreachable", "no database", "unknown role", "newer schema"])
def test_an_unusable_postgresql_database_is_one_line_without_the_password(fault: str) -> None:
    require_postgres()
    with throwaway_postgres() as plain:
        url = _with_password(plain)
        parts = urlsplit(url)
        expected = {
            "unreachable": "connection refused",
            "no database": 'database "ocm_gql_none" does not exist',
            "unknown role": 'role "nobody" does not exist',
            "newer schema": "999",
        }[fault]
        if fault == "unreachable":
            url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/x"
        elif fault == "no database":
            url = urlunsplit(parts._replace(path="/ocm_gql_none"))
        elif fault == "unknown role":
            url = url.replace(f"{parts.username}:", "nobody:", 1)
        else:
            assert _run("seed", "--database-url", url).returncode == 0
            _newer_schema(url)
        for command in (("seed",), ("keys", "list"), ("import", str(REPO_ROOT / "README.md"))):
            result = _run(*command, "--database-url", url)
            assert result.returncode == 2, (command, result.stderr)
            assert result.stdout == ""
            [line] = result.stderr.splitlines()
            assert line.startswith("ocm-gql: error: cannot use the database postgresql://"), line
            assert expected in line, line
            assert PASSWORD not in result.stderr
            assert "********" in line


# -- import progress ---------------------------------------------------------------------


def _many_sites(path: Path, count: int) -> Path:
    sites = [
        {"ID": n, "AddressInfo": {"Title": f"Site {n}"}, "Connections": [{"ID": n}]}
        for n in range(1, count + 1)
    ]
    path.write_text(json.dumps(sites))
    return path


def test_import_progress_off_a_terminal_is_a_line_every_10000_sites(tmp_path: Path) -> None:
    export = _many_sites(tmp_path / "many.json", 25_000)
    result = _run("import", "--db", str(_seeded_in_process(tmp_path)), str(export))
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr  # no bar redrawn into a log
    assert result.stderr.splitlines() == [
        f"[1/1] checking {export}",
        "  10000 sites checked",
        "  20000 sites checked",
        "writing 25000 sites, 1000 per transaction",
        "  10000/25000 sites written",
        "  20000/25000 sites written",
    ]
    assert "sites: 25000 read, 25000 written" in result.stdout


def test_import_progress_on_a_terminal_is_a_bar(tmp_path: Path) -> None:
    export = _many_sites(tmp_path / "many.json", 3_000)
    db = _seeded_in_process(tmp_path)
    controller, terminal = pty.openpty()
    # 30 rows of 100 columns, as a terminal has (a new pty has 0 columns: no room for a bar).
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OCM_GQL_")}
    with subprocess.Popen(
        [sys.executable, "-m", "gql", "import", "--db", str(db), str(export)],
        stdout=subprocess.PIPE,
        stderr=terminal,
        cwd=REPO_ROOT,
        env=environment,
    ) as process:
        os.close(terminal)
        shown = b""
        while chunk := _read_terminal(controller):
            shown += chunk
        stdout = process.communicate(timeout=120)[0].decode()
    os.close(controller)
    assert process.returncode == 0
    drawn = shown.decode()
    assert "\r" in drawn  # redrawn in place
    assert "sites written: 100%" in drawn
    assert "3000/3000" in drawn
    assert "  10000" not in drawn  # no progress lines beside the bar
    assert "sites: 3000 read, 3000 written" in stdout


def _read_terminal(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the child closed its end
        return b""
