"""The statements that find sites, written once for every backend like statements.py:
a keyset page, a count, sites by id, and the connections of a page of sites.

A radius or box search asks the spatial index first (the Dialect's ``located_in``: an
R*Tree on SQLite, a GiST index on PostgreSQL) for the sites in a bounding box, then
checks each candidate exactly: its coordinates against the box, its great-circle
distance against the radius. The distance is one SQL expression, computed alike where a
page selects it and where a cursor seeks past it, so a (distance, id) cursor is stable.

The index only pays while the area is small. A map view over most sites would collect
every candidate before a page could stop at its limit, where reading charge_point in id
order stops after about limit / (share of sites inside) rows. So a search with an area
first runs one short probe statement (SpatialPlanning), and the page or count then runs
one of two plans (SitePlan) that differ only in how the rows are found: their exact
checks, and so their results, are the same.

A count, or a page by DISTANCE, visits (ranks) every site within the area whichever plan
finds them, so its cost follows the number of sites inside, bounded by the largest
radius the API allows (500 km by default). Measured on 1,000,000 demo sites, 500 km
around Tallinn (730,000 sites): about 0.75 s on SQLite, 0.55 s on PostgreSQL (both
by the scan; by the index 1.9 s and 0.9 s). Growing the radius until a page is full
would make a first page cheap but not a deep one: a page past distance d still reads
every site within d (an index box cannot leave out the inner disc), so deep pages would
cost many times the first. A server that must answer faster lowers the largest radius.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from gql.domain.geo import EARTH_RADIUS_KM, LatLonBox, radius_boxes, split_at_antimeridian
from gql.domain.visibility import PUBLISHED_SUBMISSION_STATUS_IDS, REMOVED_STATUS_TYPE_IDS
from gql.repository.models import (
    ConnectionFilter,
    ConnectionRecord,
    GeoBox,
    GeoRadius,
    SiteFilter,
    SiteHit,
    SiteOrder,
    SitePageQuery,
    SiteRecord,
    SiteSeekKey,
    SortOrder,
)
from gql.repository.rows import CONNECTION_COLUMNS, SITE_COLUMNS
from gql.repository.statements import (
    Dialect,
    connection_conditions,
    order_by,
    seek_conditions,
    where_clause,
)

SELECT_SITES: Final = f"SELECT {', '.join(SITE_COLUMNS)} FROM charge_point"

_SITE_ID_AT: Final = CONNECTION_COLUMNS.index("charge_point_id")

# Sort-key columns of a page and whether the order is descending on them.
SITE_ORDER_KEYS: Final[dict[SiteOrder, tuple[tuple[str, ...], bool]]] = {
    SiteOrder.ID_ASC: (("id",), False),
    SiteOrder.ID_DESC: (("id",), True),
    SiteOrder.DISTANCE: (("distance_km", "id"), False),
}


class SitePlan(enum.Enum):
    """How a search with a spatial condition finds its rows (the checks are the same)."""

    SPATIAL_INDEX = "spatial_index"
    """The spatial index's candidates, each looked up by id: cheap for a small area."""
    SCAN = "scan"
    """charge_point read in order (or through another condition's index), each site's
    coordinates checked: cheap when so many sites are inside that an id-ordered page
    fills after a few rows, or a count must visit most of the table anyway."""


@dataclass(frozen=True, slots=True)
class SpatialPlanning:
    """How a search with an area chooses its plan (one probe statement before it).

    A page by id probes a window of ``window_per_row`` x its limit sites, read in the
    page's own order from its cursor: when that window holds a full page of matches the
    scan is proven cheap (it reads no further), and it is taken; otherwise the index's
    candidates are few (under limit / window share of the table) and it is read.

    A count or a DISTANCE page visits every match whichever plan finds them, so the scan
    only wins once the area holds a good share of the table: from ``every_match_from``
    spatial index candidates (counted up to that, reading the index alone, or estimated
    from a ``sample_percent`` sample of the table where set and the backend samples);
    None never scans for them (no probe). ``forced`` skips the choice (tests,
    benchmarks)."""

    window_per_row: int = 50
    every_match_from: int | None = None
    candidates_first: bool = False
    """A page by id counts the index's candidates first, up to the window's size, and
    looks at the window only when there are that many (fewer: the index reads fewer
    rows than the window would hold). Only where the index counts cheaply."""
    sample_percent: float | None = None
    forced: SitePlan | None = None


