"""The write side in process: every mutation through the schema with a Context carrying an
API key (and, for the ways a key travels, over HTTP through the Starlette app). Every
validation rule on both sides of its bounds, update semantics, NOT_FOUND, the power rule
read back, auth, the change log and its pages, and that no loader or cache answers with
what was there before a write."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient
from strawberry.types import ExecutionResult

from gql.app import create_app
from gql.broadcast import InProcessBroadcaster
from gql.domain.cursor import encode_change_cursor
from gql.domain.keys import create_key, revoke_key
from gql.domain.power import THREE_PHASE_AC, effective_power_kw
from gql.graphql.context import Context
from gql.graphql.schema import schema
from gql.reference_cache import ReferenceCache
from gql.repository.base import Repository
from gql.repository.factory import open_repository
from gql.repository.models import ConnectionTypeRecord, ReferenceKind
from gql.settings import Settings
from gql.writes import ConnectionWrites
from tests.conftest import run_cli
from tests.databases import copy_database, execute_raw, fetch_raw, throwaway_database
from tests.queries import EVERY_SNAPSHOT_FIELD

SITE = 1_000_000_001
OTHER_SITE = 1_000_000_002
MISSING = 987_654

FIELDS = """
    id chargePointId connectionTypeId statusTypeId levelId currentTypeId
    amps voltage powerKw quantity reference comments
