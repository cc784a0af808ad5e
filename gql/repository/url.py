"""Database URLs: which backend, where, and how to name one without its password.

``sqlite:///relative/file.db`` and ``sqlite:////absolute/file.db`` (as SQLAlchemy writes
them) name an SQLite file; ``postgresql://user:password@host:port/database`` (or
``postgres://``) a PostgreSQL database, in libpq's URI form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

_PASSWORD = re.compile(r"(?<=://)([^:/@]*):[^@/]*@")
_HIDDEN = "********"


class Backend(StrEnum):
    SQLITE = "sqlite"
    POSTGRES = "postgres"


class BadDatabaseUrl(ValueError):
    """Not a URL of a backend we have; the message says what is accepted."""


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    url: str
    backend: Backend

    @classmethod
    def parse(cls, url: str) -> DatabaseUrl:
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme == "sqlite":
            if not url.startswith("sqlite:///") or len(url) == len("sqlite:///"):
                raise BadDatabaseUrl(
                    "an SQLite URL names a file: sqlite:///relative/file.db or "
                    "sqlite:////absolute/file.db"
                )
            return cls(url, Backend.SQLITE)
        if scheme in ("postgresql", "postgres"):
            try:
                urlsplit(url).port  # noqa: B018 (a malformed port raises)
            except ValueError as error:
                raise BadDatabaseUrl(f"{error} in {hide_password(url)}") from None
            return cls(url, Backend.POSTGRES)
        raise BadDatabaseUrl(
            f"{hide_password(url)!r} is not a database URL; use sqlite:///path/file.db "
            "or postgresql://user@host:port/database"
        )

    @classmethod
    def sqlite_file(cls, path: Path) -> DatabaseUrl:
        return cls(f"sqlite:///{path}", Backend.SQLITE)

    @property
    def path(self) -> Path:
        """The SQLite file (SQLite URLs only)."""
        assert self.backend is Backend.SQLITE
        return Path(self.url[len("sqlite:///") :])

    def __str__(self) -> str:
        """The database as logs and messages name it: an SQLite file by its path, any
        other by its URL with the password hidden."""
        if self.backend is Backend.SQLITE:
            return str(self.path)
        return hide_password(self.url)


def hide_password(text: str) -> str:
    """``text`` with the password of every URL in it replaced by asterisks."""
    return _PASSWORD.sub(rf"\1:{_HIDDEN}@", text)