def page_probe_statement(
    query: SitePageQuery, dialect: Dialect, planning: SpatialPlanning
) -> tuple[str, list[Any]]:
    """How many of a page by id (at most its limit) lie among the next window of sites
    in the page's order, past its cursor: the scan plan's checks over that window, in
    any order, stopping at the limit (0 when ``candidates_first`` finds fewer index
    candidates than the window holds)."""
    boxes = _index_boxes(query.filter)
    if query.order is SiteOrder.DISTANCE or boxes is None:
        raise ValueError("only a page by id with an area is probed by a window")
    size = planning.window_per_row * query.limit
    params: list[Any] = []
    # Placeholders are written in the order they are made (SQLite's ``?``).
    counted = (
        _counted_candidates(boxes, dialect, params, size) if planning.candidates_first else None
    )
    columns, order_descending = SITE_ORDER_KEYS[query.order]

    def window() -> str:
        # Named as the table, so conditions naming charge_point.id name its rows.
        bounds = _seek(query, dialect, params)
        ordered = order_by(columns, descending=order_descending, backward=query.backward)
        return (
            f"(SELECT * FROM charge_point{where_clause(bounds)} {ordered}"
            f" LIMIT {dialect.param(params, size)}) AS charge_point"
        )

    candidates = _candidates(query.filter, SitePlan.SCAN, dialect, params, window)
    where = _within_radius(query.filter.near, dialect, params)
    limit = dialect.param(params, query.limit)
    sql = (
        f"SELECT count(*) FROM (SELECT 1 FROM ({candidates}) AS site{where_clause(where)}"
        f" LIMIT {limit}) AS page"
    )
    if counted is None:
        return sql, params
    # The window's subquery runs only when its branch is taken.
    return f"SELECT CASE WHEN ({counted}) < {size:d} THEN 0 ELSE ({sql}) END", params


def candidates_probe_statement(
    filter: SiteFilter, dialect: Dialect, cap: int, sample_percent: float | None = None
) -> tuple[str, list[Any]] | None:
    """The number of spatial index candidates of the filter's area, counted up to
    ``cap`` (reading the index alone), or estimated from a sample of ``sample_percent``
    % of the table where the backend samples; None when the filter has no area."""
    boxes = _index_boxes(filter)
    if boxes is None:
        return None
    params: list[Any] = []
    if sample_percent is not None:
        sample = dialect.table_sample(params, sample_percent)
        if sample is not None:
            # The sites of the sampled pages inside the index's boxes, scaled up.
            inside = _in_boxes(boxes, dialect, params)
            scale = dialect.param(params, round(100 / sample_percent))
            sql = f"SELECT count(*) * {scale} FROM charge_point {sample} WHERE {inside}"
            return sql, params
    return _counted_candidates(boxes, dialect, params, cap), params


def _counted_candidates(
    boxes: Sequence[LatLonBox], dialect: Dialect, params: list[Any], cap: int
) -> str:
    candidates = dialect.spatial_candidates(params, boxes)
    limit = dialect.param(params, cap)
    return f"SELECT count(*) FROM ({candidates} LIMIT {limit}) AS candidate"


Scalar = Callable[[str, list[Any]], Awaitable[int]]


