"""OCM's rule for the sites it shows."""

from __future__ import annotations

import pytest

from gql.domain.visibility import is_visible


@pytest.mark.parametrize(
    ("submission_status", "status", "visible"),
    [
        (None, None, True),
        (100, 50, True),  # imported and published, operational
        (200, 0, True),  # submission published, status unknown
        (1, 50, False),  # under review
        (50, 50, False),  # imported and under review
        (1000, 50, False),  # delisted
        (200, 200, False),  # removed (decommissioned)
        (None, 210, False),  # removed (duplicate listing)
        (200, 100, True),  # not operational, but listed
    ],
)
def test_visibility(submission_status: int | None, status: int | None, visible: bool) -> None:
    assert is_visible(submission_status, status) is visible
