"""The benchmark's floor: the GraphQL server's page, built by hand, with no GraphQL.

`GET /connections?first=N` runs the same repository page query as `connectionInfos(first: N)`
and reads the same cached reference tables, then writes, with orjson, the body the server
returns for bench/run.py's query, key for key. It runs on the same Starlette, uvicorn and
settings as `ocm-gql serve`, so the server/floor ratio prices the GraphQL layer alone.

Run by bench/run.py: `python bench/floor_app.py --db PATH --host 127.0.0.1 --port P`.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TypeVar, cast

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from gql.reference_cache import ReferenceCache
from gql.repository.base import Repository
from gql.repository.factory import open_repository
from gql.repository.models import (
    ConnectionFilter,
    ConnectionRecord,
    ConnectionTypeRecord,
    LevelTypeRecord,
    PageQuery,
    ReferenceKind,
    ReferenceRecord,
    SortOrder,
    StatusTypeRecord,
    SupplyTypeRecord,
)
from gql.settings import Settings

Json = dict[str, object]
R = TypeVar("R", bound=ReferenceRecord)


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
    # Same keys in the same order as the selection in bench/run.py's QUERY.
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
        "connectionType": _related(connection_types, r.connection_type_id),
        "statusType": _related(status_types, r.status_type_id),
        "level": _related(levels, r.level_id),
        "currentType": _related(supply_types, r.current_type_id),
    }


def _related(table: dict[int, Json], key: int | None) -> Json | None:
    return None if key is None else table.get(key)


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

    async def json_table(kind: ReferenceKind, to_json: Callable[[R], Json]) -> dict[int, Json]:
        # Asked of the cache on every request, as the server's DataLoaders do; the tables
        # are a few dozen rows, so converting them whole is cheaper than tracking which
        # ids the page uses.
        assert references is not None
        table = await references.table(kind)
        return {key: to_json(cast(R, record)) for key, record in table.items()}

    async def connections(request: Request) -> Response:
        assert repository is not None
        try:
            first = int(request.query_params["first"])
        except (KeyError, ValueError):
            return PlainTextResponse("?first=N is required", status_code=400)
        if not 0 <= first <= settings.max_page_size:
            return PlainTextResponse("first is out of range", status_code=400)
        # One row past the page, as the server's pager asks, so both run the same SQL.
        records = await repository.connection_page(
            PageQuery(filter=ConnectionFilter(), order=SortOrder.ID_ASC, limit=first + 1)
        )
        del records[first:]
        connection_types = await json_table(ReferenceKind.CONNECTION_TYPE, _connection_type)
        status_types = await json_table(ReferenceKind.STATUS_TYPE, _status_type)
        levels = await json_table(ReferenceKind.LEVEL, _level)
        supply_types = await json_table(ReferenceKind.SUPPLY_TYPE, _supply_type)
        nodes = [_node(r, connection_types, status_types, levels, supply_types) for r in records]
        body = orjson.dumps({"data": {"connectionInfos": {"nodes": nodes}}})
        return Response(body, media_type="application/json")

    async def readyz(_request: Request) -> Response:
        assert repository is not None
        await repository.ping()
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[Route("/connections", connections), Route("/readyz", readyz)],
        lifespan=lifespan,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the benchmark floor.")
    parser.add_argument("--db", type=Path, required=True)
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