async def chosen_page_plan(
    query: SitePageQuery, planning: SpatialPlanning, dialect: Dialect, scalar: Scalar
) -> SitePlan:
    """The plan of a page (see SpatialPlanning); runs a probe (``scalar(sql, params)``)
    only when the filter has an area."""
    if query.order is SiteOrder.DISTANCE:
        return await chosen_count_plan(query.filter, planning, dialect, scalar)
    if planning.forced is not None:
        return planning.forced
    if _index_boxes(query.filter) is None:
        return SitePlan.SCAN
    found = await scalar(*page_probe_statement(query, dialect, planning))
    return SitePlan.SCAN if found >= query.limit else SitePlan.SPATIAL_INDEX


async def chosen_count_plan(
    filter: SiteFilter, planning: SpatialPlanning, dialect: Dialect, scalar: Scalar
) -> SitePlan:
    """The plan of a count or a DISTANCE page (see SpatialPlanning)."""
    if planning.forced is not None:
        return planning.forced
    if planning.every_match_from is None:
        return SitePlan.SPATIAL_INDEX
    probe = candidates_probe_statement(
        filter, dialect, planning.every_match_from, planning.sample_percent
    )
    if probe is None:
        return SitePlan.SCAN
    found = await scalar(*probe)
    return SitePlan.SCAN if found >= planning.every_match_from else SitePlan.SPATIAL_INDEX


def site_page_statement(
    query: SitePageQuery, dialect: Dialect, plan: SitePlan = SitePlan.SPATIAL_INDEX
) -> tuple[str, list[Any]]:
    """The keyset page: the matching sites (with their distance when the filter has
    ``near``), the seek past each bound, the order, the limit. Rows are SITE_COLUMNS,
    then the distance when there is one (see site_hit)."""
    if query.order is SiteOrder.DISTANCE and query.filter.near is None:
        raise ValueError("the DISTANCE order needs a point to measure from (filter.near)")
    params: list[Any] = []
    candidates = _candidates(query.filter, plan, dialect, params)
    where = _within_radius(query.filter.near, dialect, params)
    where += _seek(query, dialect, params)
    columns, order_descending = SITE_ORDER_KEYS[query.order]
    limit = dialect.param(params, query.limit)
    sql = (
        f"SELECT {_selected(query.filter)} FROM ({candidates}) AS site{where_clause(where)}"
        f" {order_by(columns, descending=order_descending, backward=query.backward)}"
        f" LIMIT {limit}"
    )
    return sql, params


def site_count_statement(
    filter: SiteFilter, dialect: Dialect, plan: SitePlan = SitePlan.SPATIAL_INDEX
) -> tuple[str, list[Any]]:
    params: list[Any] = []
    candidates = _candidates(filter, plan, dialect, params)
    where = _within_radius(filter.near, dialect, params)
    return f"SELECT count(*) FROM ({candidates}) AS site{where_clause(where)}", params


def sites_by_ids_statement(ids: Sequence[int], dialect: Dialect) -> tuple[str, list[Any]]:
    params: list[Any] = []
    return f"{SELECT_SITES} WHERE {dialect.in_list(params, 'id', ids)}", params


def connections_of_sites_statement(
    site_ids: Sequence[int], filter: ConnectionFilter, dialect: Dialect
) -> tuple[str, list[Any]]:
    """The matching connections of every site in ``site_ids``, by site and then by id, in
    one statement (the index on (charge_point_id, id) serves both)."""
    params: list[Any] = []
    where = [
        dialect.in_list(params, "charge_point_id", site_ids),
        *connection_conditions(filter, SortOrder.ID_ASC, dialect, params),
    ]
    sql = (
        f"SELECT {', '.join(CONNECTION_COLUMNS)} FROM connection_info{where_clause(where)}"
        " ORDER BY charge_point_id, id"
    )
    return sql, params


def site_hit(row: Sequence[Any], *, with_distance: bool) -> SiteHit:
    """A page's row as a hit: the site, and its distance when the page measured one."""
    if with_distance:
        return SiteHit(SiteRecord(*row[:-1]), row[-1])
    return SiteHit(SiteRecord(*row))


