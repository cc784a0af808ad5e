"""Proof of identity: the fast executor (gql/graphql/fastpath/) answers exactly as
graphql-core's standard executor does.

Every case runs through `schema.execute` three times, each with a fresh Context: on the
fast path with a cold reference cache, on the standard executor (`fast_executor.enabled =
False`), and on the fast path again with the reference lists cached (and the document's
plan cached). The responses must be identical: `data`, every formatted error (masked
errors differ only in their random error id, which is blanked), `extensions`, and the
JSON bytes of the response (key order included). Fallbacks are counted by wrapping the
schema's executor and the `execute` the fast path falls back to: every hand-written case
says whether the fast path answers it, falls back, or nothing runs.

- Hand-written edge cases, on a copy of the demo database (with a few rows given null or
  dangling relations, and a change history written through the API): pages (first/last,
  cursors, every order, filters), aliases, fragments, merged response keys,
  `__typename`, @include/@skip, variables (defaults, missing, null, wrong types), nulls,
  reference lists, `_entities`, operation selection, the history of a connection (an
  enum, a custom scalar, nullable objects), errors in arguments and variables.
- Non-null violations and unserializable values, on a copy with deliberately broken
  rows; resolvers failing unexpectedly (reference lists that cannot be read).
- Every connection of the OCM sample data, walked page by page in every order.
- Generated queries: hypothesis-graphql over the public SDL's Query fields, each
  rewritten at random to use aliases, twin fields merged under one key, named (some
  spread twice) and inline fragments, `__typename`, @include/@skip, variables (given,
  defaulted, overridden with null, and now and then of the wrong type), a second
  operation picked by name, and argument values that hit data (ids that exist, page
  sizes around the limits, cursors). A generated query may fall back only if its
  response has errors.

Examples: `OCM_GQL_DIFF_EXAMPLES` (default 150: some 5 s), derandomized so CI sees the
same queries every run. For a longer local run (about 3 minutes):

    OCM_GQL_DIFF_EXAMPLES=5000 .venv/bin/pytest tests/test_fastpath.py

and add `OCM_GQL_DIFF_SEED=<any integer>` for other queries than CI's. The tally of
generated queries answered by the fast path, fallen back or refused before execution is
printed at the end of the module.
"""

from __future__ import annotations

import contextlib
import enum
import gc
import itertools
import os
import re
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest.mock import patch

import graphql
import orjson
import pytest
import pytest_asyncio
from graphql import (
    ArgumentNode,
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    EnumValueNode,
    FieldNode,
    FloatValueNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLNonNull,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NamedTypeNode,
    NameNode,
    NullValueNode,
    ObjectFieldNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
)
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from hypothesis_graphql import queries
from strawberry.types import ExecutionResult

import gql.graphql.fastpath.executor as fastpath_executor
from gql.broadcast import InProcessBroadcaster
from gql.domain.cursor import encode_change_cursor, encode_cursor, encode_site_cursor
from gql.domain.keys import create_key
from gql.graphql.context import Context
from gql.graphql.errors import INTERNAL_SERVER_ERROR
from gql.graphql.loaders import Loaders
from gql.graphql.schema import fast_executor, public_sdl, schema
from gql.reference_cache import ReferenceCache
from gql.repository.base import Repository
from gql.repository.factory import open_repository
from gql.repository.models import (
    ConnectionFilter,
    GeoRadius,
    ReferenceKind,
    ReferenceRecord,
    SeekKey,
    SiteOrder,
    SiteSeekKey,
    SortOrder,
)
from gql.settings import Settings
from tests.conftest import graphql_runner, sqlite_only
from tests.databases import copy_database, execute_raw, throwaway_database
from tests.hypothesis_runs import reproducible
from tests.queries import EVERY_SITE_FIELD, EVERY_SNAPSHOT_FIELD

pytestmark = pytest.mark.asyncio(loop_scope="module")

EXAMPLES = int(os.environ.get("OCM_GQL_DIFF_EXAMPLES", "150"))
SEED = os.environ.get("OCM_GQL_DIFF_SEED")

FIRST = 1_000_000_001  # the first demo connection (and site)
LAST = 1_000_003_000  # the last of the 3,000
NO_RELATIONS = 1_000_000_005  # made to have no type, status, level or supply type
UNKNOWN_TYPE = 1_000_000_006  # made to name a connection type that does not exist
EDITED = 1_000_000_007  # updated and its status set twice: three changes
DELETED = 1_000_000_008  # deleted: its history outlives it
HUGE_ID = 3_000_000_000  # broken rows (the `broken` database only): beyond Int's range


class Outcome(enum.Enum):
    FAST = "fast"
    """The fast path answered."""
    FALLBACK = "fallback"
    """The fast path gave up and graphql-core's executor answered."""
    NOT_RUN = "not run"
    """Refused before execution (validation, limits, variable coercion)."""


# -- the databases ----------------------------------------------------------------------


@dataclass
class Api:
    repository: Repository
    settings: Settings
    references: ReferenceCache
    key: str = ""

    def context(self, *, cold: bool = False, key: str | None = None) -> Context:
        references = self.fresh_references() if cold else self.references
        return Context.for_request(
            self.settings,
            self.repository,
            references,
            broadcaster=InProcessBroadcaster(),
            credential=key,
        )

    def fresh_references(self) -> ReferenceCache:
        return ReferenceCache(self.repository)


@contextlib.asynccontextmanager
async def _copy(source: str, backend: str, folder: Path, *statements: str) -> AsyncIterator[str]:
    """A copy of the database at ``source`` with ``statements`` run on it below the API."""
    with throwaway_database(backend, folder) as copy:
        await copy_database(source, copy)
        execute_raw(copy, *statements)
        yield copy


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api(
    backend: str, demo_db: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Api]:
    """A copy of the demo database (others share `demo_db`) with a few rows made to have
    null or dangling relations, and a change history written through the API."""
    async with _copy(
        demo_db,
        backend,
        tmp_path_factory.mktemp("fastpath"),
        "UPDATE connection_info SET connection_type_id = NULL, status_type_id = NULL, "
        f"level_id = NULL, current_type_id = NULL, amps = NULL WHERE id = {NO_RELATIONS}",
        f"UPDATE connection_info SET connection_type_id = 9999 WHERE id = {UNKNOWN_TYPE}",
    ) as db:
        settings = Settings(database_url=db)
        repository = await open_repository(settings)
        try:
            state = Api(repository, settings, ReferenceCache(repository))
            state.key = await create_key(repository, "differential", read_only=False)
            for mutation in (
                f'updateConnectionInfo(id: {EDITED}, input: {{amps: 16, comments: "re-wired"}}) '
                "{ userErrors { code } }",
                f"setConnectionStatus(id: {EDITED}, statusTypeId: 100) {{ userErrors {{ code }} }}",
                f"setConnectionStatus(id: {EDITED}, statusTypeId: 0) {{ userErrors {{ code }} }}",
                f"deleteConnectionInfo(id: {DELETED}) {{ userErrors {{ code }} }}",
            ):
                written = await schema.execute(
                    f"mutation {{ {mutation} }}", context_value=state.context(key=state.key)
                )
                assert written.errors is None, written.errors
                assert written.data is not None
                assert next(iter(written.data.values()))["userErrors"] == []
            yield state
        finally:
            await repository.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def broken(
    backend: str, demo_db: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Api]:
    """A copy of the demo database with rows whose values the schema cannot serialize:
    the only way to provoke errors (and null propagation) in completed values. SQLite's
    loose typing alone lets such values in: the tests that use it are `sqlite_only`."""
    async with _copy(
        demo_db,
        backend,
        tmp_path_factory.mktemp("fastpath"),
        # Int! id out of range: a non-null violation that nulls the whole page.
        f"UPDATE connection_info SET id = {HUGE_ID} WHERE id = {LAST}",
        # Nullable fields that cannot be serialized: null in place, with an error.
        f"UPDATE connection_info SET amps = 2.5 WHERE id = {FIRST}",
        f"UPDATE connection_info SET charge_point_id = {HUGE_ID} WHERE id = {FIRST + 1}",
        f"UPDATE connection_info SET quantity = 'lots' WHERE id = {FIRST + 2}",
        f"UPDATE connection_info SET voltage = 9e999 WHERE id = {FIRST + 3}",
        # A value graphql-core converts: a numeric string for an Int.
        f"UPDATE connection_info SET quantity = '12' WHERE id = {FIRST + 4}",
        # A reference row (one object shared by every connection of its type) with a
        # broken Int! id: its nullable parent field (connectionType) stops the null.
        f"UPDATE connection_type SET id = {HUGE_ID} WHERE id = 1036",
        f"UPDATE connection_info SET connection_type_id = {HUGE_ID} "
        f"WHERE id IN ({FIRST + 5}, {FIRST + 6}, {FIRST + 7})",
        # A string for a Boolean: serialized to true.
        "UPDATE status_type SET is_user_selectable = 'yes' WHERE id = 75",
        # Serializable as they are, at the edges: finite floats whose sum is not, and the
        # Int range's ends.
        f"UPDATE connection_info SET voltage = 1.5e308, amps = {2**31 - 1} WHERE id = {FIRST + 20}",
        f"UPDATE connection_info SET voltage = 1.5e308, amps = {-(2**31)} WHERE id = {FIRST + 21}",
    ) as db:
        settings = Settings(database_url=db)
        repository = await open_repository(settings)
        try:
            yield Api(repository, settings, ReferenceCache(repository))
        finally:
            await repository.close()


