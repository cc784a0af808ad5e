"""A scrape of /metrics read as samples, with prometheus-client's own parser of the text
format (so the tests read what Prometheus would), and the changes between two scrapes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

SeriesKey = tuple[str, frozenset[tuple[str, str]]]


@dataclass(frozen=True)
class Scrape:
    values: Mapping[SeriesKey, float]
    names: frozenset[str]
    """Every metric family named, with or without samples."""

    @classmethod
    def of(cls, text: str) -> Scrape:
        values: dict[SeriesKey, float] = {}
        names = set()
        for family in text_string_to_metric_families(text):
            names.add(family.name)
            for sample in family.samples:
                values[(sample.name, frozenset(sample.labels.items()))] = sample.value
        return cls(values, frozenset(names))

    def value(self, name: str, **labels: str) -> float:
        """One series' value; 0 when the series is absent."""
        return self.values.get((name, frozenset(labels.items())), 0.0)

    def series(self, name: str, **labels: str) -> dict[frozenset[tuple[str, str]], float]:
        """Every series of ``name`` whose labels include ``labels``."""
        wanted = set(labels.items())
        return {
            key_labels: value
            for (key_name, key_labels), value in self.values.items()
            if key_name == name and wanted <= key_labels
        }

    def since(self, before: Scrape, name: str, **labels: str) -> float:
        """How much one series moved since ``before``."""
        return self.value(name, **labels) - before.value(name, **labels)

    def moved_since(self, before: Scrape, name: str) -> dict[frozenset[tuple[str, str]], float]:
        """The series of ``name`` that moved since ``before``, by how much."""
        moved = {}
        for labels, value in self.series(name).items():
            delta = value - before.values.get((name, labels), 0.0)
            if delta:
                moved[labels] = delta
        return moved


def labels(**pairs: str) -> frozenset[tuple[str, str]]:
    return frozenset(pairs.items())