def connections_by_site(rows: Iterable[Sequence[Any]]) -> dict[int, list[ConnectionRecord]]:
    """The rows of connections_of_sites_statement, grouped by their site."""
    found: dict[int, list[ConnectionRecord]] = {}
    for row in rows:
        found.setdefault(row[_SITE_ID_AT], []).append(ConnectionRecord._make(row))
    return found


def _selected(filter: SiteFilter) -> str:
    columns = ", ".join(SITE_COLUMNS)
    return f"{columns}, distance_km" if filter.near is not None else columns


def _candidates(
    filter: SiteFilter,
    plan: SitePlan,
    dialect: Dialect,
    params: list[Any],
    source: Callable[[], str] | None = None,
) -> str:
    """The sites (of ``source()``, default charge_point) that meet every condition but
    the radius, with their distance from ``near`` as ``distance_km`` when it is given;
    the radius is checked on that column outside, so the distance is written (and
    computed) once."""
    columns = ", ".join(SITE_COLUMNS)
    if filter.near is not None:
        columns += f", {_distance_km(filter.near, dialect, params)} AS distance_km"
    # Placeholders are numbered in the order they are written (SQLite's ``?``).
    table = "charge_point" if source is None else source()
    where = _site_conditions(filter, plan, dialect, params)
    return f"SELECT {columns} FROM {table}{where_clause(where)}"


def _within_radius(near: GeoRadius | None, dialect: Dialect, params: list[Any]) -> list[str]:
    if near is None:
        return []
    return [f"distance_km <= {dialect.param(params, near.radius_km, 'distance_km')}"]


def _site_conditions(
    filter: SiteFilter, plan: SitePlan, dialect: Dialect, params: list[Any]
) -> list[str]:
    where = [
        dialect.in_list(params, column, values)
        for column, values in (
            ("id", filter.ids),
            ("country_id", filter.country_ids),
            ("operator_id", filter.operator_ids),
            ("usage_type_id", filter.usage_type_ids),
            ("status_type_id", filter.status_type_ids),
        )
        if values is not None
    ]
    if filter.country_codes is not None:
        # OCM's ISO codes are upper case; a code is matched whatever its case.
        codes = dialect.in_text_list(
            params, "iso_code", [code.upper() for code in filter.country_codes]
        )
        where.append(f"country_id IN (SELECT id FROM country WHERE {codes})")
    if filter.is_operational is not None:
        operational = dialect.param(params, filter.is_operational)
        where.append(
            f"status_type_id IN (SELECT id FROM status_type WHERE is_operational = {operational})"
        )
    if not filter.include_unpublished:
        where.append(_visible())
    boxes = _index_boxes(filter)
    if boxes is not None and plan is SitePlan.SPATIAL_INDEX:
        where.append(dialect.located_in(params, boxes))
    elif filter.near is not None:
        # A scan checks the radius's box on the coordinates before the costlier distance.
        boxes = radius_boxes(*_centre(filter.near), filter.near.radius_km)
        where.append(_in_boxes(boxes, dialect, params))
    if filter.within is not None:
        where.append(_inside(filter.within, dialect, params))
    if filter.connections is not None:
        matching = connection_conditions(filter.connections, SortOrder.ID_ASC, dialect, params)
        where.append(
            "EXISTS (SELECT 1 FROM connection_info"
            " WHERE connection_info.charge_point_id = charge_point.id"
            f"{''.join(f' AND {condition}' for condition in matching)})"
        )
    return where


def _index_boxes(filter: SiteFilter) -> list[LatLonBox] | None:
    """The boxes the spatial index is asked for: one search, so the near's (usually the
    smaller) when both are given; None without an area."""
    if filter.near is not None:
        return radius_boxes(*_centre(filter.near), filter.near.radius_km)
    if filter.within is not None:
        box = filter.within
        return split_at_antimeridian(box.south, box.west, box.north, box.east)
    return None


