"""The benchmark's floor: the GraphQL server's answers, built by hand, with no GraphQL.

Each route runs the same repository query as the server does for bench/run.py's
GraphQL operation and reads the same cached reference tables, then writes, with orjson,
the body the server returns, key for key:

- `GET /connections?first=N[&after=CURSOR][&order=ORDER][&FILTER...]` answers
  `connectionInfos(first, after, filter, orderBy) { nodes {...} pageInfo { endCursor
  hasNextPage } }`, every scalar field and all four relations of each node. FILTER is any of
  `connectionTypeIds`, `statusTypeIds`, `levelIds`, `currentTypeIds`, `chargePointIds`
  (comma-separated ids), `minPowerKw`, `maxPowerKw` (numbers), `isOperational`,
  `isFastChargeCapable` (`true`/`false`). The cursor is the server's own, decoded with
  gql.domain.cursor, so a deep page seeks to the same key.
- `GET /sites?first=N[&near=LAT,LON,KM][&within=S,W,N,E][&order=ORDER][&after=CURSOR]`
  answers `chargePoints(first, after, near, within, orderBy) { nodes {...} pageInfo {
  endCursor hasNextPage } }` as bench/run.py's spatial scenarios ask it: every scalar field,
  `distanceKm`, `location`, `address` and the scalar fields of `connections` of each site.
  The same repository calls as the server's: one keyset page of sites (the spatial index's
  candidates, checked exactly), then the connections of the whole page in one statement.
- `POST /entities` with `{"representations": [{"__typename": "ConnectionInfo", "id": N}, ...]}`
  answers federation's `_entities(representations) { ... on ConnectionInfo {...} }`: one
  statement for every id, as the server's DataLoader batches them, null for a missing row.

It runs on the same Starlette, uvicorn and settings as `ocm-gql serve`, so the server/floor
ratio prices the GraphQL layer alone.

Run by bench/run.py: `python bench/floor_app.py --host 127.0.0.1 --port P`, the database
named as `ocm-gql serve` reads it (OCM_GQL_DB or OCM_GQL_DATABASE_URL), or `--db PATH`.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from gql.domain.cursor import (
    InvalidCursor,
    decode_cursor,
    decode_site_cursor,
    encode_cursor,
    encode_site_cursor,
)
from gql.domain.dates import utc_datetime
from gql.reference_cache import ReferenceCache
from gql.repository.base import Repository
from gql.repository.factory import open_repository
from gql.repository.models import (
    ConnectionFilter,
    ConnectionRecord,
    ConnectionTypeRecord,
    GeoBox,
    GeoRadius,
    LevelTypeRecord,
    PageQuery,
    ReferenceKind,
    ReferenceRecord,
    SeekKey,
    SiteFilter,
    SiteHit,
    SiteOrder,
    SitePageQuery,
    SiteRecord,
    SiteSeekKey,
    SortOrder,
    StatusTypeRecord,
    SupplyTypeRecord,
)
from gql.settings import Settings

Json = dict[str, object]
R = TypeVar("R", bound=ReferenceRecord)

_ID_LIST_FILTERS = {
    "connectionTypeIds": "connection_type_ids",
    "statusTypeIds": "status_type_ids",
    "levelIds": "level_ids",
    "currentTypeIds": "current_type_ids",
    "chargePointIds": "charge_point_ids",
}
_NUMBER_FILTERS = {"minPowerKw": "min_power_kw", "maxPowerKw": "max_power_kw"}
_BOOLEAN_FILTERS = {
    "isOperational": "is_operational",
    "isFastChargeCapable": "is_fast_charge_capable",
}
_BOOLEANS = {"true": True, "false": False}
_INT32 = range(-(2**31), 2**31)


class BadRequest(Exception):
    """The request's parameters are unusable; the message says which."""


def _connection_type(r: ConnectionTypeRecord) -> Json:
    return {
        "id": r.id,
        "title": r.title,
        "formalName": r.formal_name,
        "isDiscontinued": r.is_discontinued,
        "isObsolete": r.is_obsolete,
    }


