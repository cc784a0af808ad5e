"""The subscriptions a process serves at once: in all, and per client address.

A slot is taken when a subscription starts, whatever its transport, and given back when
it ends in any way; a client address without a running subscription is forgotten, so the
count stays as small as what is running.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final, Literal

Limit = Literal["process", "client"]


class NoSubscriptionSlot(Exception):
    """A cap is reached; ``limit`` says which one."""

    def __init__(self, limit: Limit, cap: int) -> None:
        super().__init__(
            f"This server runs at most {cap} subscriptions at once; try again later."
            if limit == "process"
            else f"At most {cap} subscriptions may run at once from one client address."
        )
        self.limit: Limit = limit
        self.cap = cap


MANY_LEFT: Final = 256
"""Subscriptions ended, and at least half of the peak, that make `many_have_left` say so."""


class SubscriptionSlots:
    def __init__(self) -> None:
        self._total = 0
        self._peak = 0
        self._by_client: dict[str, int] = {}

    @property
    def total(self) -> int:
        return self._total

    @property
    def clients(self) -> int:
        """Client addresses holding a slot."""
        return len(self._by_client)

    def many_have_left(self) -> bool:
        """Whether many subscriptions have ended since the last time this said so: what
        they leave behind is then worth a full garbage collection."""
        left = self._peak - self._total
        if left >= MANY_LEFT and 2 * left >= self._peak:
            self._peak = self._total
            return True
        return False

    @contextmanager
    def hold(self, client: str, *, max_total: int, max_per_client: int) -> Iterator[None]:
        """A slot for the life of the block; NoSubscriptionSlot when none is free."""
        if self._total >= max_total:
            raise NoSubscriptionSlot("process", max_total)
        held = self._by_client.get(client, 0)
        if held >= max_per_client:
            raise NoSubscriptionSlot("client", max_per_client)
        self._total += 1
        self._peak = max(self._peak, self._total)
        self._by_client[client] = held + 1
        try:
            yield
        finally:
            self._total -= 1
            remaining = self._by_client[client] - 1
            if remaining:
                self._by_client[client] = remaining
            else:
                del self._by_client[client]
