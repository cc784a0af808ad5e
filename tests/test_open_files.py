"""`serve` raises the soft limit on open files so that connections meet our own cap."""

from __future__ import annotations

import logging
import resource
from collections.abc import Iterator

import pytest

from gql.open_files import HEADROOM, raise_open_file_limit


@pytest.fixture
def low_soft_limit() -> Iterator[int]:
    """The soft limit lowered to 256 for the test; the hard limit as it was."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 512:
        pytest.skip(f"the hard open-file limit ({hard}) is too low to test raising")
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    try:
        yield hard
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_the_soft_limit_is_raised_to_the_hard_limit(
    low_soft_limit: int, caplog: pytest.LogCaptureFixture
) -> None:
    max_connections = 10
    raised = raise_open_file_limit(max_connections)
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == raised
    if low_soft_limit == resource.RLIM_INFINITY:
        assert raised == max_connections + HEADROOM
    else:
        assert raised == low_soft_limit
    if raised >= max_connections + HEADROOM:
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_hard_limit_below_the_cap_is_warned_about(
    low_soft_limit: int, caplog: pytest.LogCaptureFixture
) -> None:
    if low_soft_limit == resource.RLIM_INFINITY:
        pytest.skip("no hard limit on open files here")
    raise_open_file_limit(max_connections=low_soft_limit)
    assert any("OCM_GQL_MAX_CONNECTIONS" in r.getMessage() for r in caplog.records)
