"""Property-based fuzzing of /graphql over HTTP (in process, on a seeded demo database).

Operations come from hypothesis-graphql over our own SDL (`public_sdl()`, which is
`schema.graphql`), plus the federation root fields with generated representations:

- valid queries and mutations (these with a write key, a read-only key, a bad key or
  none) never get a 5xx or an INTERNAL_SERVER_ERROR; every error has `extensions.code`,
  and a document that does not run is refused only by a limit (depth, aliases, cost) or a
  checked argument (`BAD_USER_INPUT`, naming it);
- invalid documents (hypothesis-graphql's negative mode: one schema violation each),
  corrupted ones (valid documents with characters deleted, inserted or swapped) and
  random text get 4xx or GraphQL errors with codes, never a 5xx;
- variables of every JSON shape for every argument, and arbitrary request envelopes
  (any JSON, any content type, GET parameters) are answered with coded errors.

Nothing the server logs at ERROR level (where masked errors and unexpected exceptions
go) may appear during a run.

Generated operations, which read and write, run on each backend; the fuzzing of what is
mostly refused before the database (invalid, corrupted or random documents, bodies,
envelopes, GET parameters) on SQLite alone, which keeps the module near a minute.

Examples per test: `OCM_GQL_FUZZ_EXAMPLES` (default 200, so this module takes about a
minute). Runs are derandomized (the same examples every time) unless `OCM_GQL_FUZZ_SEED`
is set; a failure prints the falsifying example and a `@reproduce_failure` blob. For a
longer, randomized local run:

    seed=$RANDOM; echo "seed $seed"
    OCM_GQL_FUZZ_EXAMPLES=5000 OCM_GQL_FUZZ_SEED=$seed .venv/bin/pytest tests/test_fuzz.py

(about 12 minutes); rerun a failing seed with the same `OCM_GQL_FUZZ_SEED`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import graphql
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, mutations, nodes, queries
from starlette.testclient import TestClient

from gql.app import create_app
from gql.graphql.schema import public_sdl, schema
from gql.settings import Settings
from tests.answers import (
    GRAPHQL_RESPONSE,
    JSON,
    ErrorRecords,
    check_answer,
    codes_in,
    errors_in,
)
from tests.conftest import REPO_ROOT, run_cli
from tests.databases import throwaway_database
from tests.hypothesis_runs import reproducible

# Requests with a federation trace run on the traced schema, where graphql-core leaves the
# tracing extension's coroutines of sibling fields unawaited when an error nulls their
# parent (Strawberry's ApolloFederationTracingExtension): noise, not a failure of ours.
pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:coroutine 'ApolloFederationTracingExtension.resolve' was never awaited"
    ),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

EXAMPLES = int(os.environ.get("OCM_GQL_FUZZ_EXAMPLES", "200"))
SEED = os.environ.get("OCM_GQL_FUZZ_SEED")
SITE = 1_000_000_001  # a demo site (and connection) id
DEMO_ROWS = 300


# For fuzzing whose requests are mostly refused before the database (documents that do not
# validate or parse, bodies, envelopes): the backend is not their subject, so one is enough.
front_door = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def fuzz(examples: int = EXAMPLES) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Hypothesis settings for this module (tests/hypothesis_runs.py)."""
    return reproducible(examples, SEED)


# Codes with which a valid document may still be refused or partly fail: limits, checked
# arguments, and credentials.
LIMIT_CODES = {"QUERY_TOO_DEEP", "TOO_MANY_ALIASES", "TOO_MANY_TOKENS", "QUERY_TOO_COMPLEX"}
VALID_CODES = {*LIMIT_CODES, "BAD_USER_INPUT", "UNAUTHENTICATED", "FORBIDDEN"}