# -- running a case both ways -------------------------------------------------------------


@dataclass
class Run:
    result: ExecutionResult | None
    raised: str | None
    """What `schema.execute` raised: Strawberry leaves some requests (an unknown
    operation name) to the transport."""
    outcome: Outcome

    @property
    def failed(self) -> bool:
        return self.raised is not None or bool(self.result and self.result.errors)


async def _run(
    api: Api,
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    *,
    fast: bool,
    cold: bool,
) -> Run:
    calls = Counter[str]()
    executor = fast_executor
    standard = fastpath_executor.execute

    def counted_executor(*args: Any, **kwargs: Any) -> Any:
        calls["executor"] += 1
        return executor(*args, **kwargs)

    def counted_standard(*args: Any, **kwargs: Any) -> Any:
        calls["standard"] += 1
        return standard(*args, **kwargs)

    result: ExecutionResult | None = None
    raised: str | None = None
    enabled = fast_executor.enabled
    fast_executor.enabled = fast
    try:
        with (
            patch.object(schema, "executor", counted_executor),
            patch.object(fastpath_executor, "execute", counted_standard),
        ):
            result = await schema.execute(
                query,
                variable_values=variables,
                operation_name=operation_name,
                context_value=api.context(cold=cold),
            )
    except Exception as error:
        raised = f"{type(error).__name__}: {error}"
    finally:
        fast_executor.enabled = enabled
    if not calls["executor"]:
        outcome = Outcome.NOT_RUN
    else:
        assert calls["executor"] == 1, calls
        outcome = Outcome.FALLBACK if calls["standard"] else Outcome.FAST
    return Run(result, raised, outcome)


_ERROR_ID = re.compile(r"[0-9a-f]{32}")


def _formatted(result: ExecutionResult) -> list[dict[str, Any]] | None:
    """The errors as sent; a masked error's id is random, so it is blanked."""
    if result.errors is None:
        return None
    formatted = []
    for error in result.errors:
        entry = error.formatted
        extensions = entry.get("extensions") or {}
        if extensions.get("code") == INTERNAL_SERVER_ERROR:
            entry = {
                **entry,
                "message": _ERROR_ID.sub("<id>", entry["message"]),
                "extensions": {**extensions, "errorId": "<id>"},
            }
        formatted.append(entry)
    return formatted


def _body(result: ExecutionResult) -> bytes:
    """The response as sent (endpoint.py serializes it with orjson, in key order)."""
    return orjson.dumps(
        {"data": result.data, "errors": _formatted(result), "extensions": result.extensions}
    )


async def differ(
    api: Api,
    query: str,
    variables: dict[str, Any] | None = None,
    operation_name: str | None = None,
) -> tuple[Outcome, Run]:
    """Runs the operation on both executors and checks the responses are identical;
    returns how the fast path fared and the standard run."""
    cold = await _run(api, query, variables, operation_name, fast=True, cold=True)
    standard = await _run(api, query, variables, operation_name, fast=False, cold=False)
    warm = await _run(api, query, variables, operation_name, fast=True, cold=False)
    assert standard.outcome is not Outcome.FAST
    expected = standard.result
    for fast in (cold, warm):
        assert fast.raised == standard.raised
        if expected is None:
            assert fast.result is None
            continue
        assert fast.result is not None
        assert fast.result.data == expected.data
        assert _formatted(fast.result) == _formatted(expected)
        assert fast.result.extensions == expected.extensions
        assert _body(fast.result) == _body(expected)
    assert cold.outcome is warm.outcome
    if standard.outcome is Outcome.NOT_RUN:
        assert cold.outcome is Outcome.NOT_RUN
    return cold.outcome, standard


# -- hand-written cases -------------------------------------------------------------------

TYPE = "id title formalName isDiscontinued isObsolete"
STATUS = "id title isOperational isUserSelectable"
LEVEL = "id title comments isFastChargeCapable"
SUPPLY = "id title description"
SCALARS = """
    id connectionTypeId reference statusTypeId levelId amps voltage powerKw currentTypeId
    quantity comments chargePointId
"""
NODE = f"""
    {SCALARS}
    connectionType {{ {TYPE} }} statusType {{ {STATUS} }}
    level {{ {LEVEL} }} currentType {{ {SUPPLY} }}
"""
PAGE_INFO = "pageInfo { startCursor endCursor hasNextPage hasPreviousPage }"


def page(arguments: str = "", node: str = NODE) -> str:
    arguments = f"({arguments})" if arguments else ""
    return f"""{{
  connectionInfos{arguments} {{
    totalCount {PAGE_INFO}
    edges {{ cursor node {{ {node} }} }}
    nodes {{ id powerKw }}
  }}
}}"""


def cursor(order: str, connection_id: int, power_kw: float | None = None) -> str:
    return encode_cursor(SeekKey(SortOrder(order), connection_id, power_kw))


def site_cursors(order: str) -> st.SearchStrategy[str]:
    """Cursors of `chargePoints`: mostly of the given order (else of another), of demo
    sites or none, DISTANCE ones from Tallinn's centre (refused under another `near`)."""
    orders = [o.value for o in SiteOrder]
    return st.builds(
        lambda chosen, site_id, distance: encode_site_cursor(
            SiteSeekKey(SiteOrder(chosen), site_id, distance if chosen == "DISTANCE" else None),
            TALLINN_NEAR,
        ),
        st.sampled_from([order] * 3 + orders) if order in orders else st.sampled_from(orders),
        st.sampled_from([FIRST, FIRST + 10, FIRST + 700, LAST, 7]),
        st.floats(min_value=0, max_value=600),
    )


TALLINN_NEAR = GeoRadius(59.437, 24.7536, 25)


