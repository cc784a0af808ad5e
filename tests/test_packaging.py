"""The wheel carries the seed files, so an installed ocm-gql works away from the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO_ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("ocm_gql-*.whl")
    return built


def test_wheel_contains_the_seed_files(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for seed_file in (REPO_ROOT / "seed").rglob("*"):
        if seed_file.is_file():
            assert f"gql/_seed/{seed_file.relative_to(REPO_ROOT / 'seed')}" in names
    assert "gql/cli.py" in names
    assert any(n.endswith("entry_points.txt") for n in names)


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
