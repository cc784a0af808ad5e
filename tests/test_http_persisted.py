"""Which document runs (gql/http/persisted.py): Apollo APQ and trusted documents."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from gql.http.persisted import (
    MANIFEST_FORMAT,
    PERSISTED_QUERY_NOT_FOUND,
    PERSISTED_QUERY_NOT_IN_LIST,
    PERSISTED_QUERY_NOT_SUPPORTED,
    QUERY_NOT_IN_SAFELIST,
    AutomaticPersistedQueries,
    Document,
    ManifestError,
    TrustedDocuments,
    sha256_hex,
)
from gql.http.request import BAD_REQUEST, GraphQLParams, RequestError

QUERY_A = "{ connectionTypes { id title } }"
QUERY_B = "query B { currentTypes { id } }"
QUERY_C = "query C($id: Int!) { connection(id: $id) { id } }"


def digest(query: str) -> str:
    """Computed here, independently of the module's own sha256_hex."""
    return hashlib.sha256(query.encode("utf-8")).hexdigest()


def persisted(sha256_hash: Any, version: Any = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256_hash}}


def by_hash(query: str) -> GraphQLParams:
    return GraphQLParams(extensions=persisted(digest(query)))


def with_hash(query: str) -> GraphQLParams:
    return GraphQLParams(query=query, extensions=persisted(digest(query)))


def rejected(
    source: AutomaticPersistedQueries | TrustedDocuments, params: GraphQLParams
) -> RequestError:
    with pytest.raises(RequestError) as caught:
        source.document(params)
    return caught.value


def register(apq: AutomaticPersistedQueries, query: str) -> None:
    document = apq.document(with_hash(query))
    assert document.query == query
    assert document.on_valid is not None
    document.on_valid()


def test_sha256_hex() -> None:
    assert sha256_hex(QUERY_C) == digest(QUERY_C)
    assert sha256_hex("é") == hashlib.sha256(b"\xc3\xa9").hexdigest()


# --- Malformed extensions.persistedQuery (both policies) ---------------------------------

MALFORMED: list[tuple[Any, str]] = [
    ("abc", "must be a map"),
    ([digest(QUERY_A)], "must be a map"),
    (1, "must be a map"),
    ({"sha256Hash": digest(QUERY_A)}, "version 1"),
    (persisted(digest(QUERY_A), version=2)["persistedQuery"], "version 1"),
    (persisted(digest(QUERY_A), version="1")["persistedQuery"], "version 1"),
    (persisted(digest(QUERY_A), version=None)["persistedQuery"], "version 1"),
    ({"version": 1}, "64 hex digits"),
    (persisted(None)["persistedQuery"], "64 hex digits"),
    (persisted(123)["persistedQuery"], "64 hex digits"),
    (persisted(digest(QUERY_A)[:63])["persistedQuery"], "64 hex digits"),  # too short
    (persisted(digest(QUERY_A) + "0")["persistedQuery"], "64 hex digits"),  # too long
    (persisted("")["persistedQuery"], "64 hex digits"),
    (persisted("g" * 64)["persistedQuery"], "64 hex digits"),
    (persisted(digest(QUERY_A) + "\n")["persistedQuery"], "64 hex digits"),
    # The pattern is lowercase hex only: an uppercase hash is refused as malformed (400),
    # not looked up (it could never match: stored ids are lowercase hexdigest()s).
    (persisted(digest(QUERY_A).upper())["persistedQuery"], "64 hex digits"),
    (persisted("A" + digest(QUERY_A)[1:])["persistedQuery"], "64 hex digits"),
]


Source = AutomaticPersistedQueries | TrustedDocuments


@pytest.fixture(params=["apq", "trusted"])
def source(request: pytest.FixtureRequest) -> Source:
    """Each policy, knowing QUERY_A (so a lookup would succeed if the hash were accepted)."""
    if request.param == "apq":
        apq = AutomaticPersistedQueries(10, 1_000_000)
        register(apq, QUERY_A)
        return apq
    return TrustedDocuments({digest(QUERY_A): QUERY_A})


