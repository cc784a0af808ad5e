"""The rules a connection must meet before it is written; every problem is reported at
once, so a client fixes its input in one round trip.

Ranges follow OCM's own checks; voltage goes up to 1,500 V to cover megawatt charging
(MCS, 1,250 V DC). Text limits follow OCM's (100 characters for an operator reference,
4,000 for comments, as OCM allows for a user comment). No text may hold the NUL
character: PostgreSQL's text cannot store it, so both backends refuse it alike. The
importer applies the same rules (value_problems) to every record it reads, with the site
limits below.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from gql.reference_cache import ReferenceCache
from gql.repository.models import ReferenceKind


class ProblemCode(enum.Enum):
    REQUIRED = "REQUIRED"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    TOO_LONG = "TOO_LONG"
    INVALID_CHARACTER = "INVALID_CHARACTER"
    UNKNOWN_REFERENCE = "UNKNOWN_REFERENCE"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    """The writable field (repository name, e.g. ``power_kw``); empty for the whole input."""
    message: str
    code: ProblemCode


# field: (lowest, highest, unit)
RANGES: Final[dict[str, tuple[float, float, str]]] = {
    "power_kw": (0, 1000, "kW"),
    "amps": (0, 1000, "A"),
    "voltage": (0, 1500, "V"),
    "quantity": (0, 500, ""),
}
MAX_LENGTHS: Final[dict[str, int]] = {"reference": 100, "comments": 4000}
REFERENCES: Final[dict[str, ReferenceKind]] = {
    "connection_type_id": ReferenceKind.CONNECTION_TYPE,
    "status_type_id": ReferenceKind.STATUS_TYPE,
    "level_id": ReferenceKind.LEVEL,
    "current_type_id": ReferenceKind.SUPPLY_TYPE,
}
REQUIRED: Final = ("charge_point_id",)

MAX_ID: Final = 2**31 - 1
"""Ids are GraphQL Ints, which are 32-bit: a larger one could be stored but never read."""
# Sites are not written by mutations, only imported; OCM's own records stay well within.
# Free texts get generous bounds (a comment may run to paragraphs) that still keep one
# record from filling the database. Dates need none: they are stored normalised, 20
# characters (gql/domain/dates.py).
SITE_RANGES: Final[dict[str, tuple[float, float, str]]] = {
    "latitude": (-90, 90, "degrees"),
    "longitude": (-180, 180, "degrees"),
    "number_of_points": (0, MAX_ID, ""),
}
SITE_MAX_LENGTHS: Final[dict[str, int]] = {
    "uuid": 100,
    "title": 200,
    "address_line1": 1000,
    "address_line2": 1000,
    "town": 200,
    "state_or_province": 200,
    "postcode": 100,
    "access_comments": 4000,
    "related_url": 2000,
    "contact_telephone1": 200,
    "usage_cost": 4000,
    "general_comments": 10_000,
}

SiteChecker = Callable[[Iterable[int]], Awaitable[set[int]]]


async def connection_problems(
    values: Mapping[str, Any], references: ReferenceCache, existing_sites: SiteChecker
) -> list[Problem]:
    """Problems of the given fields (a full row or just the fields of an update)."""
    problems: list[Problem] = []
    for name in REQUIRED:
        if name in values and values[name] is None:
            problems.append(Problem(name, "must be given", ProblemCode.REQUIRED))
    problems.extend(value_problems(values))
    for name, kind in REFERENCES.items():
        reference_id = values.get(name)
        if reference_id is not None and reference_id not in await references.table(kind):
            problems.append(
                Problem(
                    name, f"no {kind.value} has id {reference_id}", ProblemCode.UNKNOWN_REFERENCE
                )
            )
    site_id = values.get("charge_point_id")
    if site_id is not None and site_id not in await existing_sites([site_id]):
        problems.append(
            Problem("charge_point_id", f"no site has id {site_id}", ProblemCode.UNKNOWN_REFERENCE)
        )
    return problems


def value_problems(
    values: Mapping[str, Any],
    ranges: Mapping[str, tuple[float, float, str]] = RANGES,
    max_lengths: Mapping[str, int] = MAX_LENGTHS,
) -> list[Problem]:
    """The problems found without the database: numbers out of range (NaN and infinity
    included), texts too long and texts holding NUL."""
    problems: list[Problem] = []
    for name, (lowest, highest, unit) in ranges.items():
        value = values.get(name)
        if value is not None and not (math.isfinite(value) and lowest <= value <= highest):
            problems.append(
                Problem(
                    name,
                    f"must be between {_plain(lowest)} and {_plain(highest)}"
                    f"{' ' + unit if unit else ''}",
                    ProblemCode.OUT_OF_RANGE,
                )
            )
    for name, limit in max_lengths.items():
        text = values.get(name)
        if text is not None and len(text) > limit:
            problems.append(
                Problem(name, f"must be at most {limit} characters", ProblemCode.TOO_LONG)
            )
        if text is not None and "\x00" in text:
            problems.append(
                Problem(
                    name,
                    "must not contain the NUL character (U+0000)",
                    ProblemCode.INVALID_CHARACTER,
                )
            )
    return problems


def _plain(number: float) -> str:
    """1000 as "1000" and 2147483647 as itself, not "2.14748e+09"."""
    return str(int(number)) if float(number).is_integer() else f"{number:g}"
