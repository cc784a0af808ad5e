"""Builds the project's seed files from OCM's published data.

    python -m gql.data.seed_build ../shared/ocm

writes ``seed/reference.json`` (the reference lists, in this project's own field names)
and ``seed/demo_profile.json``, what demo data is drawn from: the weighted mix of real
connections and site sizes, the towns sites are found in (their centre and number of
sites), and per country the mix of operators and usage types and its street names. A
test rebuilds both and fails when the checked-in files differ.
"""

from __future__ import annotations

import math
import statistics
import sys
from collections import Counter
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import orjson

from gql.data.importer import RecordError, parse_connection, parse_site, read_records
from gql.data.seed_files import seed_dir
from gql.data.seeding import REFERENCE_KEYS
from gql.repository.models import RECORD_BY_KIND, ConnectionWrite, ReferenceKind

# OCM's file name for each list, and its field name for each of our record fields.
_OCM_FILES: dict[ReferenceKind, str] = {
    ReferenceKind.CONNECTION_TYPE: "ConnectionTypes.json",
    ReferenceKind.STATUS_TYPE: "StatusTypes.json",
    ReferenceKind.LEVEL: "ChargerTypes.json",
    ReferenceKind.SUPPLY_TYPE: "CurrentTypes.json",
    ReferenceKind.OPERATOR: "Operators.json",
    ReferenceKind.USAGE_TYPE: "UsageTypes.json",
    ReferenceKind.COUNTRY: "Countries.json",
}
# OCM's names that do not follow from ours by capitalising each word.
_OCM_NAMES = {"website_url": "WebsiteURL", "iso_code": "ISOCode"}
# Demo sites spread around a town's centre by a normal law of this deviation, in km:
# some 1.1 % of the sites of the widest towns fall more than 15 km from the centre.
_MIN_SPREAD_KM = 1.5
_MAX_SPREAD_KM = 5.0
# A street name is a few words, none with digits, commas or brackets.
_MAX_STREET_WORDS = 4
_NOT_IN_A_STREET = frozenset(",()/\"'")
# Connection fields that describe equipment; ids, site and free text are not sampled.
_PROFILE_FIELDS = [
    f.name
    for f in fields(ConnectionWrite)
    if f.name not in ("id", "charge_point_id", "reference", "comments")
]


def _ocm_name(field_name: str) -> str:
    if field_name in _OCM_NAMES:
        return _OCM_NAMES[field_name]
    return "".join("ID" if part == "id" else part.capitalize() for part in field_name.split("_"))


def _value(value: Any) -> Any:
    """An OCM value as stored: an empty text means absent, as the importer reads it."""
    return None if value == "" else value


def build_reference(ocm_reference_dir: Path) -> dict[str, Any]:
    built: dict[str, Any] = {
        "source": "Open Charge Map reference data (openchargemap.org), CC BY 4.0",
    }
    for kind, file_name in _OCM_FILES.items():
        names = [f.name for f in fields(RECORD_BY_KIND[kind])]
        rows = orjson.loads((ocm_reference_dir / file_name).read_bytes())
        entries = [{name: _value(row.get(_ocm_name(name))) for name in names} for row in rows]
        built[REFERENCE_KEYS[kind]] = sorted(entries, key=lambda entry: entry["id"])
    return built


def build_demo_profile(poi_files: list[Path], reference: dict[str, Any]) -> dict[str, Any]:
    known = {
        kind: {entry["id"] for entry in reference[key]} for kind, key in REFERENCE_KEYS.items()
    }
    connection_mix: Counter[bytes] = Counter()
    site_sizes: Counter[int] = Counter()
    towns: dict[tuple[int, str], list[tuple[float, float]]] = {}
    operators: dict[int, Counter[int]] = {}
    usage_types: dict[int, Counter[int]] = {}
    streets: dict[int, set[str]] = {}
    for path in poi_files:
        for raw in read_records(path):
            try:
                site = parse_site(raw)
                connections = [
                    parse_connection(c, site.id, known) for c in raw.get("Connections") or ()
                ]
            except RecordError:
                continue
            if connections:
                site_sizes[len(connections)] += 1
            for connection in connections:
                described = {k: v for k, v in asdict(connection).items() if k in _PROFILE_FIELDS}
                connection_mix[orjson.dumps(described, option=orjson.OPT_SORT_KEYS)] += 1
            country = site.country_id
            if country is None:
                continue
            if site.town and site.latitude is not None and site.longitude is not None:
                towns.setdefault((country, site.town.strip()), []).append(
                    (site.latitude, site.longitude)
                )
            if site.operator_id is not None:
                operators.setdefault(country, Counter())[site.operator_id] += 1
            if site.usage_type_id is not None:
                usage_types.setdefault(country, Counter())[site.usage_type_id] += 1
            if (street := _street(site.address_line1)) is not None:
                streets.setdefault(country, set()).add(street)
    town_countries = sorted({country for country, _name in towns})
    return {
        "source": "Derived from Open Charge Map site records (openchargemap.org), CC BY 4.0",
        "connections": [
            {"count": count, "connection": orjson.loads(key)}
            for key, count in sorted(connection_mix.items(), key=lambda item: (-item[1], item[0]))
        ],
        "sites": [
            {"connections": size, "count": count} for size, count in sorted(site_sizes.items())
        ],
        "towns": [
            {"count": len(points), "town": _town(name, country, points)}
            for (country, name), points in sorted(
                towns.items(), key=lambda item: (-len(item[1]), item[0])
            )
        ],
        "countries": [
            {
                "countryId": country,
                "operators": _mix(operators.get(country, Counter())),
                "usageTypes": _mix(usage_types.get(country, Counter())),
                "streets": sorted(streets.get(country, ())),
            }
            for country in town_countries
        ],
    }


def _town(name: str, country: int, points: list[tuple[float, float]]) -> dict[str, Any]:
    """A town as demo sites are spread around it: the median of its sites' coordinates
    (one mislocated site does not move it) and a spread that grows with its size."""
    spread_km = min(_MAX_SPREAD_KM, _MIN_SPREAD_KM + math.sqrt(len(points)))
    return {
        "name": name,
        "countryId": country,
        "latitude": round(statistics.median(p[0] for p in points), 6),
        "longitude": round(statistics.median(p[1] for p in points), 6),
        "spreadKm": round(spread_km, 3),
    }


def _mix(counts: Counter[int]) -> list[dict[str, int]]:
    return [
        {"id": key, "count": count}
        for key, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def _street(address_line1: str | None) -> str | None:
    """The street of an address without its house number ("Vabaduse väljak 9" ->
    "Vabaduse väljak"); None for what does not read as one street (a postcode, a list)."""
    if address_line1 is None:
        return None
    words = address_line1.split()
    if words and any(character.isdigit() for character in words[-1]):
        words.pop()
    street = " ".join(words)
    if not street or len(words) > _MAX_STREET_WORDS:
        return None
    if any(character.isdigit() or character in _NOT_IN_A_STREET for character in street):
        return None
    return street


def dump(data: dict[str, Any]) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m gql.data.seed_build OCM_DATA_DIR", file=sys.stderr)
        return 2
    ocm = Path(args[0])
    reference = build_reference(ocm / "reference")
    profile = build_demo_profile(sorted((ocm / "poi").glob("poi_*.json")), reference)
    target = seed_dir()
    (target / "reference.json").write_bytes(dump(reference))
    (target / "demo_profile.json").write_bytes(dump(profile))
    print(f"wrote {target / 'reference.json'} and {target / 'demo_profile.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