HISTORY = f"""
query History($id: Int!, $first: Int, $after: String) {{
  connectionInfoHistory(id: $id, first: $first, after: $after) {{
    edges {{ cursor node {{
      id connectionInfoId action actor changedAt __typename
      before {{ {EVERY_SNAPSHOT_FIELD} }} after {{ {EVERY_SNAPSHOT_FIELD} }}
    }} }}
    nodes {{ id action }}
    {PAGE_INFO}
  }}
}}"""
SCALARS_FRAGMENT = f"fragment Scalars on ConnectionInfo {{ {SCALARS} }}"
TYPE_FRAGMENT = "fragment Type on ConnectionType { id title }"
NODE_FRAGMENT = """
fragment Node on ConnectionInfo {
  ...Scalars
  connectionType { ...Type formalName }
  ... on ConnectionInfo { statusType { id ... { title } } }
  ... { level { __typename id } }
}"""
FRAGMENTS = "\n".join([SCALARS_FRAGMENT, TYPE_FRAGMENT, NODE_FRAGMENT]) + "\n"
TWO_OPERATIONS = """
query Ids { connectionInfos(first: 3) { nodes { id } } }
query Types { connectionTypes { id title } }
mutation Delete { deleteConnectionInfo(id: 1) { deletedId } }
"""


@dataclass(frozen=True)
class Case:
    id: str
    query: str
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    outcome: Outcome = Outcome.FAST
    has_errors: bool = False
    """Whether the (standard) response has errors: a check that the case tests what it
    says it does."""


B, N = Outcome.FALLBACK, Outcome.NOT_RUN
ORDERS = ["ID_ASC", "ID_DESC", "POWER_KW_ASC", "POWER_KW_DESC"]

NEAR = "{latitude: 59.437, longitude: 24.7536, radiusKm: 500}"
NEAR_VARIABLE = {"latitude": 59.437, "longitude": 24.7536, "radiusKm": 500}
SITE_FIELDS = EVERY_SITE_FIELD


def sites(arguments: str) -> str:
    """A page of charge points with every field."""
    return (
        f"{{ chargePoints({arguments}) {{ totalCount edges {{ cursor node {{ {SITE_FIELDS} }} }} "
        "pageInfo { startCursor endCursor hasNextPage hasPreviousPage } } }"
    )


