"""Persisted queries as clients send them, computed here independently of the server's
own hashing (gql/http/persisted.py): APQ extensions and trusted-document manifests."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def sha256(query: str) -> str:
    return hashlib.sha256(query.encode("utf-8")).hexdigest()


def apq_extensions(query: str) -> dict[str, Any]:
    """The `extensions` naming ``query`` by its hash (Apollo's APQ, version 1)."""
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}}


def write_manifest(path: Path, *bodies: str) -> Path:
    """An Apollo persisted-query manifest listing ``bodies``, as
    generate-persisted-query-manifest writes it."""
    operations = [{"id": sha256(body), "body": body} for body in bodies]
    path.write_text(
        json.dumps(
            {"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}
        )
    )
    return path