def _status_type(r: StatusTypeRecord) -> Json:
    return {
        "id": r.id,
        "title": r.title,
        "isOperational": r.is_operational,
        "isUserSelectable": r.is_user_selectable,
    }


def _level(r: LevelTypeRecord) -> Json:
    return {
        "id": r.id,
        "title": r.title,
        "comments": r.comments,
        "isFastChargeCapable": r.is_fast_charge_capable,
    }


def _supply_type(r: SupplyTypeRecord) -> Json:
    return {"id": r.id, "title": r.title, "description": r.description}


def _node(
    r: ConnectionRecord,
    connection_types: dict[int, Json],
    status_types: dict[int, Json],
    levels: dict[int, Json],
    supply_types: dict[int, Json],
) -> Json:
    # Same keys in the same order as the selection in bench/run.py's NODE_FIELDS.
    return {
        **_connection_scalars(r),
        "connectionType": _related(connection_types, r.connection_type_id),
        "statusType": _related(status_types, r.status_type_id),
        "level": _related(levels, r.level_id),
        "currentType": _related(supply_types, r.current_type_id),
    }


def _related(table: dict[int, Json], key: int | None) -> Json | None:
    return None if key is None else table.get(key)


def _connection_scalars(r: ConnectionRecord) -> Json:
    # The scalar fields of ChargePoint.connections in bench/run.py's SITE_FIELDS.
    return {
        "id": r.id,
        "connectionTypeId": r.connection_type_id,
        "reference": r.reference,
        "statusTypeId": r.status_type_id,
        "levelId": r.level_id,
        "amps": r.amps,
        "voltage": r.voltage,
        "powerKw": r.power_kw,
        "currentTypeId": r.current_type_id,
        "quantity": r.quantity,
        "comments": r.comments,
        "chargePointId": r.charge_point_id,
    }


def _date_time(text: str | None) -> str | None:
    """A stored date-time as the DateTime scalar writes it."""
    moment = utc_datetime(text)
    return None if moment is None else moment.isoformat()


def _site(hit: SiteHit, connections: list[ConnectionRecord]) -> Json:
    s: SiteRecord = hit.site
    # Same keys in the same order as the selection in bench/run.py's SITE_FIELDS.
    return {
        "id": s.id,
        "uuid": s.uuid,
        "title": s.title,
        "operatorId": s.operator_id,
        "usageTypeId": s.usage_type_id,
        "usageCost": s.usage_cost,
        "statusTypeId": s.status_type_id,
        "submissionStatusTypeId": s.submission_status_type_id,
        "numberOfPoints": s.number_of_points,
        "generalComments": s.general_comments,
        "dateCreated": _date_time(s.date_created),
        "dateLastStatusUpdate": _date_time(s.date_last_status_update),
        "dateLastVerified": _date_time(s.date_last_verified),
        "dataProviderId": s.data_provider_id,
        "distanceKm": hit.distance_km,
        "location": None
        if s.latitude is None or s.longitude is None
        else {"latitude": s.latitude, "longitude": s.longitude},
        "address": {
            "addressLine1": s.address_line1,
            "addressLine2": s.address_line2,
            "town": s.town,
            "stateOrProvince": s.state_or_province,
            "postcode": s.postcode,
            "countryId": s.country_id,
            "accessComments": s.access_comments,
            "relatedUrl": s.related_url,
            "contactTelephone1": s.contact_telephone1,
        },
        "connections": [_connection_scalars(c) for c in connections],
    }


def _numbers(params: QueryParams, name: str, count: int) -> list[float] | None:
    if name not in params:
        return None
    try:
        values = [float(part) for part in params[name].split(",")]
    except ValueError:
        raise BadRequest(f"{name} must be {count} comma-separated numbers") from None
    if len(values) != count:
        raise BadRequest(f"{name} must be {count} comma-separated numbers")
    return values