CASES = [
    # Pages: sizes, directions, cursors, orders.
    Case("page-default", page()),
    *(Case(f"page-first-{n}", page(f"first: {n}")) for n in (0, 1, 10, 1000)),
    *(Case(f"page-last-{n}", page(f"last: {n}")) for n in (0, 1, 7)),
    *(Case(f"page-order-{order}", page(f"first: 25, orderBy: {order}")) for order in ORDERS),
    *(
        Case(f"page-last-order-{order}", page(f"last: 4, orderBy: {order}", "id powerKw"))
        for order in ORDERS
    ),
    Case("page-after", page(f'first: 5, after: "{cursor("ID_ASC", FIRST + 10)}"')),
    Case("page-before", page(f'last: 5, before: "{cursor("ID_ASC", FIRST + 10)}"')),
    Case(
        "page-after-and-before",
        page(
            f'first: 50, after: "{cursor("ID_ASC", FIRST + 10)}", '
            f'before: "{cursor("ID_ASC", FIRST + 20)}"'
        ),
    ),
    Case(
        "page-after-desc",
        page(f'first: 3, orderBy: ID_DESC, after: "{cursor("ID_DESC", FIRST + 100)}"'),
    ),
    Case(
        "page-after-power",
        page(f'first: 6, orderBy: POWER_KW_DESC, after: "{cursor("POWER_KW_DESC", FIRST, 50.0)}"'),
    ),
    Case(
        "page-before-power-null",
        page(f'last: 6, orderBy: POWER_KW_ASC, before: "{cursor("POWER_KW_ASC", FIRST, None)}"'),
    ),
    Case("page-after-end", page(f'first: 5, after: "{cursor("ID_ASC", LAST)}"')),
    Case("page-before-start", page(f'last: 5, before: "{cursor("ID_ASC", FIRST)}"')),
    # Filters.
    Case("filter-ids", page(f"filter: {{ids: [{FIRST}, {NO_RELATIONS}, {UNKNOWN_TYPE}, -1]}}")),
    Case("filter-empty-ids", page("filter: {ids: []}")),
    Case("filter-types", page("first: 30, filter: {connectionTypeIds: [2, 33]}")),
    Case("filter-status", page("first: 30, filter: {statusTypeIds: [0, 50, 100]}")),
    Case("filter-levels", page("first: 30, filter: {levelIds: [3]}")),
    Case("filter-supply", page("first: 30, filter: {currentTypeIds: [30]}")),
    Case("filter-sites", page(f"filter: {{chargePointIds: [{FIRST}, {FIRST + 1}]}}")),
    Case(
        "filter-power",
        page("first: 40, orderBy: POWER_KW_ASC, filter: {minPowerKw: 7, maxPowerKw: 23}"),
    ),
    Case("filter-operational", page("first: 20, filter: {isOperational: true}")),
    Case("filter-not-operational", page("first: 20, filter: {isOperational: false}")),
    Case("filter-fast", page("last: 20, filter: {isFastChargeCapable: true}")),
    Case("filter-not-fast", page("first: 20, filter: {isFastChargeCapable: false}")),
    Case("filter-nothing", page("filter: {minPowerKw: 5000}")),
    Case("filter-nulls", page("first: 3, filter: {ids: null, minPowerKw: null}, orderBy: null")),
    Case(
        "filter-all",
        page(
            "first: 10, orderBy: POWER_KW_DESC, filter: {connectionTypeIds: [25, 33], "
            "statusTypeIds: [50], levelIds: [2, 3], currentTypeIds: [20, 30], "
            "minPowerKw: 11, isOperational: true, isFastChargeCapable: true}"
        ),
    ),
    # Only some of a page's fields (each fetched only when asked for).
    Case("page-count-only", "{ connectionInfos { totalCount } }"),
    Case("page-info-only", f"{{ connectionInfos(first: 2) {{ {PAGE_INFO} }} }}"),
    Case(
        "page-empty-info", f"{{ connectionInfos(first: 0) {{ {PAGE_INFO} edges {{ cursor }} }} }}"
    ),
    # Nulls.
    Case("null-relations", f"{{ connectionInfo(id: {NO_RELATIONS}) {{ {NODE} }} }}"),
    Case("dangling-relation", f"{{ connectionInfo(id: {UNKNOWN_TYPE}) {{ {NODE} }} }}"),
    Case("unknown-id", f"{{ connectionInfo(id: -1) {{ {NODE} }} }}"),
    Case("deleted-id", f"{{ connectionInfo(id: {DELETED}) {{ id }} }}"),
    Case(
        "lookups",
        f"""{{ a: connectionInfo(id: {FIRST}) {{ id }} b: connectionInfo(id: 0) {{ id }}
        c: connectionInfo(id: {FIRST}) {{ powerKw }}
        connectionType(id: 25) {{ {TYPE} }} statusType(id: 0) {{ {STATUS} }}
        level(id: 3) {{ {LEVEL} }} currentType(id: 30) {{ {SUPPLY} }}
        x: connectionType(id: 12345) {{ id }} y: statusType(id: -1) {{ id }}
        z: level(id: 0) {{ id }} w: currentType(id: 2147483647) {{ id }} }}""",
    ),
    # Reference lists.
    Case(
        "reference-lists",
        f"{{ connectionTypes {{ {TYPE} }} statusTypes {{ {STATUS} }} levels {{ {LEVEL} }} "
        f"currentTypes {{ {SUPPLY} }} }}",
    ),
    Case("reference-list-typename", "{ levels { __typename t: __typename id } }"),
    # Aliases.
    Case(
        "alias-pages",
        """{ a: connectionInfos(first: 2) { nodes { id } }
             b: connectionInfos(first: 3, orderBy: ID_DESC) { nodes { id } totalCount }
             c: connectionInfos(last: 1, filter: {levelIds: [1]}) {
               n: nodes { i: id p: powerKw } } }""",
    ),
    Case(
        "alias-relations",
        """{ connectionInfos(first: 30) { nodes {
             id ct: connectionType { id } t2: connectionType { t: title id }
             s: statusType { operational: isOperational } level { id }
             also: level { fast: isFastChargeCapable } id2: id powerKw kw: powerKw } } }""",
    ),
    Case(
        "alias-swaps-names",
        """{ connectionInfos(first: 5) { nodes {
             id: chargePointId chargePointId: id
             level: statusType { title: id id: title }
             statusType: level { id } } } }""",
    ),
    # Fragments.
    Case(
        "fragments-nested",
        FRAGMENTS
        + "{ connectionInfos(first: 15) { edges { node { ...Node } } nodes { ...Node id } } }",
    ),
    Case(
        "fragment-spread-twice",
        SCALARS_FRAGMENT + "{ connectionInfos(first: 4) { nodes { ...Scalars ...Scalars id } } }",
    ),
    Case(
        "fragment-across-levels",
        TYPE_FRAGMENT
        + "{ connectionType(id: 2) { ...Type } connectionTypes { ...Type isObsolete } "
        "connectionInfos(first: 5) { nodes { connectionType { ...Type } } } }",
    ),
    Case(
        "inline-fragments",
        """{ ... on Query { connectionInfos(first: 3) { ... { nodes { ... on ConnectionInfo {
             id ... { level { ... on LevelType { id } } } } } } } }
             ... { levels { title } } }""",
    ),
    Case(
        "fragment-on-root",
        "fragment Root on Query { levels { id } } { ...Root ... on Query { ...Root } }",
    ),
    # Response keys merged from several selections.
    Case(
        "merged-relation",
        "{ connectionInfos(first: 30) { nodes { a: connectionType { id } "
        "a: connectionType { title } connectionType { id } connectionType { isObsolete } } } }",
    ),
    Case(
        "merged-root",
        "{ connectionInfos(first: 3) { nodes { id } } connectionInfos(first: 3) { totalCount } "
        "connectionInfos(first: 3) { edges { cursor } edges { node { id } } } }",
    ),
    Case(
        "merged-through-fragments",
        """fragment A on ConnectionInfo { level { id } amps }
           fragment B on ConnectionInfo { level { title } id amps }
           { connectionInfos(first: 20) { nodes { powerKw ...A ...B level { id } } } }""",
    ),
    Case(
        "merged-partly-skipped",
        "{ levels { id @include(if: false) title id @skip(if: false) title @skip(if: true) } }",
    ),
    Case(
        "spread-skipped-then-included",
        TYPE_FRAGMENT + "{ connectionTypes { ...Type @skip(if: true) isObsolete ...Type } }",
    ),
    # __typename.
    Case(
        "typename-everywhere",
        """{ __typename connectionInfos(first: 4) { __typename totalCount
             pageInfo { __typename hasNextPage }
             edges { __typename node { __typename id connectionType { __typename id }
               statusType { __typename } level { __typename } currentType { __typename } } }
             nodes { t: __typename } } }""",
    ),
    Case("typename-only", "{ __typename }"),
    Case("typename-aliased", "{ a: __typename b: __typename __typename }"),
    # @include and @skip, literal.
    Case(
        "directives-literal",
        """{ connectionInfos(first: 3) {
             totalCount @skip(if: true) nodes { id @include(if: true) powerKw @include(if: false)
               level @skip(if: false) { id }
               ... @skip(if: true) { amps } ... @include(if: true) { voltage } } } }""",
    ),
    Case(
        "directives-on-spreads",
        FRAGMENTS + "{ connectionInfos(first: 3) { nodes { id ...Scalars @skip(if: true) "
        "...Node @include(if: false) } } }",
    ),
    Case(
        "directives-skip-and-include",
        "{ levels { id @skip(if: false) @include(if: true) title @skip(if: true) @include(if: "
        "true) comments @skip(if: false) @include(if: false) } }",
    ),
    Case("directives-everything-skipped", "{ levels { id @skip(if: true) } }"),
    # @include and @skip with variables: both values, defaults, missing ones.
    *(
        Case(
            f"directives-variables-{a}-{b}",
            """query ($a: Boolean!, $b: Boolean = true) { connectionInfos(first: 4) {
                 totalCount @include(if: $a) nodes { id level @skip(if: $b) { id }
                   ... on ConnectionInfo @include(if: $b) { powerKw }
                   connectionType @include(if: $a) { id title @skip(if: $a) } } } }""",
            {"a": a} if b is None else {"a": a, "b": b},
        )
        for a, b in itertools.product([True, False], [True, False, None])
    ),
    Case(
        "directives-variable-default-false",
        "query ($skip: Boolean = false) { levels { id @skip(if: $skip) title } }",
    ),
    # Variables.
    Case(
        "variables-all",
        """query Page($first: Int, $after: String, $filter: ConnectionInfoFilter,
                     $order: ConnectionInfoOrder) {
             connectionInfos(first: $first, after: $after, filter: $filter, orderBy: $order) {
               totalCount nodes { id powerKw level { id } } } }""",
        {
            "first": 7,
            "after": cursor("POWER_KW_ASC", FIRST + 3, 7.4),
            "filter": {"minPowerKw": 3.5, "statusTypeIds": [50, 0], "isOperational": None},
            "order": "POWER_KW_ASC",
        },
    ),
    Case(
        "variables-defaults",
        """query ($first: Int = 3, $order: ConnectionInfoOrder = ID_DESC,
                  $filter: ConnectionInfoFilter = {levelIds: [2]}) {
             connectionInfos(first: $first, orderBy: $order, filter: $filter) { nodes { id } } }""",
    ),
    Case(
        "variables-null-overrides-default",
        """query ($first: Int = 3, $order: ConnectionInfoOrder = ID_DESC) {
             connectionInfos(first: $first, orderBy: $order) { nodes { id } } }""",
        {"first": None, "order": None},
    ),
    Case(
        "variables-missing-optional",
        """query ($first: Int, $after: String, $last: Int, $before: String) {
             connectionInfos(first: $first, after: $after, last: $last, before: $before) {
               nodes { id } } }""",
        {},
    ),
    Case(
        "variables-in-lists",
        """query ($id: Int!, $other: Int!) {
             connectionInfos(filter: {ids: [$id, $other, 5]}) { nodes { id } }
             connectionInfo(id: $id) { id } }""",
        {"id": FIRST, "other": LAST},
    ),
    Case(
        "variables-coerced",
        "query ($ids: [Int!], $min: Float) "
        "{ connectionInfos(filter: {ids: $ids, minPowerKw: $min}) { nodes { id } } }",
        {"ids": FIRST, "min": 7},  # a single value for a list; an Int for a Float
    ),
    Case("variables-extra-ignored", "{ levels { id } }", {"unused": 1}),
    # Operation selection.
    Case("operation-first", TWO_OPERATIONS, operation_name="Ids"),
    Case("operation-second", TWO_OPERATIONS, operation_name="Types"),
    # Mutations go through the fast executor, which hands them to graphql-core at once.
    Case("operation-mutation", TWO_OPERATIONS, None, "Delete", B, has_errors=True),
    # Strawberry runs the first operation when none is named.
    Case("operation-missing", TWO_OPERATIONS),
    Case("operation-unknown", TWO_OPERATIONS, None, "Nope", N, has_errors=True),
    Case("operation-named-single", "query Only { levels { id } }", operation_name="Only"),
    # The change log: an enum, a custom scalar, nullable objects, its own cursors.
    Case("history", HISTORY, {"id": EDITED}),
    Case("history-deleted", HISTORY, {"id": DELETED}),
    Case("history-first-1", HISTORY, {"id": EDITED, "first": 1}),
    Case(
        "history-after",
        HISTORY,
        {"id": EDITED, "first": 1, "after": encode_change_cursor(3)},
    ),
    Case("history-none", HISTORY, {"id": FIRST}),
    Case("history-bad-cursor", HISTORY, {"id": EDITED, "after": "nope"}, None, B, True),
    Case("history-first-too-many", HISTORY, {"id": EDITED, "first": 5000}, None, B, True),
    # Federation: `_entities` returns a union, whose objects are grouped by the type the
    # union's resolver gives; a malformed representation is an error in place (graphql-core
    # reports it); `_service`.
    Case(
        "entities",
        f"""{{ _entities(representations: [
             {{__typename: "ConnectionInfo", id: {FIRST}}}, {{__typename: "LevelType", id: 3}},
             {{__typename: "ConnectionType", id: 25}}, {{__typename: "LevelType", id: 99}},
             {{__typename: "ConnectionInfo", id: -1}}, {{__typename: "StatusType", id: 50}},
             {{__typename: "SupplyType", id: 30}}, {{__typename: "ConnectionInfo", id: {LAST}}},
             {{__typename: "ConnectionInfo", id: {NO_RELATIONS}}}]) {{
           __typename ... on _Entity {{ kind: __typename }}
           ... on ConnectionInfo {{ id powerKw level {{ id }} ...Scalars }}
           ... on ConnectionType {{ id title }} ... on SupplyType {{ id }}
           ... on LevelType {{ id isFastChargeCapable }} }} }}
           fragment Scalars on ConnectionInfo {{ {SCALARS} currentType {{ {SUPPLY} }} }}""",
    ),
    Case(
        "entities-variables",
        """query E($r: [_Any!]!) { _entities(representations: $r) {
             ... on ConnectionInfo { id statusType { title } } } }""",
        {"r": [{"__typename": "ConnectionInfo", "id": i} for i in (LAST, FIRST, FIRST, -1)]},
    ),
    Case("entities-none", "{ _entities(representations: []) { __typename } }"),
    Case(
        "entities-malformed",
        f"""{{ _entities(representations: [
             {{__typename: "ConnectionInfo", id: {FIRST}}},
             {{__typename: "ConnectionType", id: 25}}, {{__typename: "LevelType", id: 99}},
             {{__typename: "StatusType", id: "x"}}, {{__typename: "SupplyType", id: 30}}]) {{
           __typename ... on ConnectionInfo {{ id powerKw level {{ id }} }}
           ... on ConnectionType {{ id title }} ... on SupplyType {{ id }} }} }}""",
        outcome=B,
        has_errors=True,
    ),
    Case("service", "{ _service { sdl } }"),
    # Introspection beyond __typename runs on graphql-core.
    Case("introspection", '{ __type(name: "LevelType") { name fields { name } } }', outcome=B),
    Case("introspection-schema", "{ __schema { queryType { name } } levels { id } }", outcome=B),
    # Errors in arguments: the fast path gives up, graphql-core reports them.
    Case("error-bad-cursor", page('first: 3, after: "not a cursor"'), outcome=B, has_errors=True),
    Case(
        "error-cursor-of-other-order",
        page(f'first: 3, orderBy: POWER_KW_ASC, after: "{cursor("ID_ASC", FIRST)}"'),
        outcome=B,
        has_errors=True,
    ),
    Case("error-first-too-large", page("first: 1001"), outcome=B, has_errors=True),
    Case("error-first-negative", page("first: -1"), outcome=B, has_errors=True),
    Case("error-last-too-large", page("last: 5000"), outcome=B, has_errors=True),
    Case("error-first-and-last", page("first: 1, last: 1"), outcome=B, has_errors=True),
    Case(
        "error-one-of-several",
        """{ levels { id } bad: connectionInfos(first: 2000) { totalCount }
              good: connectionInfos(first: 2) { nodes { id } } }""",
        outcome=B,
        has_errors=True,
    ),
    Case(
        "error-in-variable-value",
        "query ($after: String) { connectionInfos(after: $after) { totalCount } }",
        {"after": "bad"},
        outcome=B,
        has_errors=True,
    ),
    # Errors in variables: the fast path finds them while coercing and hands over to
    # graphql-core, which reports them (nothing runs).
    Case(
        "variables-unknown-enum",
        "query ($order: ConnectionInfoOrder) { connectionInfos(orderBy: $order) { totalCount } }",
        {"order": "SIDEWAYS"},
        outcome=B,
        has_errors=True,
    ),
    Case(
        "variables-wrong-type",
        "query ($first: Int) { connectionInfos(first: $first) { totalCount } }",
        {"first": "ten"},
        outcome=B,
        has_errors=True,
    ),
    Case(
        "variables-float-for-int",
        "query ($first: Int) { connectionInfos(first: $first) { totalCount } }",
        {"first": 1.5},
        outcome=B,
        has_errors=True,
    ),
    Case(
        "variables-missing-required",
        "query ($id: Int!) { connectionInfo(id: $id) { id } }",
        {},
        outcome=B,
        has_errors=True,
    ),
    Case(
        "variables-null-for-non-null",
        "query ($a: Boolean!) { levels { id @include(if: $a) } }",
        {"a": None},
        outcome=B,
        has_errors=True,
    ),
    Case(
        "variables-wrong-input-field",
        "query ($f: ConnectionInfoFilter) { connectionInfos(filter: $f) { totalCount } }",
        {"f": {"ids": ["x"], "nope": 1}},
        outcome=B,
        has_errors=True,
    ),
    Case(
        "variables-int-out-of-range",
        "query ($id: Int!) { connectionInfo(id: $id) { id } }",
        {"id": 2**31},
        outcome=B,
        has_errors=True,
    ),
    # Documents that never run.
    Case("invalid-field", "{ levels { id nope } }", outcome=N, has_errors=True),
    Case("syntax-error", "{ levels { id }", outcome=N, has_errors=True),
    # Charge points: pages by id and by distance, map boxes, filters, lookups, the site of
    # a connection, the new reference lists and entities, and bad arguments.
    Case("sites-page", sites("first: 10")),
    Case("sites-last", sites("last: 3, orderBy: ID_DESC")),
    Case("sites-near", sites(f"first: 15, near: {NEAR}, orderBy: DISTANCE")),
    Case("sites-near-by-id", sites(f"last: 5, near: {NEAR}")),
    Case("sites-within", sites("first: 20, within: {south: -90, west: 170, north: 90, east: 10}")),
    Case(
        "sites-filtered",
        sites(
            'first: 20, filter: {includeUnpublished: true, countryCodes: ["ee", "GB"], '
            "connections: {minPowerKw: 22}}"
        ),
    ),
    Case(
        "sites-variables",
        """query ($near: GeoRadius, $first: Int) {
          chargePoints(first: $first, near: $near, orderBy: DISTANCE) {
            edges { cursor node { id distanceKm connections(filter: {minPowerKw: 50}) { id } } }
          } }""",
        {"near": NEAR_VARIABLE, "first": 30},
    ),
    Case(
        "site-lookups",
        f"{{ a: chargePoint(id: {FIRST}) {{ {SITE_FIELDS} }} "
        "b: chargePoint(id: 7) { id } operator(id: 5) { title } usageType(id: 4) { title } "
        "country(id: 74) { isoCode } }",
    ),
    Case(
        "site-of-connections",
        "{ connectionInfos(first: 30) { nodes { id chargePoint { id title "
        "operator { title } address { town country { isoCode } } } } } }",
    ),
    Case(
        "site-reference-lists",
        "{ operators { id title websiteUrl isPrivateIndividual } "
        "usageTypes { id title isPayAtLocation } countries { id isoCode continentCode title } }",
    ),
    Case(
        "site-entities",
        """query ($r: [_Any!]!) { _entities(representations: $r) { __typename
          ... on ChargePoint { id title connections { id } }
          ... on Operator { id title } ... on Country { isoCode } } }""",
        {
            "r": [
                {"__typename": "ChargePoint", "id": FIRST},
                {"__typename": "ChargePoint", "id": 7},
                {"__typename": "Operator", "id": 5},
                {"__typename": "Country", "id": 74},
            ]
        },
    ),
    # ChargePoint.connections, asked for a whole level of sites at once: without a filter,
    # with null, empty and real ones (aliases of one filter share its loader), given
    # inline or as a variable, and for sites reached through their connections (a level
    # holding one site many times).
    Case(
        "site-connections-filters",
        f"""{{ chargePoints(first: 40, filter: {{includeUnpublished: true}}) {{ nodes {{ id
          all: connections {{ {SCALARS} connectionType {{ {TYPE} }} level {{ {LEVEL} }} }}
          none: connections(filter: null) {{ id }}
          empty: connections(filter: {{}}) {{ id powerKw }}
          fast: connections(filter: {{minPowerKw: 50}}) {{ id powerKw chargePoint {{ id }} }}
          fast2: connections(filter: {{minPowerKw: 50.0}}) {{ id }}
          typed: connections(filter: {{connectionTypeIds: [25, 1036, 33], isOperational: true,
            ids: [{FIRST}, {FIRST + 1}, {FIRST + 2}, {FIRST + 40}]}}) {{ id }}
          nothing: connections(filter: {{ids: []}}) {{ id }} }} }} }}""",
    ),
    Case(
        "site-connections-variable",
        """query ($f: ConnectionInfoFilter, $near: GeoRadius) {
          chargePoints(first: 30, near: $near, orderBy: DISTANCE) {
            edges { cursor node { id distanceKm connections(filter: $f) { id powerKw
              statusType { title } } } } } }""",
        {"f": {"maxPowerKw": 22, "isFastChargeCapable": False}, "near": NEAR_VARIABLE},
    ),
    Case(
        "site-connections-null-variable",
        """query ($f: ConnectionInfoFilter) { chargePoints(last: 7) {
          nodes { id connections(filter: $f) { id } } } }""",
        {"f": None},
    ),
    Case(
        "site-connections-of-connections",
        f"""{{ connectionInfos(first: 60, filter: {{chargePointIds: [{FIRST}, {FIRST + 1},
          {FIRST + 2}, {FIRST + 3}, {FIRST + 4}]}}) {{ nodes {{ id chargePoint {{ id
            connections {{ id }} strong: connections(filter: {{minPowerKw: 22}}) {{ id }} }} }} }}
          chargePoint(id: {FIRST}) {{ id connections {{ id }} }} }}""",
    ),
    Case("sites-distance-without-near", sites("orderBy: DISTANCE"), outcome=B, has_errors=True),
    Case(
        "sites-bad-radius",
        sites("near: {latitude: 59, longitude: 24, radiusKm: 501}"),
        outcome=B,
        has_errors=True,
    ),
    Case(
        "sites-connection-cursor",
        sites(f'first: 2, after: "{cursor("ID_ASC", FIRST)}"'),
        outcome=B,
        has_errors=True,
    ),
]
assert len({case.id for case in CASES}) == len(CASES)


