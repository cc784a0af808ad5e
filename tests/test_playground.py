"""The GraphiQL playground in process: the page for browsers, its files served from here
with nothing from any other origin, a whitelist that serves nothing else, and a clear
message when the files are not installed."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import graphql
import pytest
from starlette.testclient import TestClient

from gql.app import create_app
from gql.graphql.schema import schema
from gql.http.playground import (
    ASSETS_URL_PREFIX,
    CHECKOUT_ASSETS_DIR,
    EXAMPLE_QUERY,
    EXAMPLE_SUBSCRIPTION,
    INSTALL_COMMAND,
    PACKAGED_ASSETS_DIR,
    default_assets_dir,
    find_assets_dir,
    prefers_html,
)
from gql.http.playground_files import required_files
from gql.settings import Settings
from tests.conftest import REPO_ROOT
from tests.processes import npm_project

BROWSER_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
# What the npm packages must hold: the served files and the manifests giving their versions.
INSTALLED_FILES = [
    "graphiql/package.json",
    "graphiql/graphiql.min.js",
    "graphiql/graphiql.min.css",
    "react/package.json",
    "react/umd/react.production.min.js",
    "react-dom/package.json",
    "react-dom/umd/react-dom.production.min.js",
]
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


def playground_assets() -> Path:
    """The checkout's playground files, installed from the lock file (npm ci) when missing."""
    assets = find_assets_dir(None)
    if assets is not None:
        return assets
    npm_project(REPO_ROOT / "gql" / "playground", "graphiql", "the playground files")
    assets = find_assets_dir(None)
    assert assets is not None, f"{INSTALL_COMMAND} did not install the playground files"
    return assets


@pytest.fixture
def client(demo_db: str) -> Iterator[TestClient]:
    playground_assets()
    with TestClient(create_app(Settings(database_url=demo_db))) as test_client:
        yield test_client


