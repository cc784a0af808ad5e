"""A faster executor for the common case, falling back to graphql-core's for the rest.

graphql-core completes values one field of one object at a time, which costs a few
microseconds each: a page of 1,000 connections with their relations is some 20,000 such
steps. This executor plans an operation once per (document, operation, directive
variables) and then completes it a column at a time: a field is read for every object of
a level at once (attribute reads, or one batched call for the relations), and the objects
of the next level are gathered across all parents.

It is optimistic: queries only; unions and interfaces only through their own type
resolver; no introspection but `__typename`; no @defer/@stream. Anything it does not handle exactly
like graphql-core (an unsupported document, a resolver error, a null in a non-null
field, a value its scalar does not serialize as is) makes it give up and the operation
runs again on graphql-core's executor, which reports errors the standard way. Queries
have no side effects, so a rerun is safe. Differential tests compare both executors'
responses.

The modules: `executor` (the entry points), `planner` (plans, cached with their
document), `plans` (what a plan is made of), `columns` (completing a level a column at a
time), `leaves` (scalar and enum columns), `shortcuts` (what resolvers register: fields read
for a whole level at once), `fallback` (why graphql-core's executor answers instead), and
`lane` (queries answered without Strawberry's per-request pipeline). `lane` imports the
schema, which imports this package: it is not imported here.
"""

from __future__ import annotations

from gql.graphql.fastpath.executor import FastExecutor
from gql.graphql.fastpath.fallback import Fallback

__all__ = ["Fallback", "FastExecutor"]
