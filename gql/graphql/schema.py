"""The schema: an Apollo Federation 2 subgraph, and its two SDLs.

`public_sdl()` is the API as clients see it (schema.graphql); `federation_sdl()` adds the
federation directives and fields, for a schema registry or a gateway.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import strawberry
from graphql import GraphQLError, GraphQLObjectType, GraphQLSchema, print_schema
from strawberry.extensions.tracing.apollo_federation import ApolloFederationTracingExtension
from strawberry.federation.schema import FederationAny

from gql.graphql.batched import SHORTCUTS
from gql.graphql.entities import resolve_entities
from gql.graphql.errors import ErrorCodes
from gql.graphql.fastpath import FastExecutor
from gql.graphql.limits.extension import RequestLimits
from gql.graphql.mutations import Mutation
from gql.graphql.query import Query
from gql.graphql.subscriptions import Subscription

FEDERATION_VERSION: Final = "2.11"  # the newest Strawberry supports
_FEDERATION_FIELDS = {"_entities", "_service"}


class Schema(strawberry.federation.Schema):
    def __init__(self, *args: Any, executor: Callable[..., Any] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.executor = executor
        """graphql-core's `execute`, or one that stands in for it."""

    @property
    def graphql_schema(self) -> GraphQLSchema:
        """graphql-core's schema, which Strawberry keeps private."""
        return self._schema

    def _get_execute_function(self) -> Callable[..., Any]:
        return self.executor or super()._get_execute_function()

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Left to ErrorCodes, which logs unexpected errors once, under their error id."""

    # Strawberry builds `_entities` from this method; its annotations name the _Any scalar.
    def entities_resolver(
        self, info: strawberry.Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        return resolve_entities(info.context, representations)


# Pages of connections run on the fast executor; the traced twin below stays standard.
fast_executor = FastExecutor(SHORTCUTS)

schema = Schema(
    executor=fast_executor,
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[ErrorCodes, RequestLimits],
    federation_version=FEDERATION_VERSION,
)

# Tracing wraps every resolver, which costs even when no trace is asked for, so requests
# from a gateway that want one (header `apollo-federation-include-trace: ftv1`) run on
# this twin instead.
traced_schema = Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[ErrorCodes, RequestLimits, ApolloFederationTracingExtension],
    federation_version=FEDERATION_VERSION,
)
TRACE_HEADER: Final = "apollo-federation-include-trace"


def federation_sdl() -> str:
    return schema.as_str() + "\n"


def public_sdl() -> str:
    full = schema._schema
    query = full.query_type
    assert query is not None
    public_query = GraphQLObjectType(
        query.name,
        fields={k: v for k, v in query.fields.items() if k not in _FEDERATION_FIELDS},
        description=query.description,
    )
    types = [
        graphql_type
        for name, graphql_type in sorted(full.type_map.items())
        # Federation's own types are all named `_Name` or `link__Name`.
        if name != query.name and not name.startswith(("_", "link__"))
    ]
    roots = {full.mutation_type, full.subscription_type}
    public = GraphQLSchema(
        query=public_query,
        mutation=full.mutation_type,
        subscription=full.subscription_type,
        types=[graphql_type for graphql_type in types if graphql_type not in roots],
    )
    return print_schema(public) + "\n"
