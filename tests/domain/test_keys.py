"""API keys (gql/domain/keys.py, gql/graphql/auth.py): made once, stored only as a salted hash,
checked in constant time, revocable; every way a key can be wrong."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest
from graphql import GraphQLError

from gql.domain.keys import ApiKeyError, Writer, authenticate, create_key, revoke_key
from gql.graphql import auth as auth_module
from gql.graphql.auth import RequestAuth
from gql.repository.base import Repository
from gql.repository.models import ApiKeyRecord
from gql.repository.url import Backend, DatabaseUrl
from tests.databases import fetch_raw

KEY_FORMAT = re.compile(r"ocmgql_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")


@pytest.fixture
def repository(empty_repository: Repository) -> Repository:
    """A new database on each backend."""
    return empty_repository


def _parts(key: str) -> tuple[str, str]:
    match = KEY_FORMAT.fullmatch(key)
    assert match is not None, key
    return match.group(1), match.group(2)


async def test_a_key_authenticates_as_its_writer(repository: Repository) -> None:
    key = await create_key(repository, "alice", read_only=False)
    assert await authenticate(repository, key) == Writer("alice", read_only=False)
    reader = await create_key(repository, "bob.ro", read_only=True)
    assert await authenticate(repository, reader) == Writer("bob.ro", read_only=True)


async def test_keys_are_unique_and_random(repository: Repository) -> None:
    keys = [await create_key(repository, f"k{i}", read_only=False) for i in range(5)]
    ids, secrets = zip(*map(_parts, keys), strict=True)
    assert len(set(ids)) == len(set(secrets)) == 5
    salts = {record.salt for record in await repository.api_keys()}
    assert len(salts) == 5
    assert all(len(salt) == 16 for salt in salts)


async def test_only_a_salted_hash_is_stored(repository: Repository, database_url: str) -> None:
    key = await create_key(repository, "alice", read_only=False)
    key_id, secret = _parts(key)
    record = await repository.api_key(key_id)
    assert record is not None
    assert record.secret_hash == hashlib.sha256(record.salt + secret.encode()).digest()
    assert record.secret_hash != hashlib.sha256(secret.encode()).digest()  # salted
    rows = fetch_raw(database_url, "SELECT * FROM api_key")
    stored = b"".join(
        bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
        for row in rows
        for value in row
    )
    assert key_id.encode() in stored  # the lookup part is stored ...
    assert secret.encode() not in stored  # ... the secret never is
    assert key.encode() not in stored
    # Nor anywhere else in an SQLite file (or its journal).
    database = DatabaseUrl.parse(database_url)
    if database.backend is Backend.SQLITE:
        for path in (database.path, database.path.with_name(database.path.name + "-wal")):
            assert secret.encode() not in path.read_bytes(), path


@pytest.mark.parametrize(
    "presented",
    [
        "",
        "secret",
        "Bearer x",
        "ocmgql__",
        "ocmgql_0123456789ab_",
        "ocmgql_0123456789ab_" + "a" * 42,
        "ocmgql_0123456789ab_" + "a" * 44,
        "ocmgql_0123456789AB_" + "a" * 43,
        "OCMGQL_0123456789ab_" + "a" * 43,
        "ocmgql_0123456789ab_" + "a" * 42 + "!",
        " ocmgql_0123456789ab_" + "a" * 43,
        "ocmgql_0123456789ab_" + "a" * 43 + "\n",
    ],
)
async def test_malformed_keys_are_refused(repository: Repository, presented: str) -> None:
    await create_key(repository, "alice", read_only=False)
    assert await authenticate(repository, presented) is None


async def test_an_unknown_key_id_is_refused(repository: Repository) -> None:
    key = await create_key(repository, "alice", read_only=False)
    key_id, secret = _parts(key)
    other_id = "0" * 12 if key_id != "0" * 12 else "1" * 12
    assert await authenticate(repository, f"ocmgql_{other_id}_{secret}") is None


async def test_a_wrong_secret_for_a_real_key_id_is_refused(repository: Repository) -> None:
    key = await create_key(repository, "alice", read_only=False)
    key_id, secret = _parts(key)
    flipped = ("A" if secret[0] != "A" else "B") + secret[1:]
    assert await authenticate(repository, f"ocmgql_{key_id}_{flipped}") is None
    other = await create_key(repository, "bob", read_only=False)
    # bob's secret with alice's id
    assert await authenticate(repository, f"ocmgql_{key_id}_{_parts(other)[1]}") is None


async def test_the_secret_is_compared_in_constant_time(
    repository: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = await create_key(repository, "alice", read_only=False)
    key_id, _secret = _parts(key)
    record = await repository.api_key(key_id)
    assert record is not None
    calls: list[tuple[object, object]] = []
    original = hmac.compare_digest

    def recording(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return original(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording)
    assert await authenticate(repository, key) is not None
    assert await authenticate(repository, f"ocmgql_{key_id}_{'Z' * 43}") is None
    assert len(calls) == 2
    for a, b in calls:
        assert record.secret_hash in (a, b)
    # With compare_digest saying "different", even the right key is refused: nothing else
    # decides.
    monkeypatch.setattr(hmac, "compare_digest", lambda _a, _b: False)
    assert await authenticate(repository, key) is None


async def test_revoked_keys_are_refused(repository: Repository) -> None:
    key = await create_key(repository, "alice", read_only=False)
    keep = await create_key(repository, "bob", read_only=False)
    await revoke_key(repository, "alice")
    assert await authenticate(repository, key) is None
    assert await authenticate(repository, keep) == Writer("bob", read_only=False)
    listed = {record.name: record for record in await repository.api_keys()}
    assert listed["alice"].revoked_at is not None
    assert listed["bob"].revoked_at is None
    with pytest.raises(ApiKeyError, match="no active key"):
        await revoke_key(repository, "alice")
    with pytest.raises(ApiKeyError, match="no active key"):
        await revoke_key(repository, "nobody")


async def test_names_stay_taken_after_revocation(repository: Repository) -> None:
    await create_key(repository, "alice", read_only=False)
    with pytest.raises(ApiKeyError, match="exists already"):
        await create_key(repository, "alice", read_only=True)
    await revoke_key(repository, "alice")
    with pytest.raises(ApiKeyError, match="exists already"):
        await create_key(repository, "alice", read_only=False)


async def test_a_name_taken_concurrently_is_a_clear_error(
    repository: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two `keys create` processes may both pass the name check; the loser gets the same
    clear error, not a stack trace."""
    await create_key(repository, "alice", read_only=False)

    async def nobody_yet() -> list[ApiKeyRecord]:
        return []

    monkeypatch.setattr(repository, "api_keys", nobody_yet)
    with pytest.raises(ApiKeyError, match="exists already"):
        await create_key(repository, "alice", read_only=False)


