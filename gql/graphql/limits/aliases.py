"""Maximum aliases in a document: aliases are how one request asks for the same costly
field many times over."""

from __future__ import annotations

from typing import Any, Final

from graphql import DocumentNode, FieldNode, GraphQLError, ValidationRule, visit
from graphql.language import Visitor

TOO_MANY_ALIASES: Final = "TOO_MANY_ALIASES"


def max_aliases_rule(limit: int) -> type[ValidationRule]:
    class MaxAliasesRule(ValidationRule):
        def enter_document(self, node: DocumentNode, *_: Any) -> None:
            counter = _AliasCounter()
            visit(node, counter)
            if counter.count > limit:
                self.report_error(
                    GraphQLError(
                        f"The document has {counter.count} aliases; at most {limit} are allowed.",
                        extensions={
                            "code": TOO_MANY_ALIASES,
                            "aliases": counter.count,
                            "maxAliases": limit,
                        },
                    )
                )

    return MaxAliasesRule


class _AliasCounter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.alias is not None:
            self.count += 1
