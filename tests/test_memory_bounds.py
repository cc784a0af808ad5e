"""Memory stays flat under any stream of documents, valid or refused, distinct or repeated
(a real server on loopback).

Round after round, the server gets every abuse kind, distinct large valid documents (each
about 1,900 tokens, the heaviest syntax trees the limits let in), distinct automatic
persisted queries, and distinct API keys (well-formed but unknown, and 100 KB of junk),
enough to fill every cache several times over (their budgets scaled down so that takes
seconds, not minutes). Its RSS is read after each round: it must level off. The growth
over the second half of the run is compared with the first half's, never with an absolute
figure, which a loaded machine could miss.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.abuses import ABUSES
from tests.answers import codes_in
from tests.conftest import run_cli
from tests.processes import ocm_server, rss_mb

pytestmark = pytest.mark.e2e

ROUNDS = 16
PER_ROUND = 12
CACHE_BUDGETS = {
    "OCM_GQL_QUERY_CACHE_BYTES": str(4 * 1024 * 1024),
    "OCM_GQL_APQ_CACHE_SIZE": "40",
    "OCM_GQL_APQ_CACHE_BYTES": str(1024 * 1024),
    # On, but never limiting: every request is identified, so key checks are cached.
    "OCM_GQL_RATE_LIMIT_PER_SECOND": "1000000",
    "OCM_GQL_RATE_LIMIT_BURST": "1000000",
    "OCM_GQL_LOG_LEVEL": "warning",
}


def _large_valid_document(rng: random.Random) -> str:
    """About 1,900 tokens, valid and cheap: a filter listing 900 distinct ids."""
    ids = ",".join(str(rng.randrange(1, 2**31 - 1)) for _ in range(900))
    return f"{{ connectionInfos(first: 5, filter: {{ids: [{ids}]}}) {{ totalCount }} }}"


def _apq_query(rng: random.Random) -> str:
    ids = ",".join(str(rng.randrange(1, 2**31 - 1)) for _ in range(300))
    return f"{{ connectionInfos(first: 1, filter: {{ids: [{ids}]}}) {{ totalCount }} }}"


async def _round(client: httpx2.AsyncClient, rng: random.Random, refusals: set[str]) -> None:
    async def post(body: dict[str, Any] | bytes, headers: dict[str, str] | None = None) -> Any:
        if isinstance(body, bytes):
            response = await client.post(
                "/graphql",
                content=body,
                headers={"content-type": "application/json", **(headers or {})},
            )
        else:
            response = await client.post("/graphql", json=body, headers=headers)
        assert response.status_code < 500, response.text[:500]
        return response

    for kind, (make, codes) in ABUSES.items():
        for _ in range(PER_ROUND // 3):
            answer = await post(make(rng))
            found = set(codes_in(answer.json())) & codes
            assert found, (kind, answer.text[:300])
            refusals.add(kind)
    for _ in range(PER_ROUND):
        answer = (await post({"query": _large_valid_document(rng)})).json()
        assert "errors" not in answer, answer
    for _ in range(PER_ROUND):
        query = _apq_query(rng)
        digest = hashlib.sha256(query.encode()).hexdigest()
        extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
        answer = (await post({"query": query, "extensions": extensions})).json()
        assert "errors" not in answer, answer
    for _ in range(PER_ROUND):
        unknown = f"ocmgql_{rng.randbytes(6).hex()}_{'A' * 43}"
        await post({"query": "{ levels { id } }"}, {"x-api-key": unknown})
    for _ in range(2):
        junk = rng.randbytes(50_000).hex()
        await post({"query": "{ levels { id } }"}, {"x-api-key": junk})


@pytest.mark.timeout(300)
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc")
def test_memory_levels_off_under_abuse_and_distinct_documents(tmp_path: Path) -> None:
    db = tmp_path / "memory.db"
    run_cli("seed", "--db", str(db), "--demo", "200")
    server = ocm_server("--db", str(db), cwd=tmp_path, env=CACHE_BUDGETS)
    rng = random.Random(12)
    refusals: set[str] = set()
    samples: list[float] = []

    async def run() -> None:
        async with httpx2.AsyncClient(base_url=server.url, timeout=60) as client:
            for _ in range(ROUNDS):
                await _round(client, rng, refusals)
                await asyncio.sleep(1.2)  # the server hands freed heap back every second
                samples.append(rss_mb(server.process.pid))

    try:
        asyncio.run(run())
    finally:
        output = server.stop()
    assert "Traceback" not in output, output[-3000:]
    assert refusals == set(ABUSES)
    half = ROUNDS // 2
    first_half = samples[half - 1] - samples[0]
    second_half = samples[-1] - samples[half - 1]
    print(
        f"server RSS per round (MB): {', '.join(f'{sample:.0f}' for sample in samples)}; "
        f"growth {first_half:+.1f} MB over the first half, {second_half:+.1f} MB over the second"
    )
    # Near zero: a small part of the first half's growth (when the caches filled), or a
    # few percent of the resting size, whichever is larger (the allocator's noise).
    assert second_half <= max(0.25 * first_half, 0.05 * samples[0]), samples