@pytest.mark.parametrize(("value", "message"), MALFORMED)
@pytest.mark.parametrize("query", [None, QUERY_A])
def test_malformed_persisted_query(
    source: Source,
    value: Any,
    message: str,
    query: str | None,
) -> None:
    error = rejected(source, GraphQLParams(query=query, extensions={"persistedQuery": value}))
    assert (error.status, error.legacy_status, error.code) == (400, 400, BAD_REQUEST)
    assert message in error.message


def test_boolean_version_is_malformed(source: Source) -> None:
    params = GraphQLParams(extensions=persisted(digest(QUERY_A), version=True))
    assert rejected(source, params).code == BAD_REQUEST


def test_null_persisted_query_means_none() -> None:
    params = GraphQLParams(query=QUERY_A, extensions={"persistedQuery": None})
    assert AutomaticPersistedQueries(10, 1_000_000).document(params) == Document(QUERY_A)


# --- AutomaticPersistedQueries -----------------------------------------------------------


@pytest.mark.parametrize(
    "extensions", [{}, {"tracing": True}], ids=["no-extensions", "other-extension"]
)
def test_apq_plain_query_passes_through(extensions: dict[str, Any]) -> None:
    apq = AutomaticPersistedQueries(10, 1_000_000)
    document = apq.document(GraphQLParams(query=QUERY_A, extensions=extensions))
    assert document == Document(QUERY_A, on_valid=None)
    assert len(apq) == 0  # plain queries are never stored
    assert rejected(apq, by_hash(QUERY_A)).code == PERSISTED_QUERY_NOT_FOUND


@pytest.mark.parametrize("max_size", [0, 10])
@pytest.mark.parametrize("query", [None, ""])
def test_apq_missing_query(max_size: int, query: str | None) -> None:
    error = rejected(AutomaticPersistedQueries(max_size, 1_000_000), GraphQLParams(query=query))
    assert (error.status, error.legacy_status, error.code) == (400, 400, BAD_REQUEST)
    assert "'query'" in error.message


@pytest.mark.parametrize("query", [None, ""])
def test_apq_unknown_hash(query: str | None) -> None:
    params = GraphQLParams(query=query, extensions=persisted(digest(QUERY_A)))
    error = rejected(AutomaticPersistedQueries(10, 1_000_000), params)
    assert (error.status, error.legacy_status, error.code) == (404, 200, PERSISTED_QUERY_NOT_FOUND)
    assert error.message == "PersistedQueryNotFound"
    assert error.formatted() == {
        "message": "PersistedQueryNotFound",
        "extensions": {"code": PERSISTED_QUERY_NOT_FOUND},
    }


def test_apq_hash_and_query_mismatch() -> None:
    apq = AutomaticPersistedQueries(10, 1_000_000)
    params = GraphQLParams(query=QUERY_B, extensions=persisted(digest(QUERY_A)))
    error = rejected(apq, params)
    assert (error.status, error.legacy_status, error.code) == (400, 400, BAD_REQUEST)
    assert "does not match" in error.message
    assert len(apq) == 0
    assert rejected(apq, by_hash(QUERY_A)).code == PERSISTED_QUERY_NOT_FOUND
    assert rejected(apq, by_hash(QUERY_B)).code == PERSISTED_QUERY_NOT_FOUND


def test_apq_mismatch_against_a_stored_hash() -> None:
    apq = AutomaticPersistedQueries(10, 1_000_000)
    register(apq, QUERY_A)
    params = GraphQLParams(query=QUERY_B, extensions=persisted(digest(QUERY_A)))
    assert rejected(apq, params).code == BAD_REQUEST
    assert apq.document(by_hash(QUERY_A)).query == QUERY_A  # the stored text is untouched


def test_apq_stores_only_once_valid() -> None:
    apq = AutomaticPersistedQueries(10, 1_000_000)
    document = apq.document(with_hash(QUERY_A))
    assert document.query == QUERY_A
    assert document.on_valid is not None
    # Not stored until the document has validated.
    assert len(apq) == 0
    assert rejected(apq, by_hash(QUERY_A)).code == PERSISTED_QUERY_NOT_FOUND
    document.on_valid()
    assert len(apq) == 1
    stored = apq.document(by_hash(QUERY_A))
    assert stored == Document(QUERY_A, on_valid=None)