# A resolver that fails stops its level: the coroutines of its siblings are closed, not
# left unawaited (Python would warn as they go).
@pytest.mark.filterwarnings("error:coroutine .* was never awaited:RuntimeWarning")
@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_hand_written(api: Api, case: Case) -> None:
    outcome, standard = await differ(api, case.query, case.variables, case.operation_name)
    gc.collect()
    assert outcome is case.outcome
    assert standard.failed is case.has_errors, standard


BROKEN_CASES = [
    # A non-null Int! that cannot be serialized nulls its way up through the non-null
    # node, edge list and page, so `data` is null.
    Case("non-null-id", page("last: 2"), None, None, B, True),
    Case("non-null-id-desc", page("first: 2, orderBy: ID_DESC", "id"), None, None, B, True),
    # Nullable fields that cannot be serialized: null, with an error each.
    Case(
        "nullable-unserializable",
        page(f"first: 5, filter: {{ids: [{FIRST}, {FIRST + 1}, {FIRST + 2}, {FIRST + 3}]}}"),
        None,
        None,
        B,
        True,
    ),
    Case(
        "nullable-float-for-int",
        f"{{ connectionInfo(id: {FIRST}) {{ id amps }} }}",
        None,
        None,
        B,
        True,
    ),
    Case("nullable-converted", f"{{ connectionInfo(id: {FIRST + 4}) {{ id quantity }} }}"),
    Case("broken-reference-list", "{ connectionTypes { id title } }", None, None, B, True),
    Case(
        "broken-shared-relation",
        f"{{ connectionInfos(filter: {{ids: [{FIRST + 5}, {FIRST + 6}, {FIRST + 8}]}}) "
        "{ nodes { id connectionType { id } } } }",
        None,
        None,
        B,
        True,
    ),
    Case(
        "broken-relation-unselected-id",
        f"{{ connectionInfos(filter: {{ids: [{FIRST + 5}, {FIRST + 6}, {FIRST + 8}]}}) "
        "{ nodes { id connectionType { title } } } }",
    ),
    Case("string-for-boolean", "{ statusTypes { id isUserSelectable } }"),
    Case(
        "edges-of-ranges",
        f"{{ connectionInfos(filter: {{ids: [{FIRST + 20}, {FIRST + 21}]}}) "
        "{ nodes { id voltage amps } } }",
    ),
]


