"""The running ocm-gql's version. pyproject.toml's `version` is its one source: installing
(from a wheel, or editable from the checkout) writes it into the package's metadata."""

from __future__ import annotations

from importlib.metadata import version

VERSION = version("ocm-gql")
