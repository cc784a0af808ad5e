"""gql/memory.py: settings the server applies to its own process at start."""

from __future__ import annotations

import gc
import sys

import pytest

from gql.memory import _glibc_function, freeze_startup_objects, keep_large_allocations_returnable


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