# When a value cannot be completed, the fast path gives up with the coroutines of columns
# nested in its sibling columns never started; Python warns about each. Only broken data
# gets there (a failing resolver's siblings are closed: see test_hand_written).
@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
@pytest.mark.parametrize("case", BROKEN_CASES, ids=[case.id for case in BROKEN_CASES])
@sqlite_only
async def test_broken_values(broken: Api, case: Case) -> None:
    outcome, standard = await differ(broken, case.query, case.variables, case.operation_name)
    gc.collect()  # the warnings above come when the coroutines go: here, not in later tests
    assert outcome is case.outcome
    assert standard.failed is case.has_errors, standard


class _LostReferences(ReferenceCache):
    """Reference lists that cannot be read (the database went away)."""

    def cached(self, kind: ReferenceKind) -> None:
        return None

    async def table(self, kind: ReferenceKind) -> dict[int, ReferenceRecord]:
        raise sqlite3.OperationalError("disk I/O error")


@dataclass
class _LostApi(Api):
    def fresh_references(self) -> ReferenceCache:
        return _LostReferences(self.repository)


LOST_CASES = [
    Case("lost-relations", page("first: 3"), outcome=B, has_errors=True),
    Case("lost-relation-lookup", "{ connectionType(id: 25) { id } }", outcome=B, has_errors=True),
    Case("lost-reference-list", "{ levels { id } }", outcome=B, has_errors=True),
    Case("lost-but-unused", "{ connectionInfos(first: 3) { nodes { id } } }"),
]


