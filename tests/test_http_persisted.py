"""Which document runs (gql/http/persisted.py): Apollo APQ and trusted documents."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, cast

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
    MemoryQueryStore,
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


async def rejected(
    source: AutomaticPersistedQueries | TrustedDocuments, params: GraphQLParams
) -> RequestError:
    with pytest.raises(RequestError) as caught:
        await source.document(params)
    return caught.value


def in_memory(max_size: int, max_bytes: int) -> AutomaticPersistedQueries:
    """APQ as the app makes it without Redis (a max_size of 0 turns it off)."""
    return AutomaticPersistedQueries(MemoryQueryStore(max_size, max_bytes) if max_size else None)


def kept(apq: AutomaticPersistedQueries) -> int:
    return 0 if apq.store is None else len(cast(MemoryQueryStore, apq.store))


async def register(apq: AutomaticPersistedQueries, query: str) -> None:
    document = await apq.document(with_hash(query))
    assert document.query == query
    assert document.on_valid is not None
    await document.on_valid()


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
async def source(request: pytest.FixtureRequest) -> Source:
    """Each policy, knowing QUERY_A (so a lookup would succeed if the hash were accepted)."""
    if request.param == "apq":
        apq = in_memory(10, 1_000_000)
        await register(apq, QUERY_A)
        return apq
    return TrustedDocuments({digest(QUERY_A): QUERY_A})


@pytest.mark.parametrize(("value", "message"), MALFORMED)
@pytest.mark.parametrize("query", [None, QUERY_A])
async def test_malformed_persisted_query(
    source: Source,
    value: Any,
    message: str,
    query: str | None,
) -> None:
    error = await rejected(source, GraphQLParams(query=query, extensions={"persistedQuery": value}))
    assert (error.status, error.legacy_status, error.code) == (400, 400, BAD_REQUEST)
    assert message in error.message


async def test_boolean_version_is_malformed(source: Source) -> None:
    params = GraphQLParams(extensions=persisted(digest(QUERY_A), version=True))
    assert (await rejected(source, params)).code == BAD_REQUEST


async def test_null_persisted_query_means_none() -> None:
    params = GraphQLParams(query=QUERY_A, extensions={"persistedQuery": None})
    assert await in_memory(10, 1_000_000).document(params) == Document(QUERY_A)


# --- AutomaticPersistedQueries -----------------------------------------------------------


@pytest.mark.parametrize(
    "extensions", [{}, {"tracing": True}], ids=["no-extensions", "other-extension"]
)
async def test_apq_plain_query_passes_through(extensions: dict[str, Any]) -> None:
    apq = in_memory(10, 1_000_000)
    document = await apq.document(GraphQLParams(query=QUERY_A, extensions=extensions))
    assert document == Document(QUERY_A, on_valid=None)
    assert kept(apq) == 0  # plain queries are never stored
    assert (await rejected(apq, by_hash(QUERY_A))).code == PERSISTED_QUERY_NOT_FOUND


@pytest.mark.parametrize("max_size", [0, 10])
@pytest.mark.parametrize("query", [None, ""])
async def test_apq_missing_query(max_size: int, query: str | None) -> None:
    error = await rejected(in_memory(max_size, 1_000_000), GraphQLParams(query=query))
    assert (error.status, error.legacy_status, error.code) == (400, 400, BAD_REQUEST)
    assert "'query'" in error.message


@pytest.mark.parametrize("query", [None, ""])
async def test_apq_unknown_hash(query: str | None) -> None:
    params = GraphQLParams(query=query, extensions=persisted(digest(QUERY_A)))
    error = await rejected(in_memory(10, 1_000_000), params)
    assert (error.status, error.legacy_status, error.code) == (404, 200, PERSISTED_QUERY_NOT_FOUND)
    assert error.message == "PersistedQueryNotFound"
    assert error.formatted() == {
        "message": "PersistedQueryNotFound",
        "extensions": {"code": PERSISTED_QUERY_NOT_FOUND},
    }


async def test_apq_hash_and_query_mismatch() -> None:
    apq = in_memory(10, 1_000_000)
    params = GraphQLParams(query=QUERY_B, extensions=persisted(digest(QUERY_A)))
    error = await rejected(apq, params)
    assert (error.status, error.legacy_status, error.code) == (400, 400, BAD_REQUEST)
    assert "does not match" in error.message
    assert kept(apq) == 0
    assert (await rejected(apq, by_hash(QUERY_A))).code == PERSISTED_QUERY_NOT_FOUND
    assert (await rejected(apq, by_hash(QUERY_B))).code == PERSISTED_QUERY_NOT_FOUND


async def test_apq_mismatch_against_a_stored_hash() -> None:
    apq = in_memory(10, 1_000_000)
    await register(apq, QUERY_A)
    params = GraphQLParams(query=QUERY_B, extensions=persisted(digest(QUERY_A)))
    assert (await rejected(apq, params)).code == BAD_REQUEST
    assert (await apq.document(by_hash(QUERY_A))).query == QUERY_A  # the stored text is untouched


async def test_apq_stores_only_once_valid() -> None:
    apq = in_memory(10, 1_000_000)
    document = await apq.document(with_hash(QUERY_A))
    assert document.query == QUERY_A
    assert document.on_valid is not None
    # Not stored until the document has validated.
    assert kept(apq) == 0
    assert (await rejected(apq, by_hash(QUERY_A))).code == PERSISTED_QUERY_NOT_FOUND
    await document.on_valid()
    assert kept(apq) == 1
    stored = await apq.document(by_hash(QUERY_A))
    assert stored == Document(QUERY_A, on_valid=None)


async def test_apq_documents_never_validated_are_not_stored() -> None:
    apq = in_memory(10, 1_000_000)
    await apq.document(with_hash(QUERY_A))
    await apq.document(with_hash(QUERY_B))
    assert kept(apq) == 0
    for query in (QUERY_A, QUERY_B):
        assert (await rejected(apq, by_hash(query))).code == PERSISTED_QUERY_NOT_FOUND


async def test_apq_keeps_several_queries_apart() -> None:
    apq = in_memory(10, 1_000_000)
    for query in (QUERY_A, QUERY_B, QUERY_C):
        await register(apq, query)
    assert kept(apq) == 3
    for query in (QUERY_C, QUERY_A, QUERY_B):
        assert (await apq.document(by_hash(query))).query == query


async def test_apq_registering_twice_keeps_one_entry() -> None:
    apq = in_memory(10, 1_000_000)
    await register(apq, QUERY_A)
    await register(apq, QUERY_A)
    assert kept(apq) == 1


async def test_apq_hash_and_query_of_a_stored_hash_still_offers_on_valid() -> None:
    apq = in_memory(10, 1_000_000)
    await register(apq, QUERY_A)
    document = await apq.document(with_hash(QUERY_A))
    assert document.query == QUERY_A
    assert document.on_valid is not None


async def test_apq_evicts_the_least_recently_inserted() -> None:
    apq = in_memory(2, 1_000_000)
    await register(apq, QUERY_A)
    await register(apq, QUERY_B)
    await register(apq, QUERY_C)
    assert kept(apq) == 2
    assert (await rejected(apq, by_hash(QUERY_A))).code == PERSISTED_QUERY_NOT_FOUND
    assert (await apq.document(by_hash(QUERY_B))).query == QUERY_B
    assert (await apq.document(by_hash(QUERY_C))).query == QUERY_C


async def test_apq_is_bounded_in_bytes_as_well_as_entries() -> None:
    apq = in_memory(1000, 20_000)
    long_queries = [f"{{ levels {{ id }} }} # {n} " + "x" * 4_000 for n in range(20)]
    for query in long_queries:
        await register(apq, query)
    # Five texts of about 4 KB fit in 20 KB; the oldest went first.
    assert 1 <= kept(apq) <= 5
    assert (await apq.document(by_hash(long_queries[-1]))).query == long_queries[-1]
    assert (await rejected(apq, by_hash(long_queries[0]))).code == PERSISTED_QUERY_NOT_FOUND


async def test_apq_lookup_refreshes_recency() -> None:
    apq = in_memory(2, 1_000_000)
    await register(apq, QUERY_A)
    await register(apq, QUERY_B)
    assert (await apq.document(by_hash(QUERY_A))).query == QUERY_A  # A is now the most recent
    await register(apq, QUERY_C)
    assert kept(apq) == 2
    assert (await rejected(apq, by_hash(QUERY_B))).code == PERSISTED_QUERY_NOT_FOUND
    assert (await apq.document(by_hash(QUERY_A))).query == QUERY_A
    assert (await apq.document(by_hash(QUERY_C))).query == QUERY_C


async def test_apq_re_registering_refreshes_recency() -> None:
    apq = in_memory(2, 1_000_000)
    await register(apq, QUERY_A)
    await register(apq, QUERY_B)
    await register(apq, QUERY_A)
    await register(apq, QUERY_C)
    assert (await rejected(apq, by_hash(QUERY_B))).code == PERSISTED_QUERY_NOT_FOUND
    assert (await apq.document(by_hash(QUERY_A))).query == QUERY_A


async def test_apq_max_size_one() -> None:
    apq = in_memory(1, 1_000_000)
    await register(apq, QUERY_A)
    await register(apq, QUERY_B)
    assert kept(apq) == 1
    assert (await rejected(apq, by_hash(QUERY_A))).code == PERSISTED_QUERY_NOT_FOUND
    assert (await apq.document(by_hash(QUERY_B))).query == QUERY_B


@pytest.mark.parametrize(
    "params",
    [by_hash(QUERY_A), with_hash(QUERY_A)],
    ids=["hash-only", "hash-and-query"],
)
async def test_apq_turned_off(params: GraphQLParams) -> None:
    apq = in_memory(0, 1_000_000)
    error = await rejected(apq, params)
    assert (error.status, error.legacy_status) == (400, 200)
    assert error.code == PERSISTED_QUERY_NOT_SUPPORTED
    assert error.message == "PersistedQueryNotSupported"
    assert kept(apq) == 0


async def test_apq_turned_off_still_runs_plain_queries() -> None:
    assert await in_memory(0, 1_000_000).document(GraphQLParams(query=QUERY_A)) == Document(QUERY_A)


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


async def test_manifest_loads_its_operations(trusted: TrustedDocuments) -> None:
    assert len(trusted) == 2
    assert (await trusted.document(by_hash(QUERY_A))).query == QUERY_A
    assert (await trusted.document(by_hash(QUERY_B))).query == QUERY_B


async def test_empty_manifest(tmp_path: Path) -> None:
    documents = TrustedDocuments.from_manifest(write(tmp_path, manifest()))
    assert len(documents) == 0
    assert (await rejected(documents, GraphQLParams(query=QUERY_A))).code == QUERY_NOT_IN_SAFELIST


async def test_manifest_in_utf8(tmp_path: Path) -> None:
    body = '{ connections(filter: {title: "Prise électrique"}) { id } }'
    path = tmp_path / "manifest.json"
    path.write_bytes(json.dumps(manifest(body), ensure_ascii=False).encode("utf-8"))
    assert (await TrustedDocuments.from_manifest(path).document(by_hash(body))).query == body


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


async def test_trusted_listed_hash(trusted: TrustedDocuments) -> None:
    document = await trusted.document(by_hash(QUERY_B))
    assert document == Document(QUERY_B, persisted=True)


async def test_trusted_unlisted_hash(trusted: TrustedDocuments) -> None:
    error = await rejected(trusted, by_hash(QUERY_C))
    assert (error.status, error.legacy_status) == (400, 200)
    assert error.code == PERSISTED_QUERY_NOT_IN_LIST
    assert digest(QUERY_C) in error.message


async def test_trusted_unlisted_hash_with_its_query_is_not_learned(
    trusted: TrustedDocuments,
) -> None:
    # Unlike APQ, sending hash and text does not add the operation.
    assert (await rejected(trusted, with_hash(QUERY_C))).code == PERSISTED_QUERY_NOT_IN_LIST
    assert (await rejected(trusted, by_hash(QUERY_C))).code == PERSISTED_QUERY_NOT_IN_LIST
    assert len(trusted) == 2


@pytest.mark.parametrize("query", [QUERY_A, QUERY_B])
async def test_trusted_identical_freeform_text_runs(trusted: TrustedDocuments, query: str) -> None:
    assert await trusted.document(GraphQLParams(query=query)) == Document(query, persisted=True)


@pytest.mark.parametrize(
    "query",
    [
        QUERY_C,
        QUERY_A + " ",  # not the identical text
        QUERY_A.replace(" ", "  "),
        "{ __typename }",
    ],
)
async def test_trusted_other_text(trusted: TrustedDocuments, query: str) -> None:
    error = await rejected(trusted, GraphQLParams(query=query))
    assert (error.status, error.legacy_status) == (400, 200)
    assert error.code == QUERY_NOT_IN_SAFELIST


@pytest.mark.parametrize("query", [None, ""])
async def test_trusted_nothing_to_run(trusted: TrustedDocuments, query: str | None) -> None:
    error = await rejected(trusted, GraphQLParams(query=query, operation_name="Op0"))
    assert (error.status, error.legacy_status, error.code) == (400, 400, BAD_REQUEST)
    assert "'query'" in error.message


async def test_trusted_never_registers(trusted: TrustedDocuments) -> None:
    documents = [
        await trusted.document(by_hash(QUERY_A)),
        await trusted.document(with_hash(QUERY_A)),
        await trusted.document(GraphQLParams(query=QUERY_B)),
    ]
    assert [document.on_valid for document in documents] == [None, None, None]
    assert [document.query for document in documents] == [QUERY_A, QUERY_A, QUERY_B]


async def test_trusted_documents_from_a_dict() -> None:
    documents = TrustedDocuments({"custom-id": QUERY_A})
    assert len(documents) == 1
    assert (await documents.document(GraphQLParams(query=QUERY_A))).query == QUERY_A
    assert (await rejected(documents, by_hash(QUERY_A))).code == PERSISTED_QUERY_NOT_IN_LIST


async def test_trusted_hash_with_other_text_is_refused(tmp_path: Path) -> None:
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
    assert await source.document(same) == Document(QUERY_A, persisted=True)
    other = GraphQLParams(query=QUERY_A + " ", extensions=persisted(digest(QUERY_A)))
    assert (await rejected(source, other)).code == BAD_REQUEST
