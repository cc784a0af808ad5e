"""Builds the project's seed files from OCM's published data.

    python -m gql.seed_build ../shared/ocm

writes ``seed/reference.json`` (the four reference lists, in this project's own field
names) and ``seed/demo_profile.json`` (the weighted mix of real connections and site sizes
that demo data is drawn from). A test rebuilds both and fails when the checked-in files
differ.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import orjson

from gql.importer import RecordError, parse_connection, parse_site, read_records
from gql.repository.models import RECORD_BY_KIND, ConnectionWrite, ReferenceKind
from gql.seed_files import seed_dir
from gql.seeding import REFERENCE_KEYS

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
    countries: dict[int, list[tuple[float, float]]] = {}
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
            if (
                site.country_id is not None
                and site.latitude is not None
                and site.longitude is not None
            ):
                countries.setdefault(site.country_id, []).append((site.latitude, site.longitude))
    return {
        "source": "Derived from Open Charge Map site records (openchargemap.org), CC BY 4.0",
        "connections": [
            {"count": count, "connection": orjson.loads(key)}
            for key, count in sorted(connection_mix.items(), key=lambda item: (-item[1], item[0]))
        ],
        "sites": [
            {"connections": size, "count": count} for size, count in sorted(site_sizes.items())
        ],
        "countries": [
            {
                "count": len(points),
                "country": {
                    "countryId": country_id,
                    "minLatitude": min(p[0] for p in points),
                    "maxLatitude": max(p[0] for p in points),
                    "minLongitude": min(p[1] for p in points),
                    "maxLongitude": max(p[1] for p in points),
                },
            }
            for country_id, points in sorted(countries.items())
        ],
    }


def dump(data: dict[str, Any]) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m gql.seed_build OCM_DATA_DIR", file=sys.stderr)
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