@pytest.mark.parametrize("case", LOST_CASES, ids=[case.id for case in LOST_CASES])
async def test_failing_reference_lists(api: Api, case: Case) -> None:
    """Resolvers failing unexpectedly (here: the batched relations, their DataLoaders, and
    the reference lists) are errors in place, with partial data, on both executors."""
    lost = _LostApi(api.repository, api.settings, _LostReferences(api.repository))
    outcome, standard = await differ(lost, case.query, case.variables, case.operation_name)
    assert outcome is case.outcome
    assert standard.failed is case.has_errors, standard


WALK = f"""query Walk($first: Int, $after: String, $last: Int, $before: String,
                      $order: ConnectionInfoOrder) {{
  connectionInfos(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {{
    totalCount {PAGE_INFO} edges {{ cursor node {{ {NODE} }} }}
  }}
}}"""


@pytest.mark.parametrize("order", ORDERS)
async def test_real_data(ocm_db: str, order: str) -> None:
    """Every connection of the OCM sample (../shared/ocm), every order, forward and
    backward in pages of 100."""
    async with graphql_runner(ocm_db) as runner:
        real = Api(runner.repository, runner.settings, runner.references)
        for forward in (True, False):
            variables: dict[str, Any] = {"order": order, "first" if forward else "last": 100}
            seen = 0
            while True:
                outcome, standard = await differ(real, WALK, variables)
                assert outcome is Outcome.FAST
                assert standard.result is not None
                assert standard.result.data is not None
                connections = standard.result.data["connectionInfos"]
                seen += len(connections["edges"])
                info = connections["pageInfo"]
                if not info["hasNextPage" if forward else "hasPreviousPage"]:
                    break
                variables["after" if forward else "before"] = info[
                    "endCursor" if forward else "startCursor"
                ]
            assert seen == connections["totalCount"] > 0


async def test_plans_are_cached_per_directive_values(api: Api) -> None:
    """One document, run with alternating @include/@skip variables (its plan is cached
    per their values) and other variables."""
    query = """query ($a: Boolean!, $first: Int) { connectionInfos(first: $first) {
                 nodes { id powerKw @include(if: $a) level @skip(if: $a) { id } } } }"""
    for a, first in [(True, 2), (False, 2), (True, 3), (False, 0), (True, None)]:
        outcome, _ = await differ(api, query, {"a": a, "first": first})
        assert outcome is Outcome.FAST


async def test_site_connections_are_asked_once_per_level_and_filter(api: Api) -> None:
    """The fast path asks the connections of a level's sites from their DataLoader at
    once, per filter; graphql-core's executor asks once per site and filter. Both read
    them in one statement per filter."""
    query = """{ chargePoints(first: 40) { nodes { id connections { id }
                 strong: connections(filter: {minPowerKw: 22}) { id } } } }"""
    asked = Counter[bool]()
    ask = Loaders.connections_of_sites

    def counted(loaders: Loaders, filter: ConnectionFilter | None = None) -> Any:
        asked[fast] += 1
        return ask(loaders, filter)

    with patch.object(Loaders, "connections_of_sites", counted):
        for fast in (True, False):
            run = await _run(api, query, None, None, fast=fast, cold=False)
            assert run.outcome is (Outcome.FAST if fast else Outcome.FALLBACK)
            assert run.result is not None
            assert run.result.errors is None
    assert asked == {True: 2, False: 2 * 40}


# -- generated queries --------------------------------------------------------------------

QUERY_TYPE = schema._schema.query_type
assert QUERY_TYPE is not None
QUERY_FIELDS = sorted(set(QUERY_TYPE.fields) - {"_entities", "_service"})
GENERATED = queries(public_sdl(), fields=QUERY_FIELDS, print_ast=lambda document: document)

CONNECTION_IDS = [FIRST, FIRST + 1, NO_RELATIONS, UNKNOWN_TYPE, EDITED, DELETED, LAST, -1, 0]
REFERENCE_IDS = [0, 1, 2, 3, 10, 20, 25, 30, 33, 50, 75, 100, 1036, 9999]
USEFUL_INTS: dict[str, list[int]] = {
    "first": [0, 1, 2, 3, 5, 20, 1000, 1001, -1],
    "last": [0, 1, 2, 3, 5, 20, 1000, 1001, -1],
    "id": CONNECTION_IDS + REFERENCE_IDS,
    "ids": CONNECTION_IDS,
    "chargePointIds": CONNECTION_IDS,
    "connectionTypeIds": REFERENCE_IDS,
    "statusTypeIds": REFERENCE_IDS,
    "levelIds": REFERENCE_IDS,
    "currentTypeIds": REFERENCE_IDS,
}
USEFUL_FLOATS = [0.0, 2.3, 7.4, 22.0, 50.0, 150.5, 1e308, -1.0]
SEEK_CURSOR_KEYS = st.tuples(
    st.sampled_from(CONNECTION_IDS), st.sampled_from([None, 0.0, 7.4, 22.0, 50.0])
)
CHANGE_CURSORS = st.integers(0, 6).map(encode_change_cursor)
JUNK_CURSORS = st.sampled_from(["", "nope", "change:x", "djE6SURfQVNDOjE"])


@dataclass
class Generated:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None


