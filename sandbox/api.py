"""The Admin GraphQL endpoint's answer to one request body, Shopify's way.

In Shopify's order: a document that does not parse or validate, or whose variables do not fit,
is answered with its errors and charged nothing. Then its requested cost is computed before
anything runs, and a query above 1,000 points is refused (MAX_COST_EXCEEDED). The bucket must hold
the requested cost or the answer is THROTTLED, with no data. After execution the unused part
(requested - actual) goes back into the bucket. Every answer that got that far carries
`extensions.cost` as real responses do. All of these come back with HTTP 200.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    build_schema,
    execute,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values
from graphql.utilities import get_operation_ast

from sandbox import cost, resolvers
from sandbox.bucket import Bucket
from sandbox.faults import Fault
from sandbox.store import Store

SCHEMA_PATH = Path(__file__).with_name("schema.graphql")
THROTTLED = {
    "message": "Throttled",
    "extensions": {
        "code": "THROTTLED",
        "documentation": "https://shopify.dev/api/usage/rate-limits",
    },
}
MAX_COST_MESSAGE = """Query cost is {cost}, which exceeds the single query max cost limit (1000).

See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the
cost of a query is calculated.

To query larger amounts of data with fewer limits, bulk operations should be used instead.
See https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.
"""
# What a real ACCESS_DENIED names as missing (captures/.../orderCreateManualPayment-access-...).
REQUIRED_ACCESS = {
    OperationType.QUERY: "`read_orders` access scope.",
    OperationType.MUTATION: "`write_orders` access scope.",
}


def datetime_text(moment: datetime) -> str:
    """Shopify's DateTime: UTC with a Z, in whole seconds unless the moment has a fraction (the
    sandbox's stamps do, so that no two changes share one)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ")


def decimal_text(amount: Decimal) -> str:
    """Shopify's Decimal: no trailing zeros, but always a fraction ("29.0", "24.95")."""
    text = format(amount.normalize(), "f")
    return text if "." in text else f"{text}.0"


def load_schema() -> GraphQLSchema:
    schema = build_schema(SCHEMA_PATH.read_text())
    scalars = (("DateTime", datetime_text), ("Decimal", decimal_text), ("URL", str), ("Money", str))
    for name, serialize in scalars:
        scalar = schema.type_map[name]
        scalar.serialize = scalar.coerce_output_value = serialize  # type: ignore[attr-defined]
    # An object's kind is its GraphQL type: Order for gid://shopify/Order/...
    for interface in ("Node", "ReturnLineItemType", "CalculatedDiscountApplication", "Media"):
        schema.type_map[interface].resolve_type = lambda value, *_: value.kind  # type: ignore[attr-defined]
    for (type_name, field_name), resolve in resolvers.RESOLVERS.items():
        schema.type_map[type_name].fields[field_name].resolve = resolve  # type: ignore[attr-defined]
    return schema


SCHEMA = load_schema()


@functools.lru_cache(maxsize=512)
def prepared(query: str) -> tuple[DocumentNode | None, tuple[GraphQLError, ...]]:
    """Parsed and validated once per distinct document: clients send the same few."""
    try:
        document = parse(query)
    except GraphQLError as error:
        return None, (error,)
    return document, tuple(validate(SCHEMA, document))


def is_mutation(query: str, operation_name: str | None) -> bool:
    document, errors = prepared(query)
    if document is None or errors:
        return False
    operation = get_operation_ast(document, operation_name)
    return operation is not None and operation.operation == OperationType.MUTATION


class AdminAPI:
    def __init__(self, store: Store, bucket: Bucket) -> None:
        self.store = store
        self.bucket = bucket

    def answer(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        operation_name: str | None = None,
        *,
        fault: Fault | None = None,
        base_url: str | None = None,
    ) -> dict[str, Any]:
        """`base_url` is where the request reached the sandbox (scheme and host): absolute URLs
        in the answer point there."""
        document, errors = prepared(query)
        if document is None or errors:
            return {"errors": [error.formatted for error in errors]}
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            named = f'No operation named "{operation_name}"'
            return {"errors": [{"message": named if operation_name else "Which operation?"}]}
        if not isinstance(variables, dict | None):
            return {"errors": [{"message": "variables must be a JSON object"}]}
        coerced = get_variable_values(SCHEMA, operation.variable_definitions or [], variables or {})
        if isinstance(coerced, list):
            return {"errors": [error.formatted for error in coerced]}

        requested = cost.requested_cost(SCHEMA, document, operation, coerced)
        if requested > cost.MAX_QUERY_COST:
            return self._refused_as_too_costly(requested)
        if (fault and fault.kind == "throttled") or not self.bucket.take(requested):
            return {"errors": [THROTTLED], "extensions": self._cost(requested, None)}

        context = resolvers.Context(store=self.store, schema=SCHEMA, base_url=base_url)
        if fault and fault.kind == "user_errors":
            context.forced_user_errors = fault.user_errors
        middleware = [_denied(operation)] if fault and fault.kind == "access_denied" else None
        with self.store.lock:
            result = execute(
                SCHEMA,
                document,
                context_value=context,
                variable_values=variables,
                operation_name=operation_name,
                field_resolver=resolvers.default_resolver,
                middleware=middleware,
            )
            actual = cost.actual_cost(SCHEMA, document, operation, coerced, result.data)
        self.bucket.refund(requested - actual)
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [error.formatted for error in result.errors]
        body["data"] = result.data
        body["extensions"] = self._cost(requested, actual)
        if context.search:
            body["extensions"]["search"] = context.search
        return body

    def _cost(self, requested: int, actual: int | None) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": self.bucket.throttle_status(),
            }
        }

    def _refused_as_too_costly(self, requested: int) -> dict[str, Any]:
        error = {
            "message": MAX_COST_MESSAGE.format(cost=requested),
            "extensions": {
                "code": "MAX_COST_EXCEEDED",
                "cost": requested,
                "maxCost": cost.MAX_QUERY_COST,
                "documentation": "https://shopify.dev/api/usage/limits#rate-limits",
            },
        }
        return {"errors": [error], "extensions": self._cost(requested, None)}


def _denied(operation: OperationDefinitionNode) -> Any:
    """Middleware refusing every root field, with Shopify's ACCESS_DENIED error."""
    required = REQUIRED_ACCESS.get(operation.operation, REQUIRED_ACCESS[OperationType.QUERY])

    def deny(next_: Any, root: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
        if info.path.prev is not None:
            return next_(root, info, **arguments)
        raise GraphQLError(
            f"Access denied for {info.field_name} field. Required access: {required}",
            extensions={
                "code": "ACCESS_DENIED",
                "documentation": "https://shopify.dev/api/usage/access-scopes",
                "requiredAccess": required,
            },
        )

    return deny
