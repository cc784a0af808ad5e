"""Rate limiting (gql/http/rate_limit.py): the token buckets on a fake clock, the
middleware on its own, and the app's wiring (a bucket per valid key, else per address)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from gql.app import create_app
from gql.http import rate_limit
from gql.http.rate_limit import RATE_LIMITED, ClientRates, RateLimit, TokenBuckets
from gql.settings import Settings
from tests.conftest import run_cli
from tests.databases import throwaway_database


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# --- token buckets ---------------------------------------------------------------------


async def test_a_full_bucket_lets_a_burst_through(clock: FakeClock) -> None:
    buckets = TokenBuckets(rate=1, burst=3, clock=clock)
    assert [await buckets.take("a") for _ in range(3)] == [0, 0, 0]
    assert await buckets.take("a") == 1.0


async def test_refused_requests_take_no_token(clock: FakeClock) -> None:
    buckets = TokenBuckets(rate=2, burst=1, clock=clock)
    assert await buckets.take("a") == 0
    assert [await buckets.take("a") for _ in range(5)] == [0.5] * 5
    clock.advance(0.5)
    assert await buckets.take("a") == 0


async def test_tokens_come_back_at_the_rate(clock: FakeClock) -> None:
    buckets = TokenBuckets(rate=4, burst=2, clock=clock)
    assert [await buckets.take("a") for _ in range(2)] == [0, 0]
    clock.advance(0.25)  # one token
    assert await buckets.take("a") == 0
    assert await buckets.take("a") == 0.25
    clock.advance(0.125)  # half a token: the wait is for the other half
    assert await buckets.take("a") == 0.125


async def test_a_bucket_never_holds_more_than_the_burst(clock: FakeClock) -> None:
    buckets = TokenBuckets(rate=10, burst=3, clock=clock)
    await buckets.take("a")
    clock.advance(3600)
    assert [await buckets.take("a") for _ in range(4)] == [0, 0, 0, 0.1]


async def test_clients_have_their_own_buckets(clock: FakeClock) -> None:
    buckets = TokenBuckets(rate=1, burst=1, clock=clock)
    assert await buckets.take("a") == 0
    assert await buckets.take("a") > 0
    assert await buckets.take("b") == 0


async def test_a_burst_of_zero_still_lets_one_request_through(clock: FakeClock) -> None:
    # A bucket that can hold no token would refuse every request forever.
    buckets = TokenBuckets(rate=1, burst=0, clock=clock)
    assert await buckets.take("a") == 0
    assert await buckets.take("a") == 1.0
    clock.advance(1)
    assert await buckets.take("a") == 0


async def test_least_recently_seen_clients_are_forgotten_first(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rate_limit, "MAX_TRACKED_CLIENTS", 3)
    buckets = TokenBuckets(rate=1, burst=1, clock=clock)
    for client in ("a", "b", "c"):
        assert await buckets.take(client) == 0
    assert await buckets.take("a") > 0  # refused, but seen again: now the most recent
    assert await buckets.take("d") == 0  # b, least recently seen, is forgotten
    assert await buckets.take("a") > 0  # a is still remembered, and still empty
    assert await buckets.take("b") == 0  # b starts again with a full bucket (c is forgotten)
    assert await buckets.take("c") == 0
    assert len(buckets._buckets) == 3


# --- the middleware ----------------------------------------------------------------------


def _limited(
    clock: FakeClock, rate: float, burst: int, client_of: dict[str, str] | None = None
) -> TestClient:
    """RateLimit around a plain app; clients are told apart by an `X-Client` header."""

    async def identify(headers: Headers, address: str) -> str:
        return headers.get("x-client") or f"address:{address}"

    async def ok(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/graphql", ok, methods=["GET", "POST"]), Route("/other", ok)])
    rates = ClientRates(TokenBuckets(rate, burst, clock=clock), identify)
    return TestClient(RateLimit(app, rates=rates))


@pytest.mark.parametrize(
    ("rate", "elapsed", "retry_after"),
    [
        (0.4, 0, "3"),  # 2.5 s: rounded up
        (4, 0, "1"),  # 0.25 s: never less than 1
        (0.5, 1, "1"),  # half a token back: exactly 1 s to go, not 2
        (0.001, 0, "1000"),
    ],
)
def test_retry_after_is_whole_seconds_rounded_up(
    clock: FakeClock, rate: float, elapsed: float, retry_after: str
) -> None:
    client = _limited(clock, rate, burst=1)
    assert client.post("/graphql").status_code == 200
    clock.advance(elapsed)
    refused = client.post("/graphql")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == retry_after
    assert refused.headers["content-type"] == "application/json; charset=utf-8"
    assert refused.json() == {
        "errors": [
            {
                "message": f"Too many requests; retry after {retry_after} s.",
                "extensions": {"code": RATE_LIMITED, "retryAfter": int(retry_after)},
            }
        ]
    }


def test_only_the_graphql_path_is_limited(clock: FakeClock) -> None:
    client = _limited(clock, rate=1, burst=1)
    assert client.get("/graphql").status_code == 200
    assert client.get("/graphql").status_code == 429
    assert all(client.get("/other").status_code == 200 for _ in range(10))
    clock.advance(1)
    assert client.get("/graphql").status_code == 200


# --- in the app ----------------------------------------------------------------------------

QUERY = {"query": "{ levels { id } }"}


@pytest.fixture(scope="module")
def keyed_db(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A database (its URL) with a key (as presented), on each backend."""
    with throwaway_database(backend, tmp_path_factory.mktemp("rate")) as db:
        run_cli("seed", "--database-url", db)
        key = run_cli("keys", "create", "--database-url", db, "--name", "robot").strip()
        yield db, key