def _centre(near: GeoRadius) -> tuple[float, float]:
    return near.latitude, near.longitude


def _in_boxes(boxes: Sequence[LatLonBox], dialect: Dialect, params: list[Any]) -> str:
    """Coordinates inside one of ``boxes``, edges included (a site without them is not)."""
    inside = []
    for box in boxes:
        south = dialect.param(params, box.south, "latitude")
        north = dialect.param(params, box.north, "latitude")
        west = dialect.param(params, box.west, "longitude")
        east = dialect.param(params, box.east, "longitude")
        inside.append(
            f"(latitude BETWEEN {south} AND {north} AND longitude BETWEEN {west} AND {east})"
        )
    return f"({' OR '.join(inside)})"


def _visible() -> str:
    """gql/domain/visibility.py's rule: a published (or unknown) submission status, and a
    status that is not a removed one."""
    published = ", ".join(map(str, sorted(PUBLISHED_SUBMISSION_STATUS_IDS)))
    removed = ", ".join(map(str, sorted(REMOVED_STATUS_TYPE_IDS)))
    return (
        f"(submission_status_type_id IS NULL OR submission_status_type_id IN ({published}))"
        f" AND (status_type_id IS NULL OR status_type_id NOT IN ({removed}))"
    )


def _inside(box: GeoBox, dialect: Dialect, params: list[Any]) -> str:
    """The exact check of a map view, edges included; ``west > east`` crosses the
    antimeridian."""
    south = dialect.param(params, box.south, "latitude")
    north = dialect.param(params, box.north, "latitude")
    west = dialect.param(params, box.west, "longitude")
    east = dialect.param(params, box.east, "longitude")
    longitude = (
        f"longitude BETWEEN {west} AND {east}"
        if box.west <= box.east
        else f"(longitude >= {west} OR longitude <= {east})"
    )
    return f"latitude BETWEEN {south} AND {north} AND {longitude}"


def _distance_km(near: GeoRadius, dialect: Dialect, params: list[Any]) -> str:
    """The haversine great-circle distance from ``near``'s point (gql/domain/geo.py's
    haversine_km, in SQL); NULL for a site without coordinates."""
    # Parameters are appended in the order their placeholders appear.
    latitude = dialect.param(params, near.latitude, "latitude")
    centre_latitude = dialect.param(params, near.latitude, "latitude")
    longitude = dialect.param(params, near.longitude, "longitude")
    half_chord = (
        f"power(sin(radians(latitude - {latitude}) / 2), 2)"
        f" + cos(radians(latitude)) * cos(radians({centre_latitude}))"
        f" * power(sin(radians(longitude - {longitude}) / 2), 2)"
    )
    # Rounding can push the square root a hair past 1 for antipodal points; asin of it
    # would fail (PostgreSQL) or be NULL (SQLite). (PostgreSQL's least() skips a NULL,
    # but no site without coordinates gets here: the spatial prefilter leaves it out.)
    return f"2 * {EARTH_RADIUS_KM!r} * asin({dialect.least('1', f'sqrt({half_chord})')})"


def _seek(query: SitePageQuery, dialect: Dialect, params: list[Any]) -> list[str]:
    columns, order_descending = SITE_ORDER_KEYS[query.order]
    return seek_conditions(
        columns,
        after=None if query.after is None else _seek_values(query.after, query.order),
        before=None if query.before is None else _seek_values(query.before, query.order),
        descending=order_descending,
        inclusive=query.inclusive,
        dialect=dialect,
        params=params,
    )


def _seek_values(key: SiteSeekKey, order: SiteOrder) -> tuple[float | int, ...]:
    """The sort-key column values of a cursor, in SITE_ORDER_KEYS' column order."""
    if order is SiteOrder.DISTANCE:
        if key.distance_km is None:
            raise ValueError("a DISTANCE cursor needs the distance it was made at")
        return (key.distance_km, key.id)
    return (key.id,)