def test_apq_documents_never_validated_are_not_stored() -> None:
    apq = AutomaticPersistedQueries(10, 1_000_000)
    apq.document(with_hash(QUERY_A))
    apq.document(with_hash(QUERY_B))
    assert len(apq) == 0
    for query in (QUERY_A, QUERY_B):
        assert rejected(apq, by_hash(query)).code == PERSISTED_QUERY_NOT_FOUND


def test_apq_keeps_several_queries_apart() -> None:
    apq = AutomaticPersistedQueries(10, 1_000_000)
    for query in (QUERY_A, QUERY_B, QUERY_C):
        register(apq, query)
    assert len(apq) == 3
    for query in (QUERY_C, QUERY_A, QUERY_B):
        assert apq.document(by_hash(query)).query == query


def test_apq_registering_twice_keeps_one_entry() -> None:
    apq = AutomaticPersistedQueries(10, 1_000_000)
    register(apq, QUERY_A)
    register(apq, QUERY_A)
    assert len(apq) == 1


def test_apq_hash_and_query_of_a_stored_hash_still_offers_on_valid() -> None:
    apq = AutomaticPersistedQueries(10, 1_000_000)
    register(apq, QUERY_A)
    document = apq.document(with_hash(QUERY_A))
    assert document.query == QUERY_A
    assert document.on_valid is not None


def test_apq_evicts_the_least_recently_inserted() -> None:
    apq = AutomaticPersistedQueries(2, 1_000_000)
    register(apq, QUERY_A)
    register(apq, QUERY_B)
    register(apq, QUERY_C)
    assert len(apq) == 2
    assert rejected(apq, by_hash(QUERY_A)).code == PERSISTED_QUERY_NOT_FOUND
    assert apq.document(by_hash(QUERY_B)).query == QUERY_B
    assert apq.document(by_hash(QUERY_C)).query == QUERY_C


def test_apq_is_bounded_in_bytes_as_well_as_entries() -> None:
    apq = AutomaticPersistedQueries(1000, 20_000)
    long_queries = [f"{{ levels {{ id }} }} # {n} " + "x" * 4_000 for n in range(20)]
    for query in long_queries:
        register(apq, query)
    # Five texts of about 4 KB fit in 20 KB; the oldest went first.
    assert 1 <= len(apq) <= 5
    assert apq.document(by_hash(long_queries[-1])).query == long_queries[-1]
    assert rejected(apq, by_hash(long_queries[0])).code == PERSISTED_QUERY_NOT_FOUND


def test_apq_lookup_refreshes_recency() -> None:
    apq = AutomaticPersistedQueries(2, 1_000_000)
    register(apq, QUERY_A)
    register(apq, QUERY_B)
    assert apq.document(by_hash(QUERY_A)).query == QUERY_A  # A is now the most recent
    register(apq, QUERY_C)
    assert len(apq) == 2
    assert rejected(apq, by_hash(QUERY_B)).code == PERSISTED_QUERY_NOT_FOUND
    assert apq.document(by_hash(QUERY_A)).query == QUERY_A
    assert apq.document(by_hash(QUERY_C)).query == QUERY_C


def test_apq_re_registering_refreshes_recency() -> None:
    apq = AutomaticPersistedQueries(2, 1_000_000)
    register(apq, QUERY_A)
    register(apq, QUERY_B)
    register(apq, QUERY_A)
    register(apq, QUERY_C)
    assert rejected(apq, by_hash(QUERY_B)).code == PERSISTED_QUERY_NOT_FOUND
    assert apq.document(by_hash(QUERY_A)).query == QUERY_A


def test_apq_max_size_one() -> None:
    apq = AutomaticPersistedQueries(1, 1_000_000)
    register(apq, QUERY_A)
    register(apq, QUERY_B)
    assert len(apq) == 1
    assert rejected(apq, by_hash(QUERY_A)).code == PERSISTED_QUERY_NOT_FOUND
    assert apq.document(by_hash(QUERY_B)).query == QUERY_B