"""
ERRORS = "userErrors { field message code }"
CREATE = f"""
mutation Create($input: CreateConnectionInfoInput!) {{
  createConnectionInfo(input: $input) {{ connectionInfo {{ {FIELDS} }} {ERRORS} }}
}}"""
UPDATE = f"""
mutation Update($id: Int!, $input: UpdateConnectionInfoInput!) {{
  updateConnectionInfo(id: $id, input: $input) {{ connectionInfo {{ {FIELDS} }} {ERRORS} }}
}}"""
DELETE = f"""
mutation Delete($id: Int!) {{
  deleteConnectionInfo(id: $id) {{ deletedId connectionInfo {{ {FIELDS} }} {ERRORS} }}
}}"""
SET_STATUS = f"""
mutation SetStatus($id: Int!, $status: Int!) {{
  setConnectionStatus(id: $id, statusTypeId: $status) {{
    previousStatusTypeId connectionInfo {{ {FIELDS} }} {ERRORS}
  }}
}}"""
READ = f"query Read($id: Int!) {{ connectionInfo(id: $id) {{ {FIELDS} }} }}"
HISTORY = f"""
query History($id: Int!, $first: Int, $after: String) {{
  connectionInfoHistory(id: $id, first: $first, after: $after) {{
    edges {{ cursor node {{
      id connectionInfoId action actor changedAt
      before {{ {EVERY_SNAPSHOT_FIELD} }} after {{ {EVERY_SNAPSHOT_FIELD} }}
    }} }}
    nodes {{ id }}
    pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
  }}
}}"""

# GraphQL name -> (lowest, highest, is an integer), the limits.
RANGES: dict[str, tuple[float, float, bool]] = {
    "powerKw": (0, 1000, False),
    "amps": (0, 1000, True),
    "quantity": (0, 500, True),
    "voltage": (0, 1500, False),
}
LENGTHS = {"reference": 100, "comments": 4000}
REFERENCE_FIELDS = ["connectionTypeId", "statusTypeId", "levelId", "currentTypeId"]

FULL_INPUT: dict[str, Any] = {
    "chargePointId": SITE,
    "connectionTypeId": 25,
    "statusTypeId": 50,
    "levelId": 2,
    "currentTypeId": 20,
    "amps": 32,
    "voltage": 400.0,
    "powerKw": 22.0,
    "quantity": 2,
    "reference": "EVSE-1",
    "comments": "left bay",
}


def _below(low: float, integer: bool) -> float:
    return low - 1 if integer else math.nextafter(low, -math.inf)


def _above(high: float, integer: bool) -> float:
    return high + 1 if integer else math.nextafter(high, math.inf)


class Api:
    """The server's per-process services on one repository; one Context per request."""

    def __init__(self, repository: Repository, db: str) -> None:
        self.repository = repository
        self.db = db
        self.settings = Settings(database_url=db)
        self.references = ReferenceCache(repository)
        self.broadcaster = InProcessBroadcaster()
        self.writes = ConnectionWrites(repository, self.references, self.broadcaster)
        self.key = ""

    def context(self, key: str | None) -> Context:
        return Context.for_request(
            self.settings,
            self.repository,
            self.references,
            broadcaster=self.broadcaster,
            writes=self.writes,
            credential=key,
        )

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        key: str | bool | None = True,
        context: Context | None = None,
    ) -> ExecutionResult:
        credential = self.key if key is True else (None if key is False else key)
        return await schema.execute(
            query,
            variable_values=variables,
            context_value=context or self.context(credential),
        )

    async def data(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        result = await self.execute(query, variables, **kw)
        assert result.errors is None, result.errors
        assert result.data is not None
        return result.data

    async def create(self, **values: Any) -> dict[str, Any]:
        payload = (await self.data(CREATE, {"input": {"chargePointId": SITE, **values}}))[
            "createConnectionInfo"
        ]
        assert payload["userErrors"] == [], payload
        node: dict[str, Any] = payload["connectionInfo"]
        return node

    async def update(self, connection_id: int, **changes: Any) -> dict[str, Any]:
        payload: dict[str, Any] = (
            await self.data(UPDATE, {"id": connection_id, "input": changes})
        )["updateConnectionInfo"]
        return payload

    async def read(self, connection_id: int) -> dict[str, Any] | None:
        node: dict[str, Any] | None = (await self.data(READ, {"id": connection_id}, key=False))[
            "connectionInfo"
        ]
        return node

    async def history(self, connection_id: int, **arguments: Any) -> dict[str, Any]:
        page: dict[str, Any] = (
            await self.data(HISTORY, {"id": connection_id, **arguments}, key=False)
        )["connectionInfoHistory"]
        return page

    def stored(self) -> tuple[list[Any], list[Any]]:
        """Every connection row and change-log entry, read past the server's code."""
        return (
            fetch_raw(self.db, "SELECT * FROM connection_info ORDER BY id"),
            fetch_raw(self.db, "SELECT * FROM connection_change ORDER BY id"),
        )


@pytest.fixture(scope="module")
def template_db(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with throwaway_database(backend, tmp_path_factory.mktemp("writes")) as db:
        run_cli("seed", "--database-url", db, "--demo", "40", "--seed", "1")
        yield db


@pytest.fixture
async def api(template_db: str, database_url: str) -> AsyncIterator[Api]:
    await copy_database(template_db, database_url)
    db = database_url
    repository = await open_repository(Settings(database_url=db))
    api = Api(repository, db)
    api.key = await create_key(repository, "alice", read_only=False)
    yield api
    await repository.close()


def _errors(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    return sorted(
        ((error["field"], error["code"]) for error in payload["userErrors"]),
        key=lambda e: (e[0] or [], e[1]),
    )


# -- create ------------------------------------------------------------------------------


async def test_create_returns_the_new_connection_and_logs_it(api: Api) -> None:
    node = await api.create(**FULL_INPUT)
    assert {k: v for k, v in node.items() if k != "id"} == FULL_INPUT
    assert await api.read(node["id"]) == node
    history = await api.history(node["id"])
    assert len(history["nodes"]) == 1
    [edge] = history["edges"]
    assert edge["node"]["action"] == "CREATE"
    assert edge["node"]["actor"] == "alice"
    assert edge["node"]["before"] is None
    assert edge["node"]["after"] == {
        "connectionInfoId": node["id"],
        **{k: v for k, v in node.items() if k != "id"},
    }


async def test_a_minimal_create_leaves_the_rest_null(api: Api) -> None:
    node = await api.create()
    assert node["chargePointId"] == SITE
    assert all(value is None for name, value in node.items() if name not in ("id", "chargePointId"))


async def test_create_without_a_site_is_refused_by_the_schema(api: Api) -> None:
    before = api.stored()
    result = await api.execute(CREATE, {"input": {"chargePointId": None}})
    assert result.errors is not None
    assert api.stored() == before


# -- validation: both sides of every bound, on create and on update --------------------


@pytest.mark.parametrize("field", sorted(RANGES))
async def test_range_ends_are_accepted(api: Api, field: str) -> None:
    low, high, integer = RANGES[field]
    existing = await api.create()
    for value in (low, high):
        created = await api.create(**{field: value})
        assert created[field] == value
        updated = await api.update(existing["id"], **{field: value})
        assert updated["userErrors"] == []
        assert updated["connectionInfo"][field] == value
    if not integer:
        inside = await api.create(**{field: math.nextafter(high, -math.inf)})
        assert inside["id"]


@pytest.mark.parametrize("field", sorted(RANGES))
async def test_out_of_range_is_refused_and_nothing_is_written(api: Api, field: str) -> None:
    low, high, integer = RANGES[field]
    existing = await api.create(**{field: low})
    before = api.stored()
    for value in (_below(low, integer), _above(high, integer)):
        created = (await api.data(CREATE, {"input": {"chargePointId": SITE, field: value}}))[
            "createConnectionInfo"
        ]
        assert created["connectionInfo"] is None
        assert _errors(created) == [(["input", field], "OUT_OF_RANGE")]
        message = created["userErrors"][0]["message"]
        assert f"{low:g}" in message
        assert f"{high:g}" in message
        updated = await api.update(existing["id"], **{field: value})
        assert updated["connectionInfo"] is None
        assert _errors(updated) == [(["input", field], "OUT_OF_RANGE")]
    assert api.stored() == before


@pytest.mark.parametrize("field", sorted(LENGTHS))
async def test_text_limits(api: Api, field: str) -> None:
    limit = LENGTHS[field]
    existing = await api.create()
    assert (await api.create(**{field: "x" * limit}))[field] == "x" * limit
    assert (await api.update(existing["id"], **{field: "é" * limit}))["userErrors"] == []
    before = api.stored()
    created = (
        await api.data(CREATE, {"input": {"chargePointId": SITE, field: "x" * (limit + 1)}})
    )["createConnectionInfo"]
    assert _errors(created) == [(["input", field], "TOO_LONG")]
    updated = await api.update(existing["id"], **{field: "x" * (limit + 1)})
    assert _errors(updated) == [(["input", field], "TOO_LONG")]
    assert api.stored() == before


# A connection's references (the lists after them are the sites' own).
CONNECTION_REFERENCE_KINDS = [
    ReferenceKind.CONNECTION_TYPE,
    ReferenceKind.STATUS_TYPE,
    ReferenceKind.LEVEL,
    ReferenceKind.SUPPLY_TYPE,
]


@pytest.mark.parametrize(
    ("field", "kind"), list(zip(REFERENCE_FIELDS, CONNECTION_REFERENCE_KINDS, strict=True))
)
async def test_unknown_reference_ids_are_refused(api: Api, field: str, kind: ReferenceKind) -> None:
    known = sorted(await api.references.table(kind))
    existing = await api.create()
    for reference_id in (known[0], known[-1]):
        assert (await api.create(**{field: reference_id}))[field] == reference_id
        assert (await api.update(existing["id"], **{field: reference_id}))["userErrors"] == []
    before = api.stored()
    for reference_id in (MISSING, -1):
        created = (await api.data(CREATE, {"input": {"chargePointId": SITE, field: reference_id}}))[
            "createConnectionInfo"
        ]
        assert created["connectionInfo"] is None
        assert _errors(created) == [(["input", field], "UNKNOWN_REFERENCE")]
        updated = await api.update(existing["id"], **{field: reference_id})
        assert _errors(updated) == [(["input", field], "UNKNOWN_REFERENCE")]
    assert api.stored() == before


async def test_an_unknown_site_is_refused(api: Api) -> None:
    existing = await api.create()
    before = api.stored()
    created = (await api.data(CREATE, {"input": {"chargePointId": MISSING}}))[
        "createConnectionInfo"
    ]
    assert _errors(created) == [(["input", "chargePointId"], "UNKNOWN_REFERENCE")]
    updated = await api.update(existing["id"], chargePointId=MISSING)
    assert _errors(updated) == [(["input", "chargePointId"], "UNKNOWN_REFERENCE")]
    assert api.stored() == before
    moved = await api.update(existing["id"], chargePointId=OTHER_SITE)
    assert moved["connectionInfo"]["chargePointId"] == OTHER_SITE


async def test_every_problem_is_listed_at_once(api: Api) -> None:
    bad: dict[str, Any] = {
        "chargePointId": MISSING,
        "connectionTypeId": MISSING,
        "statusTypeId": MISSING,
        "levelId": MISSING,
        "currentTypeId": MISSING,
        "amps": 1001,
        "voltage": 1500.5,
        "powerKw": -1.0,
        "quantity": -1,
        "reference": "r" * 101,
        "comments": "c" * 4001,
    }
    expected = sorted(
        [(["input", "chargePointId"], "UNKNOWN_REFERENCE")]
        + [(["input", name], "UNKNOWN_REFERENCE") for name in REFERENCE_FIELDS]
        + [(["input", name], "OUT_OF_RANGE") for name in RANGES]
        + [(["input", name], "TOO_LONG") for name in LENGTHS]
    )
    existing = await api.create(**FULL_INPUT)
    before = api.stored()
    created = (await api.data(CREATE, {"input": bad}))["createConnectionInfo"]
    assert created["connectionInfo"] is None
    assert _errors(created) == expected
    updated = await api.update(existing["id"], **bad)
    assert updated["connectionInfo"] is None
    assert _errors(updated) == expected
    # One bad field among good ones still writes nothing.
    partly = await api.update(existing["id"], amps=10, quantity=3, voltage=2000.0)
    assert _errors(partly) == [(["input", "voltage"], "OUT_OF_RANGE")]
    assert api.stored() == before
    assert await api.read(existing["id"]) == existing


# -- update semantics ------------------------------------------------------------------


async def test_a_left_out_field_stays_and_an_explicit_null_clears(api: Api) -> None:
    node = await api.create(**FULL_INPUT)
    nothing = await api.update(node["id"])
    assert nothing["userErrors"] == []
    assert nothing["connectionInfo"] == node
    for field in ("comments", "reference", "quantity", "levelId", "connectionTypeId"):
        payload = await api.update(node["id"], **{field: None})
        assert payload["userErrors"] == []
        node = {**node, field: None}
        assert payload["connectionInfo"] == node
        assert await api.read(node["id"]) == node
    # As a literal in the document, too.
    literal = await api.data(
        f"mutation {{ updateConnectionInfo(id: {node['id']}, input: {{statusTypeId: null}})"
        f" {{ connectionInfo {{ {FIELDS} }} {ERRORS} }} }}"
    )
    assert literal["updateConnectionInfo"]["connectionInfo"] == {**node, "statusTypeId": None}


async def test_the_site_cannot_be_cleared(api: Api) -> None:
    node = await api.create(**FULL_INPUT)
    before = api.stored()
    payload = await api.update(node["id"], chargePointId=None, comments=None)
    assert payload["connectionInfo"] is None
    assert _errors(payload) == [(["input", "chargePointId"], "REQUIRED")]
    assert api.stored() == before


async def test_unknown_ids_are_not_found(api: Api) -> None:
    before = api.stored()
    updated = await api.update(MISSING, amps=5)
    assert updated["connectionInfo"] is None
    assert _errors(updated) == [(["id"], "NOT_FOUND")]
    deleted = (await api.data(DELETE, {"id": MISSING}))["deleteConnectionInfo"]
    assert deleted["deletedId"] is None
    assert deleted["connectionInfo"] is None
    assert _errors(deleted) == [(["id"], "NOT_FOUND")]
    status = (await api.data(SET_STATUS, {"id": MISSING, "status": 50}))["setConnectionStatus"]
    assert status["connectionInfo"] is None
    assert status["previousStatusTypeId"] is None
    assert _errors(status) == [(["id"], "NOT_FOUND")]
    assert api.stored() == before


async def test_an_unknown_id_is_listed_with_the_inputs_problems(api: Api) -> None:
    payload = await api.update(MISSING, amps=5000)
    assert _errors(payload) == [(["id"], "NOT_FOUND"), (["input", "amps"], "OUT_OF_RANGE")]
    status = (await api.data(SET_STATUS, {"id": MISSING, "status": MISSING}))["setConnectionStatus"]
    assert _errors(status) == [(["id"], "NOT_FOUND"), (["statusTypeId"], "UNKNOWN_REFERENCE")]


async def test_set_status(api: Api) -> None:
    node = await api.create(**FULL_INPUT)
    payload = (await api.data(SET_STATUS, {"id": node["id"], "status": 150}))["setConnectionStatus"]
    assert payload["userErrors"] == []
    assert payload["previousStatusTypeId"] == FULL_INPUT["statusTypeId"]
    assert payload["connectionInfo"] == {**node, "statusTypeId": 150}
    before = api.stored()
    refused = (await api.data(SET_STATUS, {"id": node["id"], "status": MISSING}))[
        "setConnectionStatus"
    ]
    assert refused["connectionInfo"] is None
    assert _errors(refused) == [(["statusTypeId"], "UNKNOWN_REFERENCE")]
    assert api.stored() == before
    [latest, _created] = (await api.history(node["id"]))["nodes"]
    entry = (await api.history(node["id"], first=1))["edges"][0]["node"]
    assert entry["id"] == latest["id"]
    assert entry["action"] == "SET_STATUS"
    assert (entry["before"]["statusTypeId"], entry["after"]["statusTypeId"]) == (50, 150)


async def test_a_write_that_changes_nothing_writes_and_logs_nothing(api: Api) -> None:
    """The status it already has, the values it already holds, or no field at all: the
    connection is answered as it is, and no row, change-log entry or event is written."""
    node = await api.create(**FULL_INPUT)
    before = api.stored()
    same = (await api.data(SET_STATUS, {"id": node["id"], "status": 50}))["setConnectionStatus"]
    assert same == {"connectionInfo": node, "previousStatusTypeId": 50, "userErrors": []}
    for changes in ({"amps": 32, "voltage": 400.0, "comments": "left bay"}, {}):
        payload = await api.update(node["id"], **changes)
        assert payload == {"connectionInfo": node, "userErrors": []}
    assert api.stored() == before
    assert len((await api.history(node["id"]))["nodes"]) == 1  # its CREATE only
    # A refused no-op is still refused, and an unknown id still NOT_FOUND.
    assert _errors(await api.update(node["id"], amps=32, quantity=5000)) == [
        (["input", "quantity"], "OUT_OF_RANGE")
    ]
    assert _errors(await api.update(MISSING)) == [(["id"], "NOT_FOUND")]
    # One field really changed is a change, logged with the rest as it was.
    changed = await api.update(node["id"], amps=32, quantity=3)
    assert changed["connectionInfo"] == {**node, "quantity": 3}
    [latest, _created] = [edge["node"] for edge in (await api.history(node["id"]))["edges"]]
    assert (latest["before"]["quantity"], latest["after"]["quantity"]) == (2, 3)


async def test_delete(api: Api) -> None:
    node = await api.create(**FULL_INPUT)
    payload = (await api.data(DELETE, {"id": node["id"]}))["deleteConnectionInfo"]
    assert payload == {"deletedId": node["id"], "connectionInfo": node, "userErrors": []}
    assert await api.read(node["id"]) is None
    again = (await api.data(DELETE, {"id": node["id"]}))["deleteConnectionInfo"]
    assert _errors(again) == [(["id"], "NOT_FOUND")]
    assert _errors(await api.update(node["id"], amps=1)) == [(["id"], "NOT_FOUND")]


# -- the power rule, read back ---------------------------------------------------------


async def test_power_is_derived_from_amps_and_voltage_when_not_given(api: Api) -> None:
    three_phase = await api.create(amps=32, voltage=400.0, currentTypeId=THREE_PHASE_AC)
    expected = effective_power_kw(None, 32, 400.0, THREE_PHASE_AC)
    assert expected is not None
    assert three_phase["powerKw"] == expected
    single = await api.create(amps=32, voltage=400.0, currentTypeId=10)
    assert single["powerKw"] == effective_power_kw(None, 32, 400.0, 10)
    assert three_phase["powerKw"] != single["powerKw"]  # the three-phase factor applies
    zero = await api.create(amps=16, voltage=230.0, powerKw=0.0, currentTypeId=10)
    assert zero["powerKw"] == effective_power_kw(0.0, 16, 230.0, 10)
    given = await api.create(amps=32, voltage=400.0, powerKw=11.0, currentTypeId=THREE_PHASE_AC)
    assert given["powerKw"] == 11.0
    only_amps = await api.create(amps=32)
    assert only_amps["powerKw"] is None
    for node in (three_phase, single, zero, given, only_amps):
        assert await api.read(node["id"]) == node


async def test_power_follows_updates(api: Api) -> None:
    node = await api.create(amps=32, voltage=230.0, currentTypeId=10)
    node = (await api.update(node["id"], amps=16))["connectionInfo"]
    assert node["powerKw"] == effective_power_kw(None, 16, 230.0, 10)
    node = (await api.update(node["id"], currentTypeId=THREE_PHASE_AC))["connectionInfo"]
    assert node["powerKw"] == effective_power_kw(None, 16, 230.0, THREE_PHASE_AC)
    node = (await api.update(node["id"], powerKw=50.0))["connectionInfo"]
    assert node["powerKw"] == 50.0
    node = (await api.update(node["id"], voltage=400.0))["connectionInfo"]
    assert node["powerKw"] == 50.0  # a given power wins
    node = (await api.update(node["id"], powerKw=None))["connectionInfo"]
    assert node["powerKw"] == effective_power_kw(None, 16, 400.0, THREE_PHASE_AC)
    node = (await api.update(node["id"], voltage=None))["connectionInfo"]
    assert node["powerKw"] is None
    assert await api.read(node["id"]) == node


async def test_power_filters_see_the_written_power(api: Api) -> None:
    node = await api.create(amps=32, voltage=400.0, currentTypeId=THREE_PHASE_AC)
    power = node["powerKw"]
    query = (
        "query($ids: [Int!], $min: Float) { connectionInfos(filter: {ids: $ids, minPowerKw: $min})"
        " { nodes { id powerKw } } }"
    )
    found = await api.data(query, {"ids": [node["id"]], "min": power}, key=False)
    assert found["connectionInfos"]["nodes"] == [{"id": node["id"], "powerKw": power}]
    above = await api.data(query, {"ids": [node["id"]], "min": power + 0.1}, key=False)
    assert above["connectionInfos"]["nodes"] == []


# -- the change log --------------------------------------------------------------------


async def test_history_says_who_when_what_before_and_after(api: Api) -> None:
    bob = await create_key(api.repository, "bob", read_only=False)
    started = datetime.now(UTC)
    node = await api.create(**FULL_INPUT)
    await api.update(node["id"], amps=16, comments=None)
    await api.data(SET_STATUS, {"id": node["id"], "status": 150}, key=bob)
    await api.data(DELETE, {"id": node["id"]}, key=bob)
    finished = datetime.now(UTC)
    page = await api.history(node["id"])
    entries = [edge["node"] for edge in page["edges"]]
    assert [e["action"] for e in entries] == ["DELETE", "SET_STATUS", "UPDATE", "CREATE"]
    assert [e["actor"] for e in entries] == ["bob", "bob", "alice", "alice"]
    ids = [e["id"] for e in entries]
    assert ids == sorted(ids, reverse=True)
    times = [datetime.fromisoformat(e["changedAt"]) for e in entries]
    assert times == sorted(times, reverse=True)
    for moment in times:
        assert started.replace(microsecond=started.microsecond // 1000 * 1000) <= moment
        assert moment <= finished
    assert all(e["connectionInfoId"] == node["id"] for e in entries)
    delete, status, update, create = entries
    snapshot = {"connectionInfoId": node["id"], **{k: v for k, v in node.items() if k != "id"}}
    assert create["before"] is None
    assert create["after"] == snapshot
    assert update["before"] == snapshot
    updated = {**snapshot, "amps": 16, "comments": None}
    assert update["after"] == updated
    assert status["before"] == updated
    assert status["after"] == {**updated, "statusTypeId": 150}
    assert delete["before"] == status["after"]
    assert delete["after"] is None
    # The deleted connection's history stays, and is public.
    assert page["pageInfo"]["hasNextPage"] is False
    assert page["pageInfo"]["hasPreviousPage"] is False


async def test_history_pages_newest_first(api: Api) -> None:
    node = await api.create(amps=0, quantity=0)
    for n in range(1, 7):
        await api.update(node["id"], amps=n, quantity=n)
    other = await api.create()
    await api.update(other["id"], amps=1)  # another connection's entries stay out
    everything = await api.history(node["id"], first=100)
    assert [e["node"]["after"]["amps"] for e in everything["edges"]] == [6, 5, 4, 3, 2, 1, 0]
    seen: list[int] = []
    after: str | None = None
    pages = 0
    while True:
        page = await api.history(node["id"], first=3, after=after)
        pages += 1
        edges = page["edges"]
        info = page["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        assert info["startCursor"] == edges[0]["cursor"]
        assert info["endCursor"] == edges[-1]["cursor"]
        assert [n["id"] for n in page["nodes"]] == [e["node"]["id"] for e in edges]
        seen += [edge["node"]["id"] for edge in edges]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert pages == 3
    assert seen == [e["node"]["id"] for e in everything["edges"]]
    empty = await api.history(node["id"], first=0)
    assert empty["edges"] == []
    assert empty["pageInfo"]["hasNextPage"] is True
    assert empty["pageInfo"]["endCursor"] is None
    # A cursor keeps working after newer writes: it names a place in the log.
    first_page = await api.history(node["id"], first=2)
    await api.update(node["id"], amps=7, quantity=7)
    rest = await api.history(node["id"], first=100, after=first_page["pageInfo"]["endCursor"])
    assert [e["node"]["after"]["amps"] for e in rest["edges"]] == [4, 3, 2, 1, 0]


async def test_history_of_a_connection_never_written_is_empty(api: Api) -> None:
    page = await api.history(SITE)
    assert page["edges"] == []
    assert page["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!",
        "",
        "bm9wZQ",  # "nope"
        "Y2hhbmdlOg",  # "change:"
        "Y2hhbmdlOi0x",  # "change:-1"
        "Y2hhbmdlOsKy",  # "change:²", a digit to str.isdigit but not to int()
        "Y2hhbmdlOjk5OTk5OTk5OTk5OTk5OTk5OTk5OTk",  # beyond 64 bits
    ],
)
async def test_a_bad_history_cursor_is_bad_user_input(api: Api, cursor: str) -> None:
    result = await api.execute(HISTORY, {"id": 1, "after": cursor}, key=False)
    assert result.errors is not None
    [error] = result.errors
    assert error.extensions == {"code": "BAD_USER_INPUT", "argument": "after"}


async def test_a_cursor_of_connection_infos_is_not_a_history_cursor(api: Api) -> None:
    page = await api.data("{ connectionInfos(first: 1) { pageInfo { endCursor } } }", key=False)
    foreign = page["connectionInfos"]["pageInfo"]["endCursor"]
    result = await api.execute(HISTORY, {"id": 1, "after": foreign}, key=False)
    assert result.errors is not None
    assert result.errors[0].extensions == {"code": "BAD_USER_INPUT", "argument": "after"}
    assert (await api.history(1, after=encode_change_cursor(5)))["edges"] == []


@pytest.mark.parametrize("first", [-1, 1001])
async def test_history_page_size_is_bounded(api: Api, first: int) -> None:
    result = await api.execute(HISTORY, {"id": 1, "first": first}, key=False)
    assert result.errors is not None
    assert result.errors[0].extensions == {"code": "BAD_USER_INPUT", "argument": "first"}


# -- nothing stale after a write -------------------------------------------------------


async def test_mutations_run_in_order_and_each_sees_the_last(api: Api) -> None:
    node = await api.create(**FULL_INPUT)
    data = await api.data(
        f"""mutation($id: Int!) {{
          a: updateConnectionInfo(id: $id, input: {{amps: 5}}) {{ connectionInfo {{ amps }} }}
          b: updateConnectionInfo(id: $id, input: {{quantity: 7}}) {{
            connectionInfo {{ amps quantity }} }}
          c: updateConnectionInfo(id: $id, input: {{amps: 5000}}) {{ {ERRORS} }}
          d: setConnectionStatus(id: $id, statusTypeId: 150) {{
            previousStatusTypeId connectionInfo {{ amps quantity statusTypeId statusType {{ id }} }}
          }}
          e: updateConnectionInfo(id: $id, input: {{connectionTypeId: 33}}) {{
            connectionInfo {{ connectionType {{ id }} }} }}
        }}""",
        {"id": node["id"]},
    )
    assert data["a"]["connectionInfo"] == {"amps": 5}
    assert data["b"]["connectionInfo"] == {"amps": 5, "quantity": 7}
    assert [e["code"] for e in data["c"]["userErrors"]] == ["OUT_OF_RANGE"]
    assert data["d"]["previousStatusTypeId"] == FULL_INPUT["statusTypeId"]
    assert data["d"]["connectionInfo"] == {
        "amps": 5,
        "quantity": 7,
        "statusTypeId": 150,
        "statusType": {"id": 150},
    }
    assert data["e"]["connectionInfo"] == {"connectionType": {"id": 33}}
    assert [e["node"]["action"] for e in (await api.history(node["id"]))["edges"]] == [
        "UPDATE",
        "SET_STATUS",
        "UPDATE",
        "UPDATE",
        "CREATE",
    ]


async def test_the_requests_loader_sees_its_own_writes(api: Api) -> None:
    node = await api.create(**FULL_INPUT)
    context = api.context(api.key)
    loader = context.loaders.connection_info
    loaded = await loader.load(node["id"])
    assert loaded is not None
    assert loaded.amps == FULL_INPUT["amps"]
    await api.data(UPDATE, {"id": node["id"], "input": {"amps": 6}}, context=context)
    reloaded = await loader.load(node["id"])
    assert reloaded is not None
    assert reloaded.amps == 6
    await api.data(SET_STATUS, {"id": node["id"], "status": 150}, context=context)
    status_loaded = await loader.load(node["id"])
    assert status_loaded is not None
    assert status_loaded.status_type_id == 150
    await api.data(DELETE, {"id": node["id"]}, context=context)
    assert await loader.load(node["id"]) is None


async def test_a_later_request_sees_the_write(api: Api) -> None:
    node = await api.create(**FULL_INPUT)
    query = (
        "query($id: Int!) { connectionInfo(id: $id) { amps statusType { id title } } "
        "connectionInfos(filter: {ids: [$id]}) { nodes { amps } } }"
    )
    before = await api.data(query, {"id": node["id"]}, key=False)
    assert before["connectionInfo"]["amps"] == 32
    await api.update(node["id"], amps=8, statusTypeId=150)
    after = await api.data(query, {"id": node["id"]}, key=False)
    assert after["connectionInfo"]["amps"] == 8
    assert after["connectionInfo"]["statusType"]["id"] == 150
    assert after["connectionInfos"]["nodes"] == [{"amps": 8}]


async def test_the_reference_cache_follows_reference_writes(api: Api) -> None:
    node = await api.create(connectionTypeId=25)
    query = "query($id: Int!) { connectionInfo(id: $id) { connectionType { title } } }"
    assert (await api.data(query, {"id": node["id"]}, key=False))["connectionInfo"][
        "connectionType"
    ]["title"] != "Renamed"
    await api.repository.upsert_reference(
        ReferenceKind.CONNECTION_TYPE, [ConnectionTypeRecord(id=25, title="Renamed")]
    )
    assert (await api.data(query, {"id": node["id"]}, key=False))["connectionInfo"][
        "connectionType"
    ] == {"title": "Renamed"}
    refused = await api.data(
        CREATE, {"input": {"chargePointId": SITE, "connectionTypeId": MISSING}}
    )
    assert _errors(refused["createConnectionInfo"]) == [
        (["input", "connectionTypeId"], "UNKNOWN_REFERENCE")
    ]
    await api.repository.upsert_reference(
        ReferenceKind.CONNECTION_TYPE, [ConnectionTypeRecord(id=MISSING, title="New")]
    )
    assert (await api.create(connectionTypeId=MISSING))["connectionTypeId"] == MISSING


async def test_a_site_removed_after_the_check_is_a_conflict(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The input is checked before the write's transaction; a site deleted in between
    breaks the foreign key, and the write reports CONFLICT and leaves nothing."""
    checked = api.repository.existing_site_ids

    async def check_then_remove(ids: Any) -> set[int]:
        found = await checked(ids)
        execute_raw(api.db, f"DELETE FROM charge_point WHERE id = {OTHER_SITE}")
        return found

    monkeypatch.setattr(api.repository, "existing_site_ids", check_then_remove)
    before = api.stored()
    payload = (await api.data(CREATE, {"input": {"chargePointId": OTHER_SITE}}))[
        "createConnectionInfo"
    ]
    assert payload["connectionInfo"] is None
    assert _errors(payload) == [(None, "CONFLICT")]
    assert api.stored() == before
    # And the writer is free for the next write.
    monkeypatch.undo()
    assert (await api.create(amps=1))["amps"] == 1


# -- who may write, over HTTP ----------------------------------------------------------


class Http:
    def __init__(self, client: TestClient, db: str, keys: dict[str, str]) -> None:
        self.client = client
        self.db = db
        self.keys = keys

    def post(self, query: str, variables: dict[str, Any] | None = None, **headers: str) -> Any:
        response = self.client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={name.replace("_", "-"): value for name, value in headers.items()},
        )
        assert response.status_code == 200, response.text
        return response.json()

    def stored(self) -> tuple[list[Any], list[Any]]:
        return (
            fetch_raw(self.db, "SELECT * FROM connection_info ORDER BY id"),
            fetch_raw(self.db, "SELECT * FROM connection_change ORDER BY id"),
        )


@pytest.fixture
def http(template_db: str, database_url: str) -> Iterator[Http]:
    db = database_url
    asyncio.run(copy_database(template_db, db))

    async def make_keys() -> dict[str, str]:
        repository = await open_repository(Settings(database_url=db))
        try:
            keys = {
                "writer": await create_key(repository, "writer", read_only=False),
                "viewer": await create_key(repository, "viewer", read_only=True),
                "revoked": await create_key(repository, "gone", read_only=False),
            }
            await revoke_key(repository, "gone")
            return keys
        finally:
            await repository.close()

    keys = asyncio.run(make_keys())
    with TestClient(create_app(Settings(database_url=db))) as client:
        yield Http(client, db, keys)


MUTATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "create": (CREATE, {"input": {"chargePointId": SITE, "amps": 1}}),
    "update": (UPDATE, {"id": 1_000_000_001, "input": {"amps": 1}}),
    "delete": (DELETE, {"id": 1_000_000_001}),
    "setStatus": (SET_STATUS, {"id": 1_000_000_001, "status": 150}),
    # Auth comes before the input: a bad input without a key is still UNAUTHENTICATED.
    "invalid": (CREATE, {"input": {"chargePointId": MISSING, "amps": -1}}),
}


def _wrong_secret(key: str) -> str:
    return key[:-1] + ("A" if key[-1] != "A" else "B")


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
@pytest.mark.parametrize(
    ("how", "expected"),
    [
        ("none", "UNAUTHENTICATED"),
        ("empty", "UNAUTHENTICATED"),
        ("malformed", "UNAUTHENTICATED"),
        ("wrong-secret", "UNAUTHENTICATED"),
        ("wrong-secret-bearer", "UNAUTHENTICATED"),
        ("revoked", "UNAUTHENTICATED"),
        ("basic-scheme", "UNAUTHENTICATED"),
        ("read-only", "FORBIDDEN"),
        ("read-only-bearer", "FORBIDDEN"),
    ],
)
def test_writes_need_a_valid_writing_key(
    http: Http, mutation: str, how: str, expected: str
) -> None:
    headers = {
        "none": {},
        "empty": {"X_API_Key": ""},
        "malformed": {"X_API_Key": "let-me-in"},
        "wrong-secret": {"X_API_Key": _wrong_secret(http.keys["writer"])},
        "wrong-secret-bearer": {"Authorization": f"Bearer {_wrong_secret(http.keys['writer'])}"},
        "revoked": {"X_API_Key": http.keys["revoked"]},
        "basic-scheme": {"Authorization": f"Basic {http.keys['writer']}"},
        "read-only": {"X_API_Key": http.keys["viewer"]},
        "read-only-bearer": {"Authorization": f"Bearer {http.keys['viewer']}"},
    }[how]
    before = http.stored()
    query, variables = MUTATIONS[mutation]
    body = http.post(query, variables, **headers)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == expected
    assert http.keys["writer"] not in error["message"]
    assert http.stored() == before


@pytest.mark.parametrize(
    "header",
    [("X-API-Key", "{key}"), ("Authorization", "Bearer {key}"), ("Authorization", "bearer {key}")],
)
def test_a_writing_key_works_as_x_api_key_or_bearer(http: Http, header: tuple[str, str]) -> None:
    name, template = header
    body = http.post(
        CREATE,
        {"input": {"chargePointId": SITE, "amps": 3}},
        **{name.replace("-", "_"): template.format(key=http.keys["writer"])},
    )
    assert "errors" not in body
    node = body["data"]["createConnectionInfo"]["connectionInfo"]
    assert node["amps"] == 3
    history = http.post(HISTORY, {"id": node["id"]})
    assert history["data"]["connectionInfoHistory"]["edges"][0]["node"]["actor"] == "writer"


def test_reads_need_no_key(http: Http) -> None:
    query = (
        "{ connectionInfo(id: 1000000001) { id } connectionInfoHistory(id: 1) { nodes { id } } }"
    )
    expected = {"connectionInfo": {"id": 1_000_000_001}, "connectionInfoHistory": {"nodes": []}}
    assert http.post(query) == {"data": expected}
    # A bad key on a read is no reason to refuse it: reads are public.
    assert http.post(query, X_API_Key="nonsense") == {"data": expected}
    assert http.post(query, X_API_Key=http.keys["viewer"]) == {"data": expected}


def test_a_mutation_over_get_is_refused(http: Http) -> None:
    before = http.stored()
    response = http.client.get(
        "/graphql",
        params={"query": "mutation { deleteConnectionInfo(id: 1000000001) { deletedId } }"},
        headers={"X-API-Key": http.keys["writer"]},
    )
    assert response.status_code == 405
    assert http.stored() == before


def test_over_http_a_left_out_field_stays_and_a_null_clears(http: Http) -> None:
    headers = {"X_API_Key": http.keys["writer"]}
    node = http.post(CREATE, {"input": FULL_INPUT}, **headers)["data"]["createConnectionInfo"][
        "connectionInfo"
    ]
    kept = http.post(UPDATE, {"id": node["id"], "input": {"amps": 10}}, **headers)
    assert kept["data"]["updateConnectionInfo"]["connectionInfo"] == {**node, "amps": 10}
    cleared = http.post(
        UPDATE, {"id": node["id"], "input": {"comments": None, "reference": None}}, **headers
    )
    assert cleared["data"]["updateConnectionInfo"]["connectionInfo"] == {
        **node,
        "amps": 10,
        "comments": None,
        "reference": None,
    }


def test_a_batch_of_mutations_writes_each_once(http: Http) -> None:
    response = http.client.post(
        "/graphql",
        json=[
            {"query": CREATE, "variables": {"input": {"chargePointId": SITE, "amps": n}}}
            for n in (1, 2, 3)
        ],
        headers={"X-API-Key": http.keys["writer"]},
    )
    assert response.status_code == 200
    nodes = [item["data"]["createConnectionInfo"]["connectionInfo"] for item in response.json()]
    assert [node["amps"] for node in nodes] == [1, 2, 3]
    _rows, changes = http.stored()
    assert sorted(change[1] for change in changes) == sorted(node["id"] for node in nodes)
