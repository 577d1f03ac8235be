"""The webhook topics the portal subscribes to, and subscribing to them through the Admin API.

The three privacy topics (customers/data_request, customers/redact, shop/redact) are not here:
Shopify accepts them only from the app's configuration (see the README).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shopify import documents
from shopify.client import Client

TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "orders/fulfilled",
    "orders/partially_fulfilled",
    "orders/paid",
    "orders/edited",
    "fulfillments/create",
    "fulfillments/update",
    "fulfillment_events/create",
    "fulfillment_orders/placed_on_hold",
    "fulfillment_orders/hold_released",
    "refunds/create",
    "returns/request",
    "returns/approve",
    "returns/decline",
    "returns/cancel",
    "returns/close",
    "returns/reopen",
    "returns/process",
    "returns/update",
    "app/uninstalled",
)


def graphql_topic(topic: str) -> str:
    """orders/partially_fulfilled -> ORDERS_PARTIALLY_FULFILLED (WebhookSubscriptionTopic)."""
    return topic.upper().replace("/", "_")


@dataclass
class Outcome:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def existing_subscriptions(client: Client) -> dict[str, list[dict]]:
    """The shop's subscriptions of this app, by GraphQL topic."""
    by_topic: dict[str, list[dict]] = {}
    after = None
    while True:
        data = client.query(documents.WEBHOOK_SUBSCRIPTIONS, {"first": 100, "after": after})
        page = data["webhookSubscriptions"]
        for subscription in page["nodes"]:
            by_topic.setdefault(subscription["topic"], []).append(subscription)
        if not page["pageInfo"]["hasNextPage"]:
            return by_topic
        after = page["pageInfo"]["endCursor"]


def subscribe(client: Client, uri: str) -> Outcome:
    """Make every topic deliver to `uri`. Running it again changes nothing; a subscription that
    points elsewhere (the portal moved) is pointed here."""
    outcome = Outcome()
    existing = existing_subscriptions(client)
    for topic in TOPICS:
        current = existing.get(graphql_topic(topic), [])
        if any(subscription["uri"] == uri for subscription in current):
            outcome.unchanged.append(topic)
        elif current:
            client.mutate(
                documents.WEBHOOK_SUBSCRIPTION_UPDATE,
                {"id": current[0]["id"], "webhookSubscription": {"uri": uri}},
                payload="webhookSubscriptionUpdate",
            )
            outcome.updated.append(topic)
        else:
            client.mutate(
                documents.WEBHOOK_SUBSCRIPTION_CREATE,
                {
                    "topic": graphql_topic(topic),
                    "webhookSubscription": {"uri": uri, "format": "JSON"},
                },
                payload="webhookSubscriptionCreate",
            )
            outcome.created.append(topic)
    return outcome
