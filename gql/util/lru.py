"""The one bounded cache: least recently used entries go first once the entries, or the
bytes they are estimated to hold, pass their bound.

A count alone does not bound memory when entries differ in size by orders of magnitude
(a parsed document of 20 characters or of 20,000), so every entry is put with its size.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    @property
    def bytes(self) -> int:
        """The estimated size of everything held."""
        return self._bytes

    def get(self, key: K) -> V | None:
        """The value, now the most recently used; None when absent."""
        found = self._entries.get(key)
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        return found[0]

    def put(self, key: K, value: V, size: int) -> bool:
        """Keeps the value (replacing one under the same key) and drops the least recently
        used until both bounds hold. A value larger than the whole budget is not kept:
        False says so."""
        self.pop(key)
        if size > self.max_bytes or self.max_entries < 1:
            return False
        self._entries[key] = (value, size)
        self._bytes += size
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            _key, (_value, dropped) = self._entries.popitem(last=False)
            self._bytes -= dropped
        return True

    def pop(self, key: K) -> V | None:
        found = self._entries.pop(key, None)
        if found is None:
            return None
        self._bytes -= found[1]
        return found[0]

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0