@pytest.mark.parametrize(
    "params",
    [by_hash(QUERY_A), with_hash(QUERY_A)],
    ids=["hash-only", "hash-and-query"],
)
def test_apq_turned_off(params: GraphQLParams) -> None:
    apq = AutomaticPersistedQueries(0, 1_000_000)
    error = rejected(apq, params)
    assert (error.status, error.legacy_status) == (400, 200)
    assert error.code == PERSISTED_QUERY_NOT_SUPPORTED
    assert error.message == "PersistedQueryNotSupported"
    assert len(apq) == 0


def test_apq_turned_off_still_runs_plain_queries() -> None:
    assert AutomaticPersistedQueries(0, 1_000_000).document(
        GraphQLParams(query=QUERY_A)
    ) == Document(QUERY_A)


# --- TrustedDocuments.from_manifest ------------------------------------------------------


def manifest(*bodies: str) -> dict[str, Any]:
    return {
        "format": MANIFEST_FORMAT,
        "version": 1,
        "operations": [
            {"id": digest(body), "body": body, "name": f"Op{i}", "type": "query"}
            for i, body in enumerate(bodies)
        ],
    }


def write(tmp_path: Path, content: Any) -> Path:
    path = tmp_path / "persisted-query-manifest.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


@pytest.fixture
def trusted(tmp_path: Path) -> TrustedDocuments:
    return TrustedDocuments.from_manifest(write(tmp_path, manifest(QUERY_A, QUERY_B)))


def test_manifest_loads_its_operations(trusted: TrustedDocuments) -> None:
    assert len(trusted) == 2
    assert trusted.document(by_hash(QUERY_A)).query == QUERY_A
    assert trusted.document(by_hash(QUERY_B)).query == QUERY_B


def test_empty_manifest(tmp_path: Path) -> None:
    documents = TrustedDocuments.from_manifest(write(tmp_path, manifest()))
    assert len(documents) == 0
    assert rejected(documents, GraphQLParams(query=QUERY_A)).code == QUERY_NOT_IN_SAFELIST


def test_manifest_in_utf8(tmp_path: Path) -> None:
    body = '{ connections(filter: {title: "Prise électrique"}) { id } }'
    path = tmp_path / "manifest.json"
    path.write_bytes(json.dumps(manifest(body), ensure_ascii=False).encode("utf-8"))
    assert TrustedDocuments.from_manifest(path).document(by_hash(body)).query == body


def manifest_with(**changes: Any) -> dict[str, Any]:
    return manifest(QUERY_A) | changes


def operation_without(key: str) -> dict[str, Any]:
    operation = {"id": digest(QUERY_A), "body": QUERY_A}
    del operation[key]
    return manifest_with(operations=[operation])


BAD_MANIFESTS: list[tuple[Any, str]] = [
    ("{not json", "cannot read"),
    ("", "cannot read"),
    ([], "format field"),
    ("null", "format field"),
    (manifest_with(format="apollo-persisted-query-manifest-v2"), "format field"),
    ({key: value for key, value in manifest(QUERY_A).items() if key != "format"}, "format field"),
    (manifest_with(version=2), "version 1"),
    (manifest_with(version="1"), "version 1"),
    ({key: value for key, value in manifest(QUERY_A).items() if key != "version"}, "version 1"),
    (manifest_with(operations={digest(QUERY_A): QUERY_A}), "operations list"),
    (manifest_with(operations=None), "operations list"),
    ({key: value for key, value in manifest(QUERY_A).items() if key != "operations"}, "list"),
    (operation_without("id"), "operation 0"),
    (operation_without("body"), "operation 0"),
    (manifest_with(operations=[{"id": 1, "body": QUERY_A}]), "operation 0"),
    (manifest_with(operations=[{"id": digest(QUERY_A), "body": None}]), "operation 0"),
    (manifest_with(operations=[{"id": digest(QUERY_A), "body": QUERY_A}, QUERY_B]), "operation 1"),
]


