"""The default registry's samples read as growth since a moment, for exact deltas."""

from __future__ import annotations

from prometheus_client import REGISTRY

_Key = tuple[str, tuple[tuple[str, str], ...]]


def value(name: str, **labels: str) -> float:
    """The sample's value now; 0 when it has none yet."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Growth:
    """``growth(name, **labels)``: how much that sample grew since this was made."""

    def __init__(self) -> None:
        self._before: dict[_Key, float] = {
            _key(sample.name, sample.labels): sample.value
            for metric in REGISTRY.collect()
            for sample in metric.samples
        }

    def __call__(self, name: str, **labels: str) -> float:
        return value(name, **labels) - self._before.get(_key(name, labels), 0.0)


def _key(name: str, labels: dict[str, str]) -> _Key:
    return name, tuple(sorted(labels.items()))
