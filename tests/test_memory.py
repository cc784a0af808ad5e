"""gql/memory.py: settings the server applies to its own process at start."""

from __future__ import annotations

import gc
import sys

import pytest

from gql.memory import freeze_startup_objects, keep_large_allocations_returnable


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