@pytest.fixture
def app_client(keyed_db: tuple[str, str]) -> Iterator[TestClient]:
    # Slow enough that no token comes back during the test: a burst of 3, then 429.
    settings = Settings(database_url=keyed_db[0], rate_limit_per_second=0.001, rate_limit_burst=3)
    with TestClient(create_app(settings)) as client:
        yield client


def _post(client: TestClient, **headers: str) -> Any:
    return client.post("/graphql", json=QUERY, headers=headers)


def test_after_the_burst_a_client_gets_429(app_client: TestClient) -> None:
    for _ in range(3):
        assert _post(app_client).status_code == 200
    refused = _post(app_client)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1000"
    assert refused.json()["errors"][0]["extensions"]["code"] == RATE_LIMITED
    assert "data" not in refused.json()
    # GET is limited the same way.
    assert app_client.get("/graphql", params=QUERY).status_code == 429


def test_health_checks_are_never_limited(app_client: TestClient) -> None:
    for _ in range(4):
        _post(app_client)
    for _ in range(30):
        assert app_client.get("/healthz").status_code == 200
        assert app_client.get("/readyz").status_code == 200


def test_a_valid_key_has_its_own_bucket(app_client: TestClient, keyed_db: tuple[str, str]) -> None:
    key = keyed_db[1]
    for _ in range(4):
        _post(app_client)
    assert _post(app_client).status_code == 429  # the address is out of tokens
    # The key's bucket is full, whichever header carries it.
    assert _post(app_client, **{"x-api-key": key}).status_code == 200
    assert _post(app_client, authorization=f"Bearer {key}").status_code == 200
    assert _post(app_client, **{"x-api-key": key}).status_code == 200
    assert _post(app_client, **{"x-api-key": key}).status_code == 429
    assert _post(app_client).status_code == 429


def test_a_key_s_bucket_is_not_the_address_s(
    app_client: TestClient, keyed_db: tuple[str, str]
) -> None:
    key = {"x-api-key": keyed_db[1]}
    assert [_post(app_client, **key).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert _post(app_client).status_code == 200  # the address still has its burst


@pytest.mark.parametrize(
    "made_up",
    [
        "ocmgql_0123456789ab_" + "x" * 43,  # well-formed, unknown
        "not-a-key",
        "Bearer",  # as an X-API-Key value
    ],
)
def test_a_made_up_key_shares_the_address_bucket(app_client: TestClient, made_up: str) -> None:
    for _ in range(2):
        assert _post(app_client, **{"x-api-key": made_up}).status_code == 200
    assert _post(app_client, authorization=f"Bearer {made_up}x").status_code == 200
    assert _post(app_client).status_code == 429
    assert _post(app_client, **{"x-api-key": made_up + "y"}).status_code == 429


def test_addresses_have_their_own_buckets(keyed_db: tuple[str, str]) -> None:
    settings = Settings(database_url=keyed_db[0], rate_limit_per_second=0.001, rate_limit_burst=1)
    app = create_app(settings)
    # One client at a time: each runs the app on an event loop of its own, and a
    # PostgreSQL pool may be used only on the loop that opened it. The buckets outlive both.
    with TestClient(app, client=("192.0.2.1", 50000)) as first:
        assert _post(first).status_code == 200
        assert _post(first).status_code == 429
    with TestClient(app, client=("192.0.2.2", 50000)) as second:
        assert _post(second).status_code == 200


def test_off_when_the_rate_is_zero(keyed_db: tuple[str, str]) -> None:
    settings = Settings(database_url=keyed_db[0], rate_limit_per_second=0, rate_limit_burst=1)
    with TestClient(create_app(settings)) as client:
        assert all(_post(client).status_code == 200 for _ in range(50))


async def test_only_well_formed_keys_are_looked_up_and_remembered(
    keyed_db: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 1 MB header value was once kept by the key-check cache before its shape was
    checked: now a value that cannot be a key is never looked up nor kept."""
    import gql.app

    looked_up: list[str] = []
    real = gql.app.authenticate

    async def counted(repository: Any, presented: str) -> Any:
        looked_up.append(presented)
        return await real(repository, presented)

    monkeypatch.setattr(gql.app, "authenticate", counted)
    settings = Settings(database_url=keyed_db[0], rate_limit_per_second=1000, rate_limit_burst=1000)
    with TestClient(create_app(settings)) as client:
        for n in range(20):
            assert _post(client, **{"x-api-key": f"junk{n}" + "x" * 100_000}).status_code == 200
        well_formed = "ocmgql_0123456789ab_" + "x" * 43
        for _ in range(3):
            assert _post(client, **{"x-api-key": well_formed}).status_code == 200
    # The well-formed key was checked once and then remembered; the junk never.
    assert looked_up == [well_formed]