@pytest.mark.parametrize(("content", "message"), BAD_MANIFESTS)
def test_bad_manifest(tmp_path: Path, content: Any, message: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(ManifestError) as caught:
        TrustedDocuments.from_manifest(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_manifest_in_another_encoding(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(json.dumps(manifest('{ a(t: "é") }'), ensure_ascii=False).encode("latin-1"))
    with pytest.raises(ManifestError, match="cannot read") as caught:
        TrustedDocuments.from_manifest(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_unreadable_manifest(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "manifest.json"
    if kind == "directory":
        path.mkdir()
    with pytest.raises(ManifestError, match="cannot read") as caught:
        TrustedDocuments.from_manifest(path)
    assert str(path) in str(caught.value)


def test_manifest_error_is_a_value_error() -> None:
    assert issubclass(ManifestError, ValueError)


# --- TrustedDocuments.document -----------------------------------------------------------


def test_trusted_listed_hash(trusted: TrustedDocuments) -> None:
    document = trusted.document(by_hash(QUERY_B))
    assert document == Document(QUERY_B, on_valid=None)


def test_trusted_unlisted_hash(trusted: TrustedDocuments) -> None:
    error = rejected(trusted, by_hash(QUERY_C))
    assert (error.status, error.legacy_status) == (400, 200)
    assert error.code == PERSISTED_QUERY_NOT_IN_LIST
    assert digest(QUERY_C) in error.message


def test_trusted_unlisted_hash_with_its_query_is_not_learned(trusted: TrustedDocuments) -> None:
    # Unlike APQ, sending hash and text does not add the operation.
    assert rejected(trusted, with_hash(QUERY_C)).code == PERSISTED_QUERY_NOT_IN_LIST
    assert rejected(trusted, by_hash(QUERY_C)).code == PERSISTED_QUERY_NOT_IN_LIST
    assert len(trusted) == 2


@pytest.mark.parametrize("query", [QUERY_A, QUERY_B])
def test_trusted_identical_freeform_text_runs(trusted: TrustedDocuments, query: str) -> None:
    assert trusted.document(GraphQLParams(query=query)) == Document(query, on_valid=None)


@pytest.mark.parametrize(
    "query",
    [
        QUERY_C,
        QUERY_A + " ",  # not the identical text
        QUERY_A.replace(" ", "  "),
        "{ __typename }",
    ],
)
def test_trusted_other_text(trusted: TrustedDocuments, query: str) -> None:
    error = rejected(trusted, GraphQLParams(query=query))
    assert (error.status, error.legacy_status) == (400, 200)
    assert error.code == QUERY_NOT_IN_SAFELIST


@pytest.mark.parametrize("query", [None, ""])
def test_trusted_nothing_to_run(trusted: TrustedDocuments, query: str | None) -> None:
    error = rejected(trusted, GraphQLParams(query=query, operation_name="Op0"))
    assert (error.status, error.legacy_status, error.code) == (400, 400, BAD_REQUEST)
    assert "'query'" in error.message


def test_trusted_never_registers(trusted: TrustedDocuments) -> None:
    documents = [
        trusted.document(by_hash(QUERY_A)),
        trusted.document(with_hash(QUERY_A)),
        trusted.document(GraphQLParams(query=QUERY_B)),
    ]
    assert [document.on_valid for document in documents] == [None, None, None]
    assert [document.query for document in documents] == [QUERY_A, QUERY_A, QUERY_B]


def test_trusted_documents_from_a_dict() -> None:
    documents = TrustedDocuments({"custom-id": QUERY_A})
    assert len(documents) == 1
    assert documents.document(GraphQLParams(query=QUERY_A)).query == QUERY_A
    assert rejected(documents, by_hash(QUERY_A)).code == PERSISTED_QUERY_NOT_IN_LIST


def test_trusted_hash_with_other_text_is_refused(tmp_path: Path) -> None:
    """The listed body never runs in place of different text the client sent."""
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [{"id": digest(QUERY_A), "body": QUERY_A}],
            }
        )
    )
    source = TrustedDocuments.from_manifest(manifest)
    same = GraphQLParams(query=QUERY_A, extensions=persisted(digest(QUERY_A)))
    assert source.document(same) == Document(QUERY_A)
    other = GraphQLParams(query=QUERY_A + " ", extensions=persisted(digest(QUERY_A)))
    assert rejected(source, other).code == BAD_REQUEST
