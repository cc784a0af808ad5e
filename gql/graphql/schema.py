"""The Strawberry schema, and its SDL as `ocm-gql export-schema` prints it."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError

from gql.graphql.errors import ErrorCodes
from gql.graphql.query import Query


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Left to ErrorCodes, which logs unexpected errors once, under their error id."""


schema = Schema(query=Query, extensions=[ErrorCodes])


def sdl() -> str:
    return schema.as_str() + "\n"
