"""Shopify's calculated query cost, by its published rules.

- a scalar or enum field costs 0, an object field 1 (plus what is selected inside it);
- a connection costs 2 plus, for each node, the node's object and what is selected in it;
  a list field given `first` is priced the same way; other lists count as one object;
- each mutation field costs 10, whatever its payload selects.

The requested cost is computed before execution, counting `first` (or `last`) nodes for every
connection; the actual cost walks the data that came back, counting the nodes really returned and
1 for an object that came back null. Real 2026 responses charge nested connections less than these
rules say (Shopify prices some fields its own way); the sandbox keeps to the published rules, so
it is never cheaper than they promise.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
)
from graphql.execution.values import get_argument_values

OBJECT = 1
CONNECTION = 2
MUTATION = 10
MAX_QUERY_COST = 1000

_STATIC = object()  # "no data": price what is requested, not what came back
# An interface (a connection of ReturnLineItemType) is priced as the object it stands for.
Composite = GraphQLObjectType | GraphQLInterfaceType


def requested_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any],
) -> int:
    return _Pricing(schema, document, variables).operation(operation, _STATIC)


def actual_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any],
    data: dict[str, Any] | None,
) -> int:
    return _Pricing(schema, document, variables).operation(operation, data or {})


class _Pricing:
    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any]
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def operation(self, operation: OperationDefinitionNode, data: Any) -> int:
        root = self.schema.get_root_type(operation.operation)
        assert root is not None
        if operation.operation == OperationType.MUTATION:
            return MUTATION * sum(1 for _ in self._fields(root, operation.selection_set))
        return self._selection(root, operation.selection_set, data)

    def _selection(self, parent: Composite, selection: SelectionSetNode, data: Any) -> int:
        total = 0
        for owner, node in self._fields(parent, selection):
            name = node.name.value
            if name.startswith("__"):
                continue
            key = node.alias.value if node.alias else name
            value = data if data is _STATIC else (data or {}).get(key)
            total += self._field(owner.fields[name], node, value)
        return total

    def _field(self, field: GraphQLField, node: FieldNode, value: Any) -> int:
        named = get_named_type(field.type)
        if is_leaf_type(named) or node.selection_set is None:
            return 0
        assert isinstance(named, Composite)
        arguments = get_argument_values(field, node, self.variables)
        page = arguments.get("first") or arguments.get("last") or 0
        if _is_connection(named):
            return CONNECTION + self._connection(named, node.selection_set, page, value)
        element = lambda item: OBJECT + self._selection(named, node.selection_set, item)  # noqa: E731
        if is_list_type(get_nullable_type(field.type)) and page:
            if value is _STATIC:
                return CONNECTION + page * element(_STATIC)
            return CONNECTION + sum(element(item) for item in value or [])
        if is_list_type(get_nullable_type(field.type)):
            return element(_STATIC)  # priced as one object, whatever came back
        if value is None:
            return OBJECT  # an object that came back null still cost its lookup
        return element(value)

    def _connection(
        self, connection: Composite, selection: SelectionSetNode, page: int, value: Any
    ) -> int:
        total = 0
        for owner, node in self._fields(connection, selection):
            name = node.name.value
            if name not in ("nodes", "edges") or node.selection_set is None:
                continue  # pageInfo and cursors are part of the connection's own 2
            item_type = get_named_type(owner.fields[name].type)
            assert isinstance(item_type, Composite)
            # A node is an object; an edge is not counted apart from the node inside it.
            extra = OBJECT if name == "nodes" else 0
            if value is _STATIC:
                total += page * (extra + self._selection(item_type, node.selection_set, _STATIC))
                continue
            key = node.alias.value if node.alias else name
            for item in (value or {}).get(key) or []:
                total += extra + self._selection(item_type, node.selection_set, item)
        return total

    def _fields(
        self, parent: Composite, selection: SelectionSetNode
    ) -> Iterator[tuple[Composite, FieldNode]]:
        for node in selection.selections:
            if isinstance(node, FieldNode):
                yield parent, node
            elif isinstance(node, FragmentSpreadNode):
                fragment = self.fragments[node.name.value]
                yield from self._fields(self._condition(parent, fragment), fragment.selection_set)
            elif isinstance(node, InlineFragmentNode):
                yield from self._fields(self._condition(parent, node), node.selection_set)

    def _condition(
        self, parent: Composite, fragment: FragmentDefinitionNode | InlineFragmentNode
    ) -> Composite:
        if fragment.type_condition is None:
            return parent
        named = self.schema.get_type(fragment.type_condition.name.value)
        return named if isinstance(named, Composite) else parent


def _is_connection(named: Composite) -> bool:
    return named.name.endswith("Connection") and "pageInfo" in named.fields
