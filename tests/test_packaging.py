"""The wheel carries the seed files and GraphiQL's, so an installed ocm-gql works away from
the checkout (tests/test_wheel_playground.py installs one and drives its playground)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from gql.http.playground_files import PACKAGED_FOLDER, required_files
from tests.conftest import REPO_ROOT
from tests.test_playground import playground_assets


def test_wheel_contains_the_seed_files(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for seed_file in (REPO_ROOT / "seed").rglob("*"):
        if seed_file.is_file():
            assert f"gql/_seed/{seed_file.relative_to(REPO_ROOT / 'seed')}" in names
    assert "gql/cli.py" in names
    assert any(n.endswith("entry_points.txt") for n in names)


def test_wheel_carries_the_served_playground_files_and_no_npm_project(wheel: Path) -> None:
    assets = playground_assets()
    archive = zipfile.ZipFile(wheel)
    carried = {
        name.removeprefix(f"gql/{PACKAGED_FOLDER}/")
        for name in archive.namelist()
        if name.startswith(f"gql/{PACKAGED_FOLDER}/")
    }
    assert carried == set(required_files())
    for file in required_files():
        assert archive.read(f"gql/{PACKAGED_FOLDER}/{file}") == (assets / file).read_bytes()
    assert not [name for name in archive.namelist() if name.startswith("gql/playground/")]


def test_unpacked_wheel_seeds_and_serves_its_schema(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site)}
    db = tmp_path / "from-wheel.db"
    run = subprocess.run(
        [sys.executable, "-m", "gql", "seed", "--db", str(db), "--demo", "10"],
        cwd=tmp_path,  # away from the checkout, so only the wheel's files can be found
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "connection_type: 42 read, 42 written" in run.stdout
    check = subprocess.run(
        [sys.executable, "-c", "import gql; print(gql.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert check.stdout.startswith(str(site))


def test_unpacked_wheel_finds_its_own_playground_files(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "from gql.http.playground import find_assets_dir; print(find_assets_dir(None))",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert check.stdout.strip() == str(site / "gql" / PACKAGED_FOLDER)
    assert "not found" not in check.stderr


def test_without_the_npm_install_or_npm_the_build_says_what_to_do(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "hatch_build.py", "README.md", "seed", "gql"):
        origin = REPO_ROOT / name
        if origin.is_dir():
            shutil.copytree(
                origin, source / name, ignore=shutil.ignore_patterns("node_modules", "__pycache__")
            )
        else:
            shutil.copy(origin, source / name)
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), str(source)],
        # No npm on the PATH: only the Python running this test.
        env={**os.environ, "PATH": str(Path(sys.executable).parent)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode != 0
    assert "npm is not installed" in build.stdout + build.stderr
    assert "npm ci --prefix gql/playground" in build.stdout + build.stderr
    assert not list(tmp_path.glob("*.whl"))
