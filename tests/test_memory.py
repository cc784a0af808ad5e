"""gql/memory.py: settings the server applies to its own process at start."""

from __future__ import annotations

import asyncio
import gc
import sys

import pytest

from gql.broadcast.slots import SubscriptionSlots
from gql.memory import (
    _glibc_function,
    freeze_startup_objects,
    keep_large_allocations_returnable,
    trim_periodically,
)


def test_objects_alive_at_start_leave_the_collectors_generations() -> None:
    survivor = [object() for _ in range(100)]
    try:
        freeze_startup_objects()
        assert gc.get_freeze_count() >= len(survivor)
        assert not any(obj is survivor for obj in gc.get_objects())
    finally:
        gc.unfreeze()
    assert any(obj is survivor for obj in gc.get_objects())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux's")
def test_the_mmap_threshold_is_fixed_on_linux() -> None:
    assert keep_large_allocations_returnable() is True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's calls are Linux's")
def test_glibc_functions_are_found_and_missing_ones_are_none() -> None:
    malloc_trim = _glibc_function("malloc_trim")
    assert malloc_trim is not None
    assert malloc_trim(0) in (0, 1)
    assert _glibc_function("no_such_function_in_libc") is None


async def test_a_full_collection_runs_when_it_is_due_and_only_then(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What ended subscriptions leave in cycles is collected once many have left, not on
    a timer (a full collection with thousands alive would pause the server)."""
    collections: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda *args: collections.append(1) or 0)
    answers = iter([False, True, False, False])
    asked: list[bool] = []
    four_asked = asyncio.Event()

    def due() -> bool:
        asked.append(answer := next(answers, False))
        if len(asked) == 4:
            four_asked.set()
        return answer

    trimmer = asyncio.create_task(trim_periodically(0.001, full_collection_due=due))
    async with asyncio.timeout(30):
        await four_asked.wait()
    trimmer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trimmer
    assert collections == [1]


def test_many_subscriptions_ending_make_a_collection_due() -> None:
    slots = SubscriptionSlots()
    holds = [
        slots.hold(f"10.0.0.{n % 7}", max_total=10_000, max_per_client=10_000) for n in range(1000)
    ]
    for hold in holds:
        hold.__enter__()
    assert not slots.many_have_left()
    for hold in holds[:100]:  # a few leave: not worth a full collection
        hold.__exit__(None, None, None)
    assert not slots.many_have_left()
    for hold in holds[100:700]:  # most have left
        hold.__exit__(None, None, None)
    assert slots.many_have_left()
    assert not slots.many_have_left()  # said once, then counted from here
    for hold in holds[700:]:
        hold.__exit__(None, None, None)
    assert slots.many_have_left()  # 300 more left: more than half of the 300 there were
