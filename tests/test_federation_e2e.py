"""Federation, proven with Apollo's own tools, all on loopback: our server (uvicorn, a real
SQLite file), a second subgraph written with @apollo/subgraph and @apollo/server, and
@apollo/gateway composing both with IntrospectAndCompose. Answers through the gateway must
equal what our server answers directly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.conftest import REPO_ROOT, run_cli
from tests.databases import throwaway_database
from tests.processes import Process, free_port, npm_project, ocm_server

pytestmark = pytest.mark.e2e

NODE_PROJECT = REPO_ROOT / "tests" / "federation"
# Nothing may leave loopback: no telemetry, no schema or usage reporting.
NODE_ENV = {"APOLLO_TELEMETRY_DISABLED": "true", "APOLLO_KEY": "", "NODE_ENV": "test"}
DEMO = 1_000_000_000
INSPECTED = [DEMO + 1, DEMO + 2, DEMO + 17, DEMO + 250]


@pytest.fixture(scope="module")
def node_project() -> Path:
    return npm_project(NODE_PROJECT, "@apollo/gateway", "the federation end-to-end test")


def _node(script: str, port: int, env: dict[str, str], project: Path) -> Process:
    return Process(
        ["node", script],
        port=port,
        cwd=project,
        env={**NODE_ENV, **env, "PORT": str(port)},
        ready_path="/?query=%7B__typename%7D",
        timeout=120,
    )


@pytest.fixture(scope="module")
def stack(
    backend: str, node_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Process, Process]]:
    folder = tmp_path_factory.mktemp("federation")
    with throwaway_database(backend, folder) as db:
        yield from _stack(db, folder, node_project)


def _stack(
    db: str, folder: Path, node_project: Path, env: dict[str, str] | None = None
) -> Iterator[tuple[Process, Process]]:
    """Our server (with ``env`` added to its environment), the inspections subgraph and
    the gateway composing both."""
    run_cli("seed", "--database-url", db, "--demo", "300")
    ours = ocm_server("--database-url", db, cwd=folder, env=env)
    processes = [ours]
    try:
        inspections = _node(
            "inspections-subgraph.mjs",
            free_port(),
            {
                "INSPECTED_IDS": ",".join(map(str, INSPECTED)),
                "AUDITED_SITE_IDS": ",".join(map(str, _audited_sites(ours))),
            },
            node_project,
        )
        processes.append(inspections)
        gateway = _node(
            "gateway.mjs",
            free_port(),
            {"OCM_URL": f"{ours.url}/graphql", "INSPECTIONS_URL": inspections.url},
            node_project,
        )
        processes.append(gateway)
        yield ours, gateway
    finally:
        for process in reversed(processes):
            process.stop()


def _query(url: str, query: str) -> dict[str, Any]:
    response = httpx2.post(
        url, json={"query": query}, headers={"apollo-require-preflight": "true"}, timeout=60
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


CONNECTION_FIELDS = (
    "id powerKw amps voltage connectionType { id title formalName } "
    "statusType { title isOperational } currentType { title }"
)


def _direct(ours: Process, ids: list[int], fields: str = CONNECTION_FIELDS) -> dict[int, Any]:
    aliases = " ".join(f"c{i}: connectionInfo(id: {i}) {{ {fields} }}" for i in ids)
    data = _query(f"{ours.url}/graphql", f"{{ {aliases} }}")["data"]
    return {i: data[f"c{i}"] for i in ids}


def test_our_entities_extended_by_the_other_subgraph(stack: tuple[Process, Process]) -> None:
    ours, gateway = stack
    data = _query(
        gateway.url,
        f"""{{ connectionInfos(first: 5) {{ nodes {{
            {CONNECTION_FIELDS}
            lastInspection {{ passed note recommendedConnectionType {{ id title }} }}
        }} }} }}""",
    )["data"]
    nodes = data["connectionInfos"]["nodes"]
    assert [n["id"] for n in nodes] == [DEMO + i for i in range(1, 6)]
    direct = _direct(ours, [n["id"] for n in nodes])
    types = {
        t["id"]: t["title"]
        for t in _query(f"{ours.url}/graphql", "{ connectionTypes { id title } }")["data"][
            "connectionTypes"
        ]
    }
    for node in nodes:
        inspection = node.pop("lastInspection")
        assert node == direct[node["id"]]
        assert inspection["note"] == f"Inspection of connection {node['id']}"
        assert inspection["passed"] is (node["id"] % 2 == 0)
        # The other subgraph only knows the id; the title came back from our _entities.
        recommended = inspection["recommendedConnectionType"]
        assert recommended["id"] == (33 if node["id"] % 2 == 0 else 25)
        assert recommended["title"] == types[recommended["id"]]


def test_the_other_subgraphs_objects_resolve_our_entities(stack: tuple[Process, Process]) -> None:
    ours, gateway = stack
    data = _query(
        gateway.url,
        f"""{{ inspections {{
            connectionInfoId note
            connectionInfo {{ {CONNECTION_FIELDS} }}
            recommendedConnectionType {{ id title formalName isObsolete }}
        }} }}""",
    )["data"]
    inspections = data["inspections"]
    assert [i["connectionInfoId"] for i in inspections] == INSPECTED
    direct = _direct(ours, INSPECTED)
    direct_types = _query(
        f"{ours.url}/graphql",
        "{ t25: connectionType(id: 25) { id title formalName isObsolete } "
        "t33: connectionType(id: 33) { id title formalName isObsolete } }",
    )["data"]
    for inspection in inspections:
        assert inspection["connectionInfo"] == direct[inspection["connectionInfoId"]]
        expected_type = direct_types["t33" if inspection["connectionInfoId"] % 2 == 0 else "t25"]
        assert inspection["recommendedConnectionType"] == expected_type


SITE_FIELDS = (
    "id title address { town country { isoCode title } } location { latitude longitude } "
    "operatorId usageType { title } statusType { title } connections { id powerKw }"
)


def _audited_sites(ours: Process) -> list[int]:
    """Four sites of our demo data, for the other subgraph to audit."""
    query = "{ chargePoints(first: 4, orderBy: ID_DESC) { nodes { id } } }"
    nodes = _query(f"{ours.url}/graphql", query)["data"]["chargePoints"]["nodes"]
    assert len(nodes) == 4
    return [node["id"] for node in nodes]


def _direct_sites(ours: Process, ids: list[int]) -> dict[int, Any]:
    aliases = " ".join(f"s{i}: chargePoint(id: {i}) {{ {SITE_FIELDS} }}" for i in ids)
    data = _query(f"{ours.url}/graphql", f"{{ {aliases} }}")["data"]
    return {i: data[f"s{i}"] for i in ids}


def test_our_charge_points_extended_by_the_other_subgraph(stack: tuple[Process, Process]) -> None:
    ours, gateway = stack
    data = _query(
        gateway.url,
        f"{{ chargePoints(first: 5) {{ totalCount nodes {{ {SITE_FIELDS} auditCount }} }} }}",
    )["data"]["chargePoints"]
    nodes = data["nodes"]
    assert len(nodes) == 5
    direct = _direct_sites(ours, [node["id"] for node in nodes])
    for node in nodes:
        assert node.pop("auditCount") == node["id"] % 5
        assert node == direct[node["id"]]


def test_the_other_subgraph_resolves_our_charge_points_and_operators(
    stack: tuple[Process, Process],
) -> None:
    ours, gateway = stack
    audits = _query(
        gateway.url,
        f"""{{ siteAudits {{ chargePointId chargePoint {{ {SITE_FIELDS} auditCount }}
              operator {{ id title websiteUrl }} }} }}""",
    )["data"]["siteAudits"]
    ids = [audit["chargePointId"] for audit in audits]
    assert len(ids) == 4
    direct = _direct_sites(ours, ids)
    operators = _query(
        f"{ours.url}/graphql",
        "{ o3: operator(id: 3) { id title websiteUrl } "
        "o5: operator(id: 5) { id title websiteUrl } }",
    )["data"]
    for audit in audits:
        site = audit["chargePoint"]
        assert site.pop("auditCount") == audit["chargePointId"] % 5
        assert site == direct[audit["chargePointId"]]
        assert audit["operator"] == operators["o5" if audit["chargePointId"] % 2 == 0 else "o3"]
        assert audit["operator"]["title"]


def test_composition_has_no_errors(node_project: Path) -> None:
    sdl = subprocess.run(
        [sys.executable, "-m", "gql", "export-schema", "--federation"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = subprocess.run(
        ["node", "compose.mjs"],
        input=sdl,
        cwd=node_project,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **NODE_ENV},
    )
    outcome = json.loads(result.stdout)
    print(f"composition: {len(outcome['errors'])} errors, hints: {outcome['hints'] or 'none'}")
    assert outcome["errors"] == []
    assert outcome["supergraph"] is True
