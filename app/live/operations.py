"""Operations sent over a websocket, parsed and validated once per distinct document."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
    parse,
    validate,
)

# A document longer than this many tokens is refused before it is fully parsed.
MAX_TOKENS = 2000
CACHE_SIZE = 512


@dataclass(frozen=True, slots=True)
class Prepared:
    """A validated operation: what a subscription group is keyed by and executes."""

    key: str  # the document's hash
    document: DocumentNode
    operation: OperationDefinitionNode
    operation_name: str | None

    @property
    def is_subscription(self) -> bool:
        return self.operation.operation is OperationType.SUBSCRIPTION

    @property
    def root_field(self) -> str | None:
        """The subscription's one root field, when named directly (not through a fragment)."""
        for selection in self.operation.selection_set.selections:
            if isinstance(selection, FieldNode):
                return selection.name.value
        return None


class Operations:
    """Parses and validates each distinct (document, operation name) once; keeps the most
    recently used CACHE_SIZE, valid ones only (an invalid document is cheap to refuse again)."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self._cache: OrderedDict[tuple[str, str | None], Prepared] = OrderedDict()

    def prepare(self, query: object, operation_name: object) -> Prepared | list[GraphQLError]:
        if not isinstance(query, str) or (operation_name is not None and not isinstance(operation_name, str)):
            return [GraphQLError("The payload must hold `query` (a string) and an optional `operationName` (a string).")]
        cache_key = (query, operation_name)
        prepared = self._cache.get(cache_key)
        if prepared is not None:
            self._cache.move_to_end(cache_key)
            return prepared
        try:
            document = parse(query, max_tokens=MAX_TOKENS)
        except GraphQLError as error:
            return [error]
        errors = validate(self.schema, document)
        if errors:
            return errors
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            message = (
                f"Unknown operation named '{operation_name}'."
                if operation_name
                else "Must provide operation name if query contains multiple operations."
            )
            return [GraphQLError(message)]
        prepared = Prepared(
            key=hashlib.sha256(query.encode()).hexdigest(),
            document=document,
            operation=operation,
            operation_name=operation_name,
        )
        self._cache[cache_key] = prepared
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return prepared