@dataclass
class Server:
    client: TestClient
    write_key: str
    read_only_key: str
    logged: ErrorRecords

    def post(
        self, body: bytes, *, accept: str | None = JSON, content_type: str | None = JSON, **h: str
    ) -> Any:
        headers = dict(h)
        if accept is not None:
            headers["accept"] = accept
        if content_type is not None:
            headers["content-type"] = content_type
        return self.client.post("/graphql", content=body, headers=headers)

    def get(self, params: dict[str, str], *, accept: str = JSON, **headers: str) -> Any:
        return self.client.get("/graphql", params=params, headers={"accept": accept, **headers})

    def check(self, answer: Any, context: object) -> Any:
        """The shared checks, and nothing logged at ERROR by the server meanwhile."""
        logged = self.logged.take()
        body = check_answer(answer, context)
        assert not logged, (logged, context)
        return body


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A demo database of its own (the fuzzed mutations write to it) behind the app."""
    with throwaway_database(backend, tmp_path_factory.mktemp("fuzz")) as db:
        run_cli("seed", "--database-url", db, "--demo", str(DEMO_ROWS), "--seed", "7")
        [write_key] = run_cli("keys", "create", "--database-url", db, "--name", "fuzz").split()
        [read_only_key] = run_cli(
            "keys", "create", "--database-url", db, "--name", "fuzz-ro", "--read-only"
        ).split()
        app = create_app(Settings(database_url=db))
        with ErrorRecords() as logged, TestClient(app) as client:
            yield Server(client, write_key, read_only_key, logged)


def _dumps(value: Any) -> bytes:
    """JSON as any client may send it (integers of any size, too)."""
    return json.dumps(value).encode()


def _post_query(server: Server, query: str, accept: str, **headers: str) -> tuple[Any, Any]:
    answer = server.post(_dumps({"query": query}), accept=accept, **headers)
    return answer, server.check(answer, query)


def _check_valid(answer: Any, body: Any, accept: str, query: str) -> None:
    """What a valid document may get: data, or a refusal by a limit; field errors only
    from checked arguments (each naming its argument) or credentials."""
    codes = set(codes_in(body))
    assert codes <= VALID_CODES, (codes, query, body)
    for error in errors_in(body):
        if error["extensions"]["code"] == "BAD_USER_INPUT":
            assert error.get("path"), (error, query)
            assert isinstance(error["extensions"].get("argument"), str), (error, query)
    if "data" not in body:
        # Never ran: only a limit stops a valid document before it runs.
        assert codes, query
        assert codes <= LIMIT_CODES, (codes, query)
        assert answer.status_code == (400 if accept == GRAPHQL_RESPONSE else 200)
    else:
        assert answer.status_code == 200, (answer.status_code, query)


# -- valid operations -------------------------------------------------------------------

PUBLIC_SDL = public_sdl()
ACCEPTS = st.sampled_from([GRAPHQL_RESPONSE, JSON, "*/*"])


def test_the_fuzzed_sdl_is_the_published_one() -> None:
    assert (REPO_ROOT / "schema.graphql").read_text() == PUBLIC_SDL


@fuzz()
@given(
    query=queries(PUBLIC_SDL),
    accept=ACCEPTS,
    by_get=st.booleans(),
    traced=st.booleans(),
)
def test_valid_queries(server: Server, query: str, accept: str, by_get: bool, traced: bool) -> None:
    headers = {"apollo-federation-include-trace": "ftv1"} if traced else {}
    if by_get:
        answer = server.get({"query": query}, accept=accept, **headers)
        if answer.status_code == 414:  # longer than OCM_GQL_MAX_URL_BYTES: use POST
            assert codes_in(server.check(answer, query)) == ["URI_TOO_LONG"]
            return
        body = server.check(answer, query)
    else:
        answer, body = _post_query(server, query, accept, **headers)
    _check_valid(answer, body, accept, query)


CREDENTIALS = st.sampled_from(["write", "read-only", "garbage", "none"])


@fuzz()
@given(
    mutation=mutations(PUBLIC_SDL),
    accept=ACCEPTS,
    credential=CREDENTIALS,
)
def test_valid_mutations(server: Server, mutation: str, accept: str, credential: str) -> None:
    headers = {
        "write": {"x-api-key": server.write_key},
        "read-only": {"authorization": f"Bearer {server.read_only_key}"},
        "garbage": {"x-api-key": "ocmgql_0000_not-a-key"},
        "none": {},
    }[credential]
    answer, body = _post_query(server, mutation, accept, **headers)
    _check_valid(answer, body, accept, mutation)
    codes = set(codes_in(body))
    if credential == "write":
        assert not codes & {"UNAUTHENTICATED", "FORBIDDEN"}, body
    elif "data" in body:
        # Every mutation field needs a writer: none of them ran.
        expected = "FORBIDDEN" if credential == "read-only" else "UNAUTHENTICATED"
        assert expected in codes, body


def _representation() -> st.SearchStrategy[graphql.ValueNode]:
    """`_Any` literals: well-formed representations, and objects that are not."""
    type_names = st.sampled_from(
        ["ConnectionInfo", "ConnectionType", "StatusType", "LevelType", "SupplyType", "Query", ""]
    )
    ids = st.one_of(
        st.integers(min_value=-(2**31), max_value=2**31 - 1),
        st.sampled_from([0, 1, 2, 25, SITE, SITE + 1]),
    )
    scalars = st.one_of(
        ids.map(nodes.Int),
        st.text(max_size=20).map(nodes.String),
        st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
        st.booleans().map(nodes.Boolean),
    )

    def field(name: str, values: st.SearchStrategy[graphql.ValueNode]) -> Any:
        return values.map(
            lambda value: graphql.ObjectFieldNode(name=graphql.NameNode(value=name), value=value)
        )

    well_formed = st.tuples(
        field("__typename", type_names.map(nodes.String)), field("id", ids.map(nodes.Int))
    ).map(lambda fields: nodes.Object(list(fields)))
    odd = st.lists(
        field("__typename", type_names.map(nodes.String)) | field("id", scalars),
        max_size=3,
        unique_by=lambda node: node.name.value,
    ).map(nodes.Object)
    return st.one_of(
        well_formed,
        well_formed,
        odd,
        scalars,
        st.lists(scalars).map(lambda values: nodes.List(list(values))),
    )


@fuzz()
@given(
    query=from_schema(
        schema._schema,
        fields=["_entities", "_service"],
        custom_scalars={"_Any": _representation()},
    ),
    accept=ACCEPTS,
)
def test_federation_root_fields(server: Server, query: str, accept: str) -> None:
    """`_entities` with generated representations: a malformed one gets BAD_USER_INPUT in
    its place, never a crash."""
    answer, body = _post_query(server, query, accept)
    _check_valid(answer, body, accept, query)


# -- invalid documents ------------------------------------------------------------------


@front_door
@fuzz()
@given(
    document=from_schema(PUBLIC_SDL, mode=Mode.NEGATIVE),
    accept=ACCEPTS,
    credential=CREDENTIALS,
)
def test_documents_with_a_schema_violation(
    server: Server, document: str, accept: str, credential: str
) -> None:
    headers = {"x-api-key": server.write_key} if credential == "write" else {}
    answer, body = _post_query(server, document, accept, **headers)
    codes = codes_in(body)
    assert codes, (document, body)
    assert "data" not in body, (document, body)  # refused before anything ran
    assert answer.status_code == (400 if accept == GRAPHQL_RESPONSE else 200)
    assert set(codes) <= {"GRAPHQL_VALIDATION_FAILED", *LIMIT_CODES}, (document, codes)


@st.composite
def corrupted(draw: st.DrawFn) -> str:
    """A valid operation with a few characters deleted, inserted, repeated or swapped."""
    document: str = draw(from_schema(PUBLIC_SDL))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        if not document:
            break
        at = draw(st.integers(min_value=0, max_value=len(document) - 1))
        end = draw(st.integers(min_value=at, max_value=min(len(document), at + 12)))
        edit = draw(st.sampled_from(["delete", "insert", "repeat", "swap", "truncate"]))
        if edit == "delete":
            document = document[:at] + document[end:]
        elif edit == "insert":
            noise = draw(
                st.text(alphabet=st.sampled_from('{}[]()$@!:=,."\\#&|.\n\x00é'), max_size=5)
                | st.text(max_size=5)
            )
            document = document[:at] + noise + document[at:]
        elif edit == "repeat":
            document = document[:end] + document[at:end] * draw(st.integers(1, 50)) + document[end:]
        elif edit == "swap" and end > at:
            document = document[:at] + document[at:end][::-1] + document[end:]
        else:
            document = document[:at]
    return document


@front_door
@fuzz()
@given(document=corrupted(), accept=ACCEPTS)
def test_corrupted_documents(server: Server, document: str, accept: str) -> None:
    answer, body = _post_query(server, document, accept, **{"x-api-key": server.write_key})
    if "data" not in body:
        codes = codes_in(body)
        assert codes, (document, body)
        if codes == ["BAD_REQUEST"]:  # nothing left of the document: no query
            assert not document.strip(), document
            assert answer.status_code == 400
        else:
            assert answer.status_code == (400 if accept == GRAPHQL_RESPONSE else 200)


@front_door
@fuzz()
@given(document=st.text(max_size=300), accept=ACCEPTS)
def test_random_text_as_a_document(server: Server, document: str, accept: str) -> None:
    _post_query(server, document, accept)


# -- variables --------------------------------------------------------------------------

INTS = st.one_of(
    st.integers(min_value=-(2**31), max_value=2**31 - 1),
    st.integers(),
    st.sampled_from([0, 1, 20, 100, 1000, 1001, -1, 2**31, -(2**31) - 1, 2**63, SITE]),
)
JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    INTS,
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["", "ID_ASC", "POWER_KW_DESC", "WAAT", "null", "1e400"]),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=6)
        | st.dictionaries(
            st.text(max_size=12) | st.sampled_from(["ids", "minPowerKw"]), children, max_size=6
        )
    ),
    max_leaves=30,
)
FILTER_FIELDS = {
    "ids": st.lists(INTS, max_size=20) | JSON_VALUES,
    "connectionTypeIds": st.lists(INTS, max_size=5),
    "statusTypeIds": st.lists(INTS, max_size=5),
    "levelIds": st.lists(INTS, max_size=5) | st.none(),
    "currentTypeIds": st.lists(INTS, max_size=5),
    "chargePointIds": st.lists(INTS, max_size=5),
    "minPowerKw": st.floats(allow_nan=False, allow_infinity=False) | INTS | JSON_VALUES,
    "maxPowerKw": st.floats(allow_nan=False, allow_infinity=False) | INTS,
    "isOperational": st.booleans() | JSON_VALUES,
    "isFastChargeCapable": st.booleans() | st.none(),
}
CONNECTION_FIELDS = {
    "chargePointId": st.sampled_from([SITE, SITE + 1]) | INTS,
    "connectionTypeId": st.sampled_from([0, 1, 25, 33]) | INTS,
    "statusTypeId": st.sampled_from([0, 10, 50, 150]) | INTS,
    "levelId": st.sampled_from([1, 2, 3]) | INTS,
    "currentTypeId": st.sampled_from([10, 20, 30]) | INTS,
    "amps": INTS,
    "voltage": st.floats(allow_nan=False, allow_infinity=False) | INTS,
    "powerKw": st.floats(allow_nan=False, allow_infinity=False) | INTS,
    "quantity": INTS,
    "reference": st.text(max_size=120),
    "comments": st.text(max_size=50) | st.text(min_size=3990, max_size=4010),
}


def _objects(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries({}, optional=fields) | JSON_VALUES


VARIABLES = {
    "first": INTS | JSON_VALUES,
    "last": INTS | st.none(),
    "after": st.text(max_size=60) | JSON_VALUES,
    "before": st.text(max_size=60) | st.none(),
    "filter": _objects(FILTER_FIELDS),
    "orderBy": st.sampled_from(["ID_ASC", "ID_DESC", "POWER_KW_ASC", "POWER_KW_DESC", "x", ""])
    | JSON_VALUES,
    "id": st.sampled_from([SITE, SITE + 5, SITE + DEMO_ROWS - 1]) | INTS | JSON_VALUES,
    "historyFirst": INTS,
    "historyAfter": st.text(max_size=40) | JSON_VALUES,
    "status": st.sampled_from([0, 10, 50, 75, 150]) | INTS,
    "create": _objects(CONNECTION_FIELDS),
    "update": _objects(CONNECTION_FIELDS),
    "representations": st.lists(JSON_VALUES, max_size=5) | JSON_VALUES,
}
READ = """query Read($first: Int, $last: Int, $after: String, $before: String,
    $filter: ConnectionInfoFilter, $orderBy: ConnectionInfoOrder, $id: Int!,
    $historyFirst: Int, $historyAfter: String, $representations: [_Any!]!) {
  connectionInfos(first: $first, last: $last, after: $after, before: $before,
      filter: $filter, orderBy: $orderBy) {
    totalCount
    edges { cursor node { id powerKw connectionType { title } statusType { isOperational } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
  connectionInfo(id: $id) { id amps voltage powerKw level { title } currentType { title } }
  connectionInfoHistory(id: $id, first: $historyFirst, after: $historyAfter) {
    edges { cursor node { action before { amps } after { amps } } }
    pageInfo { hasNextPage endCursor }
  }
  _entities(representations: $representations) { __typename ... on ConnectionInfo { id } }
}"""
WRITE = """mutation Write($id: Int!, $status: Int!, $create: CreateConnectionInfoInput!,
    $update: UpdateConnectionInfoInput!) {
  setConnectionStatus(id: $id, statusTypeId: $status) {
    connectionInfo { id statusTypeId } previousStatusTypeId userErrors { field code }
  }
  updateConnectionInfo(id: $id, input: $update) {
    connectionInfo { id amps powerKw comments } userErrors { field code message }
  }
  createConnectionInfo(input: $create) { connectionInfo { id } userErrors { field code } }
}"""
READ_VARIABLES = ["first", "last", "after", "before", "filter", "orderBy", "id"]
READ_VARIABLES += ["historyFirst", "historyAfter", "representations"]
WRITE_VARIABLES = ["id", "status", "create", "update"]


def _variables(names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={name: VARIABLES[name] for name in names})


@fuzz()
@given(
    variables=_variables(READ_VARIABLES),
    accept=ACCEPTS,
    by_get=st.booleans(),
)
def test_fuzzed_variables_of_a_read(
    server: Server, variables: dict[str, Any], accept: str, by_get: bool
) -> None:
    if by_get:
        params = {"query": READ, "variables": _dumps(variables).decode()}
        answer = server.get(params, accept=accept)
        if answer.status_code == 414:
            return
    else:
        body = {"query": READ, "variables": variables}
        answer = server.post(_dumps(body), accept=accept)
    body = server.check(answer, variables)
    for error in errors_in(body):
        if error["extensions"]["code"] == "BAD_USER_INPUT" and error.get("path"):
            assert isinstance(error["extensions"].get("argument"), str), error


@fuzz()
@given(variables=_variables(WRITE_VARIABLES), accept=ACCEPTS)
def test_fuzzed_variables_of_a_write(
    server: Server, variables: dict[str, Any], accept: str
) -> None:
    body = {"query": WRITE, "variables": variables}
    answer = server.post(_dumps(body), accept=accept, **{"x-api-key": server.write_key})
    answered = server.check(answer, variables)
    data = answered.get("data")
    if data:
        for payload in data.values():
            # A refused input lists its problems, each with a path and a code.
            for problem in (payload or {}).get("userErrors") or ():
                assert problem["code"], problem


# -- request envelopes ------------------------------------------------------------------

ENVELOPE_VALUES = st.one_of(
    JSON_VALUES,
    st.sampled_from(["{ levels { id } }", "query Q { levels { id } }", "{", "Q", "mutation { x }"]),
)
ENVELOPE = st.fixed_dictionaries(
    {},
    optional={
        "query": ENVELOPE_VALUES,
        "variables": ENVELOPE_VALUES,
        "operationName": ENVELOPE_VALUES,
        "extensions": ENVELOPE_VALUES
        | st.fixed_dictionaries(
            {
                "persistedQuery": st.fixed_dictionaries(
                    {}, optional={"version": JSON_VALUES, "sha256Hash": JSON_VALUES}
                )
            }
        ),
    },
)
CONTENT_TYPES = st.sampled_from(
    [
        JSON,
        f"{JSON}; charset=utf-8",
        f"{JSON}; charset=latin-1",
        "APPLICATION/JSON",
        "application/graphql",
        "application/graphql-response+json",
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "",
        ";;;",
        "application/json; charset",
    ]
)


@front_door
@fuzz()
@given(
    payload=ENVELOPE | st.lists(ENVELOPE, max_size=12) | JSON_VALUES,
    content_type=CONTENT_TYPES | st.none(),
    accept=ACCEPTS | st.sampled_from(["text/html", "", "application/*", "*/*;q=0"]),
)
def test_fuzzed_request_envelopes(
    server: Server, payload: Any, content_type: str | None, accept: str
) -> None:
    answer = server.post(_dumps(payload), accept=accept or None, content_type=content_type)
    server.check(answer, (payload, content_type, accept))


@front_door
@fuzz()
@given(body=st.binary(max_size=200), content_type=CONTENT_TYPES)
def test_random_bytes_as_a_body(server: Server, body: bytes, content_type: str) -> None:
    answer = server.post(body, accept=GRAPHQL_RESPONSE, content_type=content_type)
    server.check(answer, body)
    assert answer.status_code in (400, 413, 415), answer.status_code


@front_door
@fuzz()
@given(
    params=st.dictionaries(
        st.sampled_from(["query", "variables", "operationName", "extensions", "x"]),
        st.text(max_size=60) | ENVELOPE_VALUES.map(lambda v: _dumps(v).decode()),
        max_size=4,
    ),
    accept=ACCEPTS,
)
def test_fuzzed_get_parameters(server: Server, params: dict[str, str], accept: str) -> None:
    server.check(server.get(params, accept=accept), params)


def test_the_database_is_still_whole(server: Server) -> None:
    """After the fuzzing the server still answers normally."""
    answer, body = _post_query(
        server, "{ connectionInfos(first: 5) { totalCount nodes { id } } }", GRAPHQL_RESPONSE
    )
    assert answer.status_code == 200
    assert body["data"]["connectionInfos"]["totalCount"] >= DEMO_ROWS - 50
    health = server.client.get("/readyz")
    assert health.status_code == 200
