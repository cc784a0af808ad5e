"""Where the seed files (migrations, reference lists, demo profile) are found.

In a wheel they ship inside the package as ``gql/_seed``; in a checkout they are the
top-level ``seed/`` folder.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def seed_dir() -> Path:
    packaged = _PACKAGE_DIR / "_seed"
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parent / "seed"


def migration_files(backend: str) -> list[tuple[int, Path]]:
    """(version, path) of every migration of a backend (``sqlite``, ``postgres``), oldest
    first. Files are named ``NNNN_name.sql``; both backends share the version numbers."""
    found = [
        (int(path.name.split("_", 1)[0]), path)
        for path in seed_dir().glob(f"migrations/{backend}/*.sql")
    ]
    return sorted(found)
