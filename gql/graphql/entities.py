"""Apollo Federation entity resolution: `_entities` through the request's DataLoaders.

Each representation is checked first, so a malformed one gets its own BAD_USER_INPUT error
in its place while the others resolve; ids without a row resolve to null. All lookups of one
type share a loader, so any number of representations runs at most one statement per type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from strawberry.dataloader import DataLoader

from gql.graphql.errors import UserInputError
from gql.graphql.loaders import Loaders

if TYPE_CHECKING:
    from gql.graphql.context import Context

ENTITY_LOADERS: dict[str, Callable[[Loaders], DataLoader[int, Any]]] = {
    "ConnectionInfo": lambda loaders: loaders.connection_info,
    "ConnectionType": lambda loaders: loaders.connection_type,
    "StatusType": lambda loaders: loaders.status_type,
    "LevelType": lambda loaders: loaders.level,
    "SupplyType": lambda loaders: loaders.current_type,
    "ChargePoint": lambda loaders: loaders.charge_point,
    "Operator": lambda loaders: loaders.operator,
    "UsageType": lambda loaders: loaders.usage_type,
    "Country": lambda loaders: loaders.country,
}
_INT32 = range(-(2**31), 2**31)


def resolve_entities(context: Context, representations: list[Any]) -> list[Any]:
    """One awaitable (or error) per representation, in order."""
    results: list[Any] = []
    for index, representation in enumerate(representations):
        try:
            type_name, entity_id = _parse(representation)
        except ValueError as problem:
            results.append(
                UserInputError(f"representations[{index}]: {problem}", argument="representations")
            )
            continue
        results.append(ENTITY_LOADERS[type_name](context.loaders).load(entity_id))
    return results


def _parse(representation: Any) -> tuple[str, int]:
    if not isinstance(representation, dict):
        raise ValueError("a representation must be an object with __typename and id")
    type_name = representation.get("__typename")
    if type_name not in ENTITY_LOADERS:
        raise ValueError(
            f"__typename must be one of {', '.join(ENTITY_LOADERS)}, got {type_name!r}"
        )
    entity_id = representation.get("id")
    if not isinstance(entity_id, int) or isinstance(entity_id, bool) or entity_id not in _INT32:
        raise ValueError(f"{type_name} is keyed by an Int `id`, got {entity_id!r}")
    return type_name, entity_id