@pytest.mark.parametrize("name", ["a", "ci-bot", "ops@example.org", "A.b_c-9", "x" * 64])
async def test_valid_names(repository: Repository, name: str) -> None:
    await create_key(repository, name, read_only=False)
    assert [record.name for record in await repository.api_keys()] == [name]


@pytest.mark.parametrize("name", ["", "-lead", ".dot", "has space", "x" * 65, "tab\t", "é"])
async def test_invalid_names(repository: Repository, name: str) -> None:
    with pytest.raises(ApiKeyError, match="key name"):
        await create_key(repository, name, read_only=False)
    assert await repository.api_keys() == []


# -- per request -------------------------------------------------------------------------


def _code(error: GraphQLError) -> object:
    return (error.extensions or {}).get("code")


async def test_request_without_a_key_is_unauthenticated(repository: Repository) -> None:
    with pytest.raises(GraphQLError) as raised:
        await RequestAuth(repository, None).writer()
    assert _code(raised.value) == "UNAUTHENTICATED"
    assert "X-API-Key" in raised.value.message


async def test_request_with_a_bad_key_is_unauthenticated(repository: Repository) -> None:
    key = await create_key(repository, "alice", read_only=False)
    for presented in ("nonsense", key[:-1] + ("A" if key[-1] != "A" else "B")):
        with pytest.raises(GraphQLError) as raised:
            await RequestAuth(repository, presented).writer()
        assert _code(raised.value) == "UNAUTHENTICATED"


async def test_request_with_a_read_only_key_is_forbidden(repository: Repository) -> None:
    key = await create_key(repository, "viewer", read_only=True)
    with pytest.raises(GraphQLError) as raised:
        await RequestAuth(repository, key).writer()
    assert _code(raised.value) == "FORBIDDEN"
    assert "viewer" in raised.value.message


async def test_the_key_is_checked_once_per_request(
    repository: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = await create_key(repository, "alice", read_only=False)
    calls: list[str] = []

    async def counting(repo: Repository, presented: str) -> Writer | None:
        calls.append(presented)
        return await authenticate(repo, presented)

    monkeypatch.setattr(auth_module, "authenticate", counting)
    request = RequestAuth(repository, key)
    for _ in range(3):
        assert await request.writer() == Writer("alice", read_only=False)
    assert calls == [key]
    wrong = RequestAuth(repository, "nonsense")
    for _ in range(2):
        with pytest.raises(GraphQLError):
            await wrong.writer()
    assert calls == [key, "nonsense"]