class _Page(HTMLParser):
    """Every URL the page refers to, and its data blocks by id."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.data: dict[str, str] = {}
        self._in_data: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value or "" for name, value in attrs if name in ("src", "href", "action")]
        attributes = dict(attrs)
        if tag == "script" and attributes.get("type") == "application/json":
            self._in_data = attributes.get("id") or ""

    def handle_data(self, data: str) -> None:
        if self._in_data is not None:
            self.data[self._in_data] = data
            self._in_data = None


def _page(client: TestClient) -> _Page:
    response = client.get("/graphql", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return _Page(response.text)


def test_browsers_get_the_playground(client: TestClient) -> None:
    response = client.get("/graphql", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "Accept" in response.headers["vary"].split(", ")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "connect-src 'self'" in csp
    assert '<div id="graphiql">' in response.text


def test_the_page_refers_only_to_its_own_origin(client: TestClient) -> None:
    response = client.get("/graphql", headers={"Accept": BROWSER_ACCEPT})
    assert "://" not in response.text
    page = _Page(response.text)
    assert page.urls
    for url in page.urls:
        assert url == "data:," or (url.startswith("/") and not url.startswith("//")), url


def test_every_asset_the_page_uses_is_served(client: TestClient) -> None:
    assets = [url for url in _page(client).urls if url.startswith(ASSETS_URL_PREFIX + "/")]
    assert sorted(Path(url).name for url in assets) == [
        "graphiql.min.css",
        "graphiql.min.js",
        "react-dom.production.min.js",
        "react.production.min.js",
    ]
    for url in assets:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"] == CONTENT_TYPES[Path(url).suffix], url
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert len(response.content) > 1000
        assert client.head(url).status_code == 200


def test_asset_urls_carry_the_installed_versions(client: TestClient) -> None:
    urls = _page(client).urls
    for package in ("graphiql", "react", "react-dom"):
        manifest = json.loads((playground_assets() / package / "package.json").read_text())
        assert any(f"/{package}@{manifest['version']}/" in url for url in urls), package


@pytest.mark.parametrize(
    "path",
    [
        f"{ASSETS_URL_PREFIX}/",
        f"{ASSETS_URL_PREFIX}/graphiql@3.8.3/package.json",
        f"{ASSETS_URL_PREFIX}/graphiql@3.8.3/graphiql.js",
        f"{ASSETS_URL_PREFIX}/graphiql@9.9.9/graphiql.min.js",
        f"{ASSETS_URL_PREFIX}/graphiql.min.js",
        f"{ASSETS_URL_PREFIX}/react@18.3.1/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
        f"{ASSETS_URL_PREFIX}/react@18.3.1/..%2F..%2F..%2F..%2Fpyproject.toml",
        f"{ASSETS_URL_PREFIX}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    ],
)
def test_nothing_outside_the_whitelist_is_served(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_api_requests_still_reach_graphql(client: TestClient) -> None:
    query = "{ levels { id } }"
    for accept in ("*/*", "application/json", "application/graphql-response+json"):
        response = client.get("/graphql", params={"query": query}, headers={"Accept": accept})
        assert response.json()["data"]["levels"], accept
        no_query = client.get("/graphql", headers={"Accept": accept})
        assert not no_query.headers.get("content-type", "").startswith("text/html"), accept
    # A link with a query, opened in a browser, shows the answer, not the playground.
    response = client.get("/graphql", params={"query": query}, headers={"Accept": BROWSER_ACCEPT})
    assert response.json()["data"]["levels"]
    assert client.post("/graphql", json={"query": query}).json()["data"]["levels"]


@pytest.mark.parametrize(
    ("accept", "page"),
    [
        (BROWSER_ACCEPT, True),
        ("text/html", True),
        ("application/json;q=0.5, text/html", True),
        ("", False),
        ("*/*", False),
        ("application/json", False),
        ("application/graphql-response+json, application/json", False),
        ("text/html, application/json", False),  # a tie keeps the API
        ("text/*;q=0.9, application/json", False),
        ("application/json;q=0.9, text/*", True),
        ("text/html;q=0, */*", False),
        ("text/html;q=bad, */*;q=0.1", False),
    ],
)
def test_which_accept_headers_get_the_page(accept: str, page: bool) -> None:
    assert prefers_html(accept) is page


def test_the_editor_opens_with_an_example_that_runs(client: TestClient) -> None:
    config = json.loads(_page(client).data["playground-config"])
    assert config == {"endpoint": "/graphql", "examples": [EXAMPLE_QUERY, EXAMPLE_SUBSCRIPTION]}
    assert "level" not in EXAMPLE_QUERY  # deprecated, so not featured
    body = client.post("/graphql", json={"query": EXAMPLE_QUERY}).json()
    assert "errors" not in body, body
    page = body["data"]["chargePoints"]
    assert page["totalCount"] > 10  # the demo data clusters sites around towns, Tallinn too
    nodes = [edge["node"] for edge in page["edges"]]
    assert len(nodes) == 10
    distances = [node["distanceKm"] for node in nodes]
    assert distances == sorted(distances)
    assert all(0 <= distance <= 25 for distance in distances)
    assert all(node["connections"] for node in nodes)


def test_the_subscription_example_and_the_mutation_it_suggests_are_valid() -> None:
    mutation = "".join(
        line.removeprefix("#") for line in EXAMPLE_SUBSCRIPTION.splitlines() if line[:4] == "#   "
    )
    assert mutation.strip().startswith("mutation { setConnectionStatus(")
    for example in (EXAMPLE_SUBSCRIPTION, mutation):
        assert graphql.validate(schema._schema, graphql.parse(example)) == [], example
    operation = graphql.get_operation_ast(graphql.parse(EXAMPLE_SUBSCRIPTION))
    assert operation is not None
    assert operation.operation == graphql.OperationType.SUBSCRIPTION


def test_the_suggested_connection_is_the_first_demo_one(client: TestClient) -> None:
    (first,) = client.post(
        "/graphql", json={"query": "{ connectionInfos(first: 1) { nodes { id } } }"}
    ).json()["data"]["connectionInfos"]["nodes"]
    assert f"setConnectionStatus(id: {first['id']}," in EXAMPLE_SUBSCRIPTION


def test_missing_files_give_a_clear_message(
    demo_db: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    empty = tmp_path / "node_modules"
    empty.mkdir()
    with caplog.at_level(logging.WARNING, logger="gql.playground"):
        app = create_app(Settings(database_url=demo_db, playground_assets=empty))
    (warning,) = [record for record in caplog.records if record.name == "gql.playground"]
    assert INSTALL_COMMAND in warning.getMessage()
    assert str(empty) in warning.getMessage()
    with TestClient(app) as client:
        response = client.get("/graphql", headers={"Accept": BROWSER_ACCEPT})
        assert response.status_code == 503
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert f"<code>{INSTALL_COMMAND}</code>" in response.text  # a checkout
        assert "installed from a wheel" in response.text
        assert "reinstall it" in response.text
        assert "<script" not in response.text
        assert client.get(f"{ASSETS_URL_PREFIX}/graphiql@3.8.3/graphiql.min.js").status_code == 404
        query = {"query": "{ levels { id } }"}
        assert client.post("/graphql", json=query).json()["data"]["levels"]


def test_the_default_folder_is_the_checkouts() -> None:
    """A checkout has no wheel's copy (tests/test_packaging.py checks the wheel's)."""
    assert CHECKOUT_ASSETS_DIR == REPO_ROOT / "gql" / "playground" / "node_modules"
    assert not PACKAGED_ASSETS_DIR.exists()
    assert find_assets_dir(None) == playground_assets() == default_assets_dir()
    assert default_assets_dir() == CHECKOUT_ASSETS_DIR


def test_the_shared_list_names_every_installed_file() -> None:
    assert sorted(required_files()) == sorted(INSTALLED_FILES)


def test_the_setting_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OCM_GQL_PLAYGROUND_ASSETS", str(tmp_path))
    assert Settings.from_env(env_file=None).playground_assets == tmp_path
    monkeypatch.setenv("OCM_GQL_PLAYGROUND_ASSETS", "")
    assert Settings.from_env(env_file=None).playground_assets is None
    monkeypatch.delenv("OCM_GQL_PLAYGROUND_ASSETS")
    assert Settings.from_env(env_file=None).playground_assets is None


def test_an_override_folder_is_used(demo_db: str, tmp_path: Path) -> None:
    override = tmp_path / "node_modules"
    for file in INSTALLED_FILES:
        (override / file).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(playground_assets() / file, override / file)
    (override / "graphiql" / "graphiql.min.css").write_text("/* from the override */")
    assert find_assets_dir(override) == override
    with TestClient(
        create_app(Settings(database_url=demo_db, playground_assets=override))
    ) as client:
        (css,) = [url for url in _page(client).urls if url.endswith(".css")]
        assert client.get(css).text == "/* from the override */"
