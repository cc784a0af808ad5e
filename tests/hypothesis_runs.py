"""Hypothesis settings shared by the generated-query tests: bounded, reproducible (the
same examples every run unless a seed is given), no deadline (the first examples pay for
building strategies over the schema), nothing stored between runs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from hypothesis import HealthCheck, seed, settings

F = TypeVar("F", bound=Callable[..., Any])


def reproducible(
    examples: int, seed_text: str | None, *, also_suppress: Sequence[HealthCheck] = ()
) -> Callable[[F], F]:
    """``seed_text``: an integer from the environment for other examples than CI's."""

    def decorate(test: F) -> F:
        configured: F = settings(
            max_examples=examples,
            deadline=None,
            derandomize=seed_text is None,
            database=None,
            print_blob=True,
            suppress_health_check=[
                *also_suppress,
                HealthCheck.too_slow,
                HealthCheck.data_too_large,
                HealthCheck.filter_too_much,
            ],
        )(test)
        return configured if seed_text is None else seed(int(seed_text))(configured)

    return decorate