@dataclass
class _Rewrite:
    """Rewrites a generated document at random, keeping it valid."""

    draw: st.DrawFn
    variables: dict[str, Any] = field(default_factory=dict)
    definitions: list[VariableDefinitionNode] = field(default_factory=list)
    fragments: list[FragmentDefinitionNode] = field(default_factory=list)
    names: Iterator[int] = field(default_factory=itertools.count)

    def chance(self, tenths: int) -> bool:
        return self.draw(st.integers(0, 9)) < tenths

    def fresh(self, prefix: str) -> str:
        return f"{prefix}{next(self.names)}"

    def document(self, generated: DocumentNode) -> Generated:
        (operation,) = generated.definitions
        assert isinstance(operation, OperationDefinitionNode)
        assert QUERY_TYPE is not None
        selection_set = self.selection_set(operation.selection_set, QUERY_TYPE)
        name = "Generated" if self.chance(3) else None
        others: list[OperationDefinitionNode] = []
        if name and self.chance(3):
            others.append(
                OperationDefinitionNode(
                    operation=self.draw(
                        st.sampled_from([OperationType.QUERY, OperationType.MUTATION])
                    ),
                    name=NameNode(value="Other"),
                    variable_definitions=(),
                    directives=(),
                    selection_set=SelectionSetNode(
                        selections=(FieldNode(name=NameNode(value="__typename")),)
                    ),
                )
            )
        main = OperationDefinitionNode(
            operation=OperationType.QUERY,
            name=NameNode(value=name) if name else None,
            variable_definitions=tuple(self.definitions),
            directives=(),
            selection_set=selection_set,
        )
        operations = [*others, main] if self.chance(5) else [main, *others]
        document = DocumentNode(definitions=(*operations, *self.fragments))
        operation_name = name if others or (name and self.chance(5)) else None
        return Generated(graphql.print_ast(document), self.variables or None, operation_name)

    def selection_set(self, node: SelectionSetNode, parent: GraphQLObjectType) -> SelectionSetNode:
        selections: list[SelectionNode] = []
        for selection in node.selections:
            assert isinstance(selection, FieldNode)  # no unions or interfaces in Query
            rewritten = self.field(selection, parent)
            selections.append(rewritten)
            if self.chance(1):  # the same field again, merged under its key
                selections.append(rewritten)
            if self.chance(1):  # a twin under an alias, with arguments of its own
                selections.append(self.field(selection, parent, self.fresh("twin")))
        if self.chance(2):
            alias = NameNode(value=self.fresh("t")) if self.chance(3) else None
            typename = FieldNode(alias=alias, name=NameNode(value="__typename"))
            selections.insert(self.draw(st.integers(0, len(selections))), typename)
        for _ in range(2):
            if self.chance(3):
                start = self.draw(st.integers(0, len(selections) - 1))
                end = self.draw(st.integers(start + 1, len(selections)))
                selections[start:end] = self.fragment(selections[start:end], parent)
        return SelectionSetNode(selections=tuple(selections))

    def fragment(
        self, chunk: list[SelectionNode], parent: GraphQLObjectType
    ) -> list[SelectionNode]:
        inner = SelectionSetNode(selections=tuple(chunk))
        condition = NamedTypeNode(name=NameNode(value=parent.name))
        if self.chance(5):
            return [
                InlineFragmentNode(
                    type_condition=condition if self.chance(5) else None,
                    directives=self.directives(),
                    selection_set=inner,
                )
            ]
        name = self.fresh("F")
        self.fragments.append(
            FragmentDefinitionNode(
                name=NameNode(value=name),
                type_condition=condition,
                variable_definitions=None,
                directives=(),
                selection_set=inner,
            )
        )
        return [
            FragmentSpreadNode(name=NameNode(value=name), directives=self.directives())
            for _ in range(2 if self.chance(2) else 1)
        ]

    def field(
        self, node: FieldNode, parent: GraphQLObjectType, alias: str | None = None
    ) -> FieldNode:
        definition = parent.fields[node.name.value]
        given = list(node.arguments or ())
        names = {argument.name.value for argument in given}
        if {"first", "last"} <= names and self.chance(8):  # mostly not both (an error)
            dropped = self.draw(st.sampled_from(["first", "last"]))
            given = [argument for argument in given if argument.name.value != dropped]
        order = next(
            (
                argument.value.value
                for argument in given
                if argument.name.value == "orderBy" and isinstance(argument.value, EnumValueNode)
            ),
            "ID_ASC",
        )
        arguments = []
        for argument in given:
            name = argument.name.value
            if name in ("after", "before") and isinstance(argument.value, StringValueNode):
                value: ValueNode = self.cursor(argument.value, node.name.value, order)
            else:
                value = self.value(argument.value, name)
            if self.chance(3):
                value = self.variable(value, definition.args[name].type)
            arguments.append(ArgumentNode(name=argument.name, value=value))
        selection_set = None
        if node.selection_set is not None:
            child = graphql.get_named_type(definition.type)
            assert isinstance(child, GraphQLObjectType)
            selection_set = self.selection_set(node.selection_set, child)
        if alias is None and self.chance(1):
            alias = self.fresh("a")
        return FieldNode(
            alias=NameNode(value=alias) if alias else node.alias,
            name=node.name,
            arguments=tuple(arguments),
            directives=self.directives(),
            selection_set=selection_set,
        )

    def cursor(self, literal: StringValueNode, field_name: str, order: str) -> StringValueNode:
        """Mostly a cursor of the right kind (and order), now and then junk or one made
        for another order, sometimes hypothesis' own string."""
        if self.chance(1):
            return literal
        if self.chance(1):
            return StringValueNode(value=self.draw(JUNK_CURSORS))
        if field_name == "connectionInfoHistory":
            return StringValueNode(value=self.draw(CHANGE_CURSORS))
        if field_name == "chargePoints":
            return StringValueNode(value=self.draw(site_cursors(order)))
        if self.chance(1):
            order = self.draw(st.sampled_from(ORDERS))
        connection_id, power_kw = self.draw(SEEK_CURSOR_KEYS)
        return StringValueNode(value=cursor(order, connection_id, power_kw))

    def value(self, node: ValueNode, name: str) -> ValueNode:
        """Literals now and then swapped for ones that hit data or the limits."""
        if isinstance(node, IntValueNode) and self.chance(6):
            useful = USEFUL_INTS.get(name, [0, 1, 2, 3])
            return IntValueNode(value=str(self.draw(st.sampled_from(useful))))
        if isinstance(node, FloatValueNode) and self.chance(6):
            return FloatValueNode(value=repr(self.draw(st.sampled_from(USEFUL_FLOATS))))
        if isinstance(node, ListValueNode):
            return ListValueNode(values=tuple(self.value(item, name) for item in node.values))
        if isinstance(node, ObjectValueNode):
            return ObjectValueNode(
                fields=tuple(
                    ObjectFieldNode(name=item.name, value=self.value(item.value, item.name.value))
                    for item in node.fields
                )
            )
        return node

    def variable(self, literal: ValueNode, type_: Any) -> VariableNode:
        """A variable in place of a literal: given, or its default, or a default
        overridden (with null where that is allowed), or now and then a wrong value."""
        name = self.fresh("v")
        value = graphql.value_from_ast_untyped(literal)
        how = self.draw(st.sampled_from(["given", "given", "default", "override", "wrong"]))
        if isinstance(literal, NullValueNode) and how in ("default", "override"):
            how = "given"
        default = literal if how in ("default", "override") else None
        if how == "given":
            self.variables[name] = value
        elif how == "override":
            self.variables[name] = value if isinstance(type_, GraphQLNonNull) else None
        elif how == "wrong" and self.chance(1):
            self.variables[name] = self.draw(st.sampled_from(["x", 1.5, {"a": 1}, [[1]], True]))
        else:
            self.variables[name] = value
        self.definitions.append(
            VariableDefinitionNode(
                variable=VariableNode(name=NameNode(value=name)),
                type=graphql.parse_type(str(type_)),
                default_value=default,
                directives=(),
            )
        )
        return VariableNode(name=NameNode(value=name))

    def directives(self) -> tuple[DirectiveNode, ...]:
        if not self.chance(2):
            return ()
        condition: ValueNode
        if self.chance(5):
            condition = BooleanValueNode(value=self.draw(st.booleans()))
        else:
            condition = self.variable(
                BooleanValueNode(value=self.draw(st.booleans())),
                GraphQLNonNull(graphql.GraphQLBoolean),
            )
        return (
            DirectiveNode(
                name=NameNode(value=self.draw(st.sampled_from(["include", "skip"]))),
                arguments=(ArgumentNode(name=NameNode(value="if"), value=condition),),
            ),
        )


@st.composite
def generated_operations(draw: st.DrawFn) -> Generated:
    return _Rewrite(draw).document(draw(GENERATED))


TALLY = Counter[Outcome]()


@pytest.fixture(scope="module", autouse=True)
def _print_tally(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if TALLY:
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        line = (
            f"differential: {sum(TALLY.values())} generated queries: "
            f"{TALLY[Outcome.FAST]} fast path, {TALLY[Outcome.FALLBACK]} fell back, "
            f"{TALLY[Outcome.NOT_RUN]} refused before execution"
        )
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        if reporter is None or capture is None:
            print(line)
            return
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            reporter.write_line(line)


_hypothesis = reproducible(EXAMPLES, SEED, also_suppress=[HealthCheck.function_scoped_fixture])


# A few milliseconds per example; long runs get more than pyproject's 300 s.
@pytest.mark.timeout(max(300, EXAMPLES // 10))
@_hypothesis
@given(operation=generated_operations())
async def test_generated(api: Api, operation: Generated) -> None:
    document = graphql.parse(operation.query)
    assert not graphql.validate(schema._schema, document), operation.query
    outcome, standard = await differ(
        api, operation.query, operation.variables, operation.operation_name
    )
    TALLY[outcome] += 1
    if os.environ.get("DBG") and outcome is Outcome.FALLBACK:
        print(
            "FALLBACK",
            [e.message[:80] for e in (standard.result.errors or [])]
            if standard.result
            else standard.raised,
            operation.query[:300].replace("\n", " ")
            if not standard.result or not standard.result.errors
            else "",
        )
