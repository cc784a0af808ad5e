"""The one bounded cache (gql/util/lru.py): bounded in entries and in bytes, least recently
used first."""

from __future__ import annotations

from gql.util.lru import BoundedCache


def test_least_recently_used_entries_go_first_past_the_count() -> None:
    cache: BoundedCache[str, int] = BoundedCache(max_entries=2, max_bytes=1000)
    cache.put("a", 1, 10)
    cache.put("b", 2, 10)
    assert cache.get("a") == 1  # now b is the least recently used
    cache.put("c", 3, 10)
    assert "b" not in cache
    assert (cache.get("a"), cache.get("c"), len(cache), cache.bytes) == (1, 3, 2, 20)


def test_entries_go_until_the_bytes_fit() -> None:
    cache: BoundedCache[str, str] = BoundedCache(max_entries=100, max_bytes=100)
    for key in "abcde":
        cache.put(key, key, 30)
    assert len(cache) == 3
    assert cache.bytes == 90
    assert "a" not in cache
    assert "b" not in cache
    cache.put("big", "big", 70)
    assert cache.bytes <= 100
    assert set("cde") - {key for key in "cde" if key in cache} == {"c", "d"}


def test_a_value_larger_than_the_budget_is_not_kept() -> None:
    cache: BoundedCache[str, str] = BoundedCache(max_entries=10, max_bytes=100)
    cache.put("small", "s", 10)
    assert cache.put("huge", "h", 101) is False
    assert "huge" not in cache
    assert "small" in cache  # nothing was evicted for it


def test_putting_a_key_again_replaces_its_size() -> None:
    cache: BoundedCache[str, str] = BoundedCache(max_entries=10, max_bytes=100)
    cache.put("a", "one", 10)
    cache.put("a", "two", 40)
    assert (cache.get("a"), cache.bytes, len(cache)) == ("two", 40, 1)
    assert cache.pop("a") == "two"
    assert (cache.bytes, len(cache), cache.pop("a")) == (0, 0, None)


def test_hits_and_misses_are_counted() -> None:
    cache: BoundedCache[str, int] = BoundedCache(max_entries=10, max_bytes=100)
    cache.put("a", 1, 1)
    cache.get("a")
    cache.get("b")
    cache.get("a")
    assert (cache.hits, cache.misses) == (2, 1)


def test_a_budget_lowered_later_is_met_on_the_next_put() -> None:
    cache: BoundedCache[int, int] = BoundedCache(max_entries=100, max_bytes=1000)
    for n in range(10):
        cache.put(n, n, 100)
    cache.max_bytes = 300
    cache.put(99, 99, 100)
    assert cache.bytes <= 300
    assert 99 in cache