def _site_page_query(params: QueryParams, max_page_size: int) -> tuple[SitePageQuery, int]:
    """The repository query for a page of sites and the page size, one row past the page
    asked for, as the server's pager does. The arguments are taken as given: the floor
    trusts bench/run.py to send only what the server accepts."""
    try:
        first = int(params["first"])
    except (KeyError, ValueError):
        raise BadRequest("?first=N is required") from None
    if not 0 <= first <= max_page_size:
        raise BadRequest("first is out of range")
    near_values = _numbers(params, "near", 3)
    box_values = _numbers(params, "within", 4)
    near = None if near_values is None else GeoRadius(*near_values)
    within = None if box_values is None else GeoBox(*box_values)
    try:
        order = SiteOrder(params.get("order", SiteOrder.ID_ASC.value))
    except ValueError:
        raise BadRequest("order is not a ChargePointOrder") from None
    after = params.get("after")
    try:
        seek = None if after is None else decode_site_cursor(after, order, near)
    except InvalidCursor as error:
        raise BadRequest(f"after: {error}") from None
    sites = SiteFilter(near=near, within=within)
    return SitePageQuery(filter=sites, order=order, limit=first + 1, after=seek), first


def _page_filter(params: QueryParams) -> ConnectionFilter:
    values: dict[str, Any] = {}
    try:
        for name, field in _ID_LIST_FILTERS.items():
            if name in params:
                values[field] = [int(part) for part in params[name].split(",") if part]
        for name, field in _NUMBER_FILTERS.items():
            if name in params:
                values[field] = float(params[name])
        for name, field in _BOOLEAN_FILTERS.items():
            if name in params:
                values[field] = _BOOLEANS[params[name]]
    except (ValueError, KeyError):
        raise BadRequest("a filter parameter is malformed") from None
    return ConnectionFilter(**values)


def _page_query(params: QueryParams, max_page_size: int) -> tuple[PageQuery, int]:
    """The repository query for a page and the page size; one row past the page is asked
    for, as the server's pager does, so both run the same SQL."""
    try:
        first = int(params["first"])
    except (KeyError, ValueError):
        raise BadRequest("?first=N is required") from None
    if not 0 <= first <= max_page_size:
        raise BadRequest("first is out of range")
    try:
        order = SortOrder(params.get("order", SortOrder.ID_ASC.value))
    except ValueError:
        raise BadRequest("order is not a ConnectionInfoOrder") from None
    after = params.get("after")
    try:
        seek = None if after is None else decode_cursor(after, order)
    except InvalidCursor as error:
        raise BadRequest(f"after: {error}") from None
    query = PageQuery(filter=_page_filter(params), order=order, limit=first + 1, after=seek)
    return query, first


