"""Which npm files the GraphiQL playground serves: read by the server (playground.py) and by
the wheel's build hook (hatch_build.py), which copies exactly these into the wheel. It
imports nothing, so the hook can load it before the package's dependencies exist."""

from __future__ import annotations

JS = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"
# (npm package, file in it, content type): the only files served, scripts in load order.
# GraphiQL's CSS inlines its fonts and icons as data: URLs, and its bundle holds the
# graphql-ws client its subscriptions use, so nothing else is needed.
FILES = (
    ("react", "umd/react.production.min.js", JS),
    ("react-dom", "umd/react-dom.production.min.js", JS),
    ("graphiql", "graphiql.min.js", JS),
    ("graphiql", "graphiql.min.css", CSS),
)
PACKAGES = tuple(dict.fromkeys(package for package, _, _ in FILES))
# Where a wheel carries them, below the `gql` package, laid out as in node_modules.
PACKAGED_FOLDER = "_playground_assets"


def required_files() -> list[str]:
    """Paths below a node_modules folder: each package's manifest (its version goes into
    the asset URLs) and every served file."""
    return [f"{package}/package.json" for package in PACKAGES] + [
        f"{package}/{file}" for package, file, _ in FILES
    ]
