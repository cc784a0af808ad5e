"""API keys for writers: made, checked and revoked here; stored through the repository.

A key reads ``ocmgql_<key id>_<secret>``. The key id finds the row; the secret is kept only
as a salted SHA-256 and compared in constant time. The secret carries 256 random bits, so
a fast hash is enough: there is nothing to brute-force as with passwords.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Final

from gql.clock import utc_now
from gql.repository.base import Repository, WriteConflict
from gql.repository.models import ApiKeyRecord

KEY_PREFIX: Final = "ocmgql"
_KEY = re.compile(rf"{KEY_PREFIX}_([0-9a-f]{{12}})_([A-Za-z0-9_-]{{43}})")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


class ApiKeyError(ValueError):
    """A key cannot be made or revoked as asked."""


@dataclass(frozen=True, slots=True)
class Writer:
    """Whoever presented a valid key."""

    name: str
    read_only: bool


def _digest(salt: bytes, secret: str) -> bytes:
    return hashlib.sha256(salt + secret.encode()).digest()


async def create_key(repository: Repository, name: str, *, read_only: bool) -> str:
    """Stores a new key and returns it: the only time it is ever shown."""
    if not _NAME.fullmatch(name):
        raise ApiKeyError(
            "a key name is 1-64 letters, digits or . _ @ - and starts with a letter or digit"
        )
    if any(key.name == name for key in await repository.api_keys()):
        raise ApiKeyError(f"a key named {name!r} exists already (names stay after revocation)")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_bytes(16)
    try:
        await repository.add_api_key(
            ApiKeyRecord(
                key_id=key_id,
                name=name,
                salt=salt,
                secret_hash=_digest(salt, secret),
                read_only=read_only,
                created_at=utc_now(),
            )
        )
    except WriteConflict:
        # Another process took the name between the check above and this insert.
        raise ApiKeyError(f"a key named {name!r} exists already") from None
    return f"{KEY_PREFIX}_{key_id}_{secret}"


async def revoke_key(repository: Repository, name: str) -> None:
    if not await repository.revoke_api_key(name):
        raise ApiKeyError(f"no active key named {name!r}")


def is_well_formed(presented: str) -> bool:
    """Whether a presented value has a key's shape (anything else cannot be a key)."""
    return _KEY.fullmatch(presented) is not None


async def authenticate(repository: Repository, presented: str) -> Writer | None:
    """The writer a key belongs to; None for a malformed, unknown, wrong or revoked key."""
    match = _KEY.fullmatch(presented)
    if match is None:
        return None
    key_id, secret = match.groups()
    record = await repository.api_key(key_id)
    if record is None or record.revoked_at is not None:
        return None
    if not hmac.compare_digest(_digest(record.salt, secret), record.secret_hash):
        return None
    return Writer(record.name, record.read_only)