def _representation_ids(body: bytes) -> list[int]:
    """The ids of `{"representations": [...]}`, each checked as the server checks it."""
    try:
        representations = orjson.loads(body)["representations"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise BadRequest('the body must be {"representations": [...]}') from None
    if not isinstance(representations, list):
        raise BadRequest("representations must be a list")
    ids = []
    for index, representation in enumerate(representations):
        entity_id = (
            representation.get("id")
            if isinstance(representation, dict)
            and representation.get("__typename") == "ConnectionInfo"
            else None
        )
        if not isinstance(entity_id, int) or isinstance(entity_id, bool) or entity_id not in _INT32:
            raise BadRequest(f"representations[{index}] is not a ConnectionInfo with an Int id")
        ids.append(entity_id)
    return ids


def create_floor_app(settings: Settings) -> Starlette:
    repository: Repository | None = None
    references: ReferenceCache | None = None

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        nonlocal repository, references
        repository = await open_repository(settings)
        references = ReferenceCache(repository)
        try:
            yield
        finally:
            await repository.close()

    async def json_table(
        kind: ReferenceKind, to_json: Callable[[R], Json], ids: Sequence[int | None]
    ) -> dict[int, Json]:
        # Asked of the cache on every request, as the server's relations do; each distinct
        # id used is converted once per request, as the server builds one object per id.
        assert references is not None
        table = await references.table(kind)
        return {
            key: to_json(cast(R, table[key]))
            for key in set(ids)
            if key is not None and key in table
        }

    async def nodes(records: Sequence[ConnectionRecord | None]) -> list[Json | None]:
        present = [r for r in records if r is not None]
        connection_types = await json_table(
            ReferenceKind.CONNECTION_TYPE,
            _connection_type,
            [r.connection_type_id for r in present],
        )
        status_types = await json_table(
            ReferenceKind.STATUS_TYPE, _status_type, [r.status_type_id for r in present]
        )
        levels = await json_table(ReferenceKind.LEVEL, _level, [r.level_id for r in present])
        supply_types = await json_table(
            ReferenceKind.SUPPLY_TYPE, _supply_type, [r.current_type_id for r in present]
        )
        return [
            None if r is None else _node(r, connection_types, status_types, levels, supply_types)
            for r in records
        ]

    async def connections(request: Request) -> Response:
        assert repository is not None
        try:
            query, first = _page_query(request.query_params, settings.max_page_size)
        except BadRequest as error:
            return PlainTextResponse(str(error), status_code=400)
        records = await repository.connection_page(query)
        has_next_page = len(records) > first
        del records[first:]
        end_cursor = (
            encode_cursor(SeekKey(query.order, records[-1].id, records[-1].power_kw))
            if records
            else None
        )
        body = orjson.dumps(
            {
                "data": {
                    "connectionInfos": {
                        "nodes": await nodes(records),
                        "pageInfo": {"endCursor": end_cursor, "hasNextPage": has_next_page},
                    }
                }
            }
        )
        return Response(body, media_type="application/json")

    async def sites(request: Request) -> Response:
        assert repository is not None
        try:
            query, first = _site_page_query(request.query_params, settings.max_page_size)
        except BadRequest as error:
            return PlainTextResponse(str(error), status_code=400)
        hits = await repository.site_page(query)
        has_next_page = len(hits) > first
        del hits[first:]
        # The connections of the whole page in one statement, as the server's loader
        # batches them.
        connections = await repository.connections_of_sites(
            [hit.site.id for hit in hits], ConnectionFilter()
        )
        end_cursor = None
        if hits:
            last = hits[-1]
            by_distance = query.order is SiteOrder.DISTANCE
            key = SiteSeekKey(query.order, last.site.id, last.distance_km if by_distance else None)
            end_cursor = encode_site_cursor(key, query.filter.near)
        body = orjson.dumps(
            {
                "data": {
                    "chargePoints": {
                        "nodes": [_site(hit, connections.get(hit.site.id, [])) for hit in hits],
                        "pageInfo": {"endCursor": end_cursor, "hasNextPage": has_next_page},
                    }
                }
            }
        )
        return Response(body, media_type="application/json")

    async def entities(request: Request) -> Response:
        assert repository is not None
        try:
            ids = _representation_ids(await request.body())
        except BadRequest as error:
            return PlainTextResponse(str(error), status_code=400)
        # One statement for the distinct ids, as the server's DataLoader batches them.
        found = await repository.connections_by_ids(list(dict.fromkeys(ids)))
        body = orjson.dumps({"data": {"_entities": await nodes([found.get(i) for i in ids])}})
        return Response(body, media_type="application/json")

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> Response:
        assert repository is not None
        await repository.ping()
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/connections", connections),
            Route("/sites", sites),
            Route("/entities", entities, methods=["POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        lifespan=lifespan,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the benchmark floor.")
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # Settings from the same environment as `ocm-gql serve`, started the way it starts.
    settings = Settings.from_env(db=args.db, host=args.host, port=args.port)
    uvicorn.run(
        create_floor_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        lifespan="on",
    )


if __name__ == "__main__":
    main()
