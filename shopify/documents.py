"""Every GraphQL document the portal sends to Shopify, named, in one place.

A test validates each against Shopify's published Admin schema (`../shared/shopify/admin-graphql`),
so a field that Shopify renamed or removed fails the suite, not a merchant's sync. Documents are
plain strings: the client sends them as they are, and `DOCUMENTS` lists them for the test.

Page sizes keep each query's requested cost under Shopify's 1,000-point ceiling, by Shopify's
published rules: objects cost 1, scalars 0, and a connection 2 plus `first` times its node's cost.
One order of `ORDER_FIELDS` is about 280 points, so a page holds 3. (Real shops charge nested
connections less; the client learns each document's real cost from the answers.)
"""

from __future__ import annotations

ORDERS_PAGE_SIZE = 3

# What the mirror keeps of an order (see `ingest.order_from_graphql`).
ORDER_FIELDS = """
fragment OrderFields on Order {
  id
  name
  number
  email
  phone
  customerLocale
  presentmentCurrencyCode
  currentSubtotalPriceSet { presentmentMoney { amount } }
  currentShippingPriceSet { presentmentMoney { amount } }
  currentTotalTaxSet { presentmentMoney { amount } }
  currentTotalDiscountsSet { presentmentMoney { amount } }
  currentTotalPriceSet { presentmentMoney { amount } }
  totalPriceSet { presentmentMoney { amount } shopMoney { amount } }
  displayFinancialStatus
  displayFulfillmentStatus
  processedAt
  createdAt
  updatedAt
  cancelledAt
  cancelReason
  closedAt
  tags
  shippingAddress {
    firstName lastName company address1 address2 city province provinceCode zip country
    countryCodeV2 phone
  }
  refunds(first: 10) { id createdAt totalRefundedSet { presentmentMoney { amount } } }
  lineItems(first: 20) {
    nodes {
      id
      sku
      title
      variantTitle
      currentQuantity
      unfulfilledQuantity
      requiresShipping
      originalUnitPriceSet { presentmentMoney { amount } }
      discountedUnitPriceAfterAllDiscountsSet { presentmentMoney { amount } }
      product { id productType tags }
      variant { id }
      image { url }
    }
  }
  fulfillmentOrders(first: 3) {
    nodes {
      id
      status
      updatedAt
      assignedLocation { name }
      fulfillmentHolds { reason handle }
    }
  }
  fulfillments(first: 3) {
    id
    name
    status
    displayStatus
    createdAt
    updatedAt
    estimatedDeliveryAt
    deliveredAt
    trackingInfo { company number url }
    fulfillmentLineItems(first: 10) { nodes { quantity lineItem { id } } }
    events(first: 10, sortKey: HAPPENED_AT, reverse: true) {
      nodes { id status happenedAt message city province country estimatedDeliveryAt }
    }
  }
}
"""

# Orders changed since a moment, oldest change first, so that a sync interrupted half-way can
# resume from the last `updatedAt` it stored. `query` is Shopify's search syntax, for example
# "updated_at:>='2026-11-01T00:00:00Z'".
ORDERS_UPDATED_SINCE = (
    """
query OrdersUpdatedSince($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { ...OrderFields }
  }
}
"""
    + ORDER_FIELDS
)

# How many orders a sync will import, for its progress bar. Shopify counts up to `limit` (10,000
# by default) and says AT_LEAST beyond it.
ORDERS_COUNT = """
query OrdersCount($query: String) {
  ordersCount(query: $query) { count precision }
}
"""

ORDER = (
    """
query Order($id: ID!) {
  order(id: $id) { ...OrderFields }
}
"""
    + ORDER_FIELDS
)

SHOP = """
query Shop {
  shop { name myshopifyDomain currencyCode ianaTimezone contactEmail }
}
"""

WEBHOOK_SUBSCRIPTIONS = """
query WebhookSubscriptions($first: Int!, $after: String) {
  webhookSubscriptions(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id topic uri }
  }
}
"""

WEBHOOK_SUBSCRIPTION_CREATE = """
mutation WebhookSubscriptionCreate(
  $topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!
) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}
"""

WEBHOOK_SUBSCRIPTION_UPDATE = """
mutation WebhookSubscriptionUpdate($id: ID!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionUpdate(id: $id, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}
"""

# An order update that pushes a shipping address, email or phone (the edits app's pushes, and
# the sync benchmark's load).
ORDER_UPDATE = """
mutation OrderUpdate($input: OrderInput!) {
  orderUpdate(input: $input) {
    order { id updatedAt }
    userErrors { field message }
  }
}
"""

# Before a change is sent: how far has fulfilment gone, right now, and is what the shopper
# changes still what they saw? Small on purpose (about 30 points): the full order is not needed
# to decide, and the bucket is shared with everything else.
ORDER_STATE = """
query OrderState($id: ID!) {
  order(id: $id) {
    id
    updatedAt
    cancelledAt
    cancelReason
    displayFinancialStatus
    displayFulfillmentStatus
    email
    phone
    shippingAddress {
      firstName lastName company address1 address2 city province provinceCode zip country
      countryCodeV2 phone
    }
    fulfillmentOrders(first: 10) { nodes { id status fulfillmentHolds { id handle } } }
    fulfillments(first: 10) { status displayStatus deliveredAt }
  }
}
"""

ORDER_CANCEL = """
mutation OrderCancel(
  $orderId: ID!
  $refundMethod: OrderCancelRefundMethodInput
  $restock: Boolean!
  $reason: OrderCancelReason!
  $notifyCustomer: Boolean
  $staffNote: String
) {
  orderCancel(
    orderId: $orderId
    refundMethod: $refundMethod
    restock: $restock
    reason: $reason
    notifyCustomer: $notifyCustomer
    staffNote: $staffNote
  ) {
    job { id done }
    orderCancelUserErrors { field message code }
    userErrors { field message }
  }
}
"""

TAGS_ADD = """
mutation TagsAdd($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) {
    node { id }
    userErrors { field message }
  }
}
"""

# The warehouse waits while the shopper may still fix the address (EditPolicy.hold_during_window):
# our own hold, under our own handle, released when the window ends or a change is applied.
FULFILLMENT_ORDER_HOLD = """
mutation FulfillmentOrderHold($id: ID!, $fulfillmentHold: FulfillmentOrderHoldInput!) {
  fulfillmentOrderHold(id: $id, fulfillmentHold: $fulfillmentHold) {
    fulfillmentHold { id handle }
    fulfillmentOrder { id status }
    userErrors { field message code }
  }
}
"""

FULFILLMENT_ORDER_RELEASE_HOLD = """
mutation FulfillmentOrderReleaseHold($id: ID!, $holdIds: [ID!]) {
  fulfillmentOrderReleaseHold(id: $id, holdIds: $holdIds) {
    fulfillmentOrder { id status }
    userErrors { field message code }
  }
}
"""

# Returns. Shopify identifies returned items by their *fulfillment line item*, which REST
# webhooks do not carry: the returns sync reads them (and the order's returns, to recognise one
# an earlier attempt created) just before it writes.
RETURNABLE_ITEMS = """
query ReturnableItems($id: ID!) {
  order(id: $id) {
    id
    fulfillments(first: 10) {
      id
      status
      fulfillmentLineItems(first: 20) { nodes { id quantity lineItem { id } } }
    }
    returns(first: 10) {
      nodes {
        id
        name
        status
        returnLineItems(first: 20) {
          nodes { ... on ReturnLineItem { id quantity fulfillmentLineItem { id } } }
        }
      }
    }
  }
}
"""

# What a return looks like in Shopify: its status, and how much of it has been processed.
RETURN_FIELDS = """
fragment ReturnFields on Return {
  id
  name
  status
  totalQuantity
  order { id }
  decline { reason note }
  returnLineItems(first: 20) {
    nodes {
      ... on ReturnLineItem { id quantity processedQuantity fulfillmentLineItem { id } }
    }
  }
  exchangeLineItems(first: 20) { nodes { id quantity variantId } }
}
"""

RETURN_STATE = (
    """
query ReturnState($id: ID!) {
  return(id: $id) { ...ReturnFields }
}
"""
    + RETURN_FIELDS
)

# The shopper asks; an agent (or the policy) decides. REQUESTED in Shopify.
RETURN_REQUEST = (
    """
mutation ReturnRequest($input: ReturnRequestInput!) {
  returnRequest(input: $input) {
    return { ...ReturnFields }
    userErrors { field message code }
  }
}
"""
    + RETURN_FIELDS
)

# An approved return that Shopify has not seen yet: straight to OPEN. Only this mutation takes
# exchange items, so a return with an exchange reaches Shopify once it is approved.
RETURN_CREATE = (
    """
mutation ReturnCreate($returnInput: ReturnInput!) {
  returnCreate(returnInput: $returnInput) {
    return { ...ReturnFields }
    userErrors { field message code }
  }
}
"""
    + RETURN_FIELDS
)

RETURN_APPROVE_REQUEST = (
    """
mutation ReturnApproveRequest($input: ReturnApproveRequestInput!) {
  returnApproveRequest(input: $input) {
    return { ...ReturnFields }
    userErrors { field message code }
  }
}
"""
    + RETURN_FIELDS
)

RETURN_DECLINE_REQUEST = (
    """
mutation ReturnDeclineRequest($input: ReturnDeclineRequestInput!) {
  returnDeclineRequest(input: $input) {
    return { ...ReturnFields }
    userErrors { field message code }
  }
}
"""
    + RETURN_FIELDS
)

RETURN_CANCEL = (
    """
mutation ReturnCancel($id: ID!) {
  returnCancel(id: $id) {
    return { ...ReturnFields }
    userErrors { field message code }
  }
}
"""
    + RETURN_FIELDS
)

# Item changes (edits/kinds/items.py). Before staging an edit, and before committing it: can the
# order still be edited, how far fulfilment has gone, its lines as they are now (an edit whose
# answer was lost shows in them), what it owes, and how it was paid (for a refund).
EDITABLE_ORDER = """
query EditableOrder($id: ID!) {
  order(id: $id) {
    id
    updatedAt
    cancelledAt
    displayFinancialStatus
    displayFulfillmentStatus
    merchantEditable
    merchantEditableErrors
    totalOutstandingSet { presentmentMoney { amount currencyCode } }
    totalReceivedSet { presentmentMoney { amount currencyCode } }
    paymentCollectionDetails { additionalPaymentCollectionUrl }
    lineItems(first: 250) {
      nodes { id currentQuantity variant { id } }
    }
    fulfillmentOrders(first: 10) { nodes { id status } }
    fulfillments(first: 10) { status displayStatus deliveredAt }
    transactions(first: 20) {
      id
      kind
      status
      gateway
      parentTransaction { id }
      amountSet { presentmentMoney { amount currencyCode } }
    }
  }
}
"""

# What an edit makes of the order, as Shopify calculates it (prices for the order's market,
# taxes, discounts): each staging mutation answers with the line it changed or added and the
# order's new total and balance (negative: owed back). The lines are read one by one, from the
# answers, so an order of hundreds of lines costs what its changed lines cost.
CALCULATED_TOTALS = """
fragment CalculatedTotals on CalculatedOrder {
  id
  totalPriceSet {
    presentmentMoney { amount currencyCode }
    shopMoney { amount currencyCode }
  }
  totalOutstandingSet { presentmentMoney { amount currencyCode } }
}
"""
CALCULATED_FIELDS = (
    CALCULATED_TOTALS
    + """
fragment CalculatedLine on CalculatedLineItem {
  id
  quantity
  title
  variantTitle
  variant { id }
  discountedUnitPriceSet { presentmentMoney { amount } }
}
"""
)

ORDER_EDIT_BEGIN = (
    """
mutation OrderEditBegin($id: ID!) {
  orderEditBegin(id: $id) {
    calculatedOrder { ...CalculatedTotals }
    userErrors { field message }
  }
}
"""
    + CALCULATED_TOTALS
)

ORDER_EDIT_SET_QUANTITY = (
    """
mutation OrderEditSetQuantity(
  $id: ID!
  $lineItemId: ID!
  $quantity: Int!
  $restock: Boolean
) {
  orderEditSetQuantity(id: $id, lineItemId: $lineItemId, quantity: $quantity, restock: $restock) {
    calculatedLineItem { ...CalculatedLine }
    calculatedOrder { ...CalculatedTotals }
    userErrors { field message }
  }
}
"""
    + CALCULATED_FIELDS
)

ORDER_EDIT_ADD_VARIANT = (
    """
mutation OrderEditAddVariant(
  $id: ID!
  $variantId: ID!
  $quantity: Int!
  $allowDuplicates: Boolean
) {
  orderEditAddVariant(
    id: $id
    variantId: $variantId
    quantity: $quantity
    allowDuplicates: $allowDuplicates
  ) {
    calculatedLineItem { ...CalculatedLine }
    calculatedOrder { ...CalculatedTotals }
    userErrors { field message }
  }
}
"""
    + CALCULATED_FIELDS
)

# A line's discount in the edit: a swapped line keeps the old line's discount, as a percentage
# of each unit's price.
ORDER_EDIT_ADD_LINE_ITEM_DISCOUNT = (
    """
mutation OrderEditAddLineItemDiscount(
  $id: ID!
  $lineItemId: ID!
  $discount: OrderEditAppliedDiscountInput!
) {
  orderEditAddLineItemDiscount(id: $id, lineItemId: $lineItemId, discount: $discount) {
    calculatedLineItem { ...CalculatedLine }
    calculatedOrder { ...CalculatedTotals }
    userErrors { field message }
  }
}
"""
    + CALCULATED_FIELDS
)

ORDER_EDIT_COMMIT = """
mutation OrderEditCommit($id: ID!, $notifyCustomer: Boolean, $staffNote: String) {
  orderEditCommit(id: $id, notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    order {
      id
      totalOutstandingSet { presentmentMoney { amount currencyCode } }
      paymentCollectionDetails { additionalPaymentCollectionUrl }
    }
    userErrors { field message }
  }
}
"""

# Money owed back after an edit: a refund to the original payment (a REFUND transaction against
# the sale) or as store credit. Idempotent under the change request's key: an answer lost and a
# second attempt refund once.
REFUND_CREATE = """
mutation RefundCreate($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) {
    refund { id totalRefundedSet { presentmentMoney { amount currencyCode } } }
    userErrors { field message }
  }
}
"""

# What an item can be exchanged for: the product's other variants, and whether each is in stock.
# A variant as a shopper chooses it: its title, price, and whether (and how many) Shopify sells.
VARIANT_FIELDS = """
fragment VariantFields on ProductVariant {
  id
  title
  price
  availableForSale
  inventoryQuantity
  inventoryPolicy
  selectedOptions { name value }
}
"""

PRODUCT_VARIANTS = (
    """
query ProductVariants($id: ID!) {
  product(id: $id) {
    id
    title
    variants(first: 50) { nodes { ...VariantFields } }
  }
}
"""
    + VARIANT_FIELDS
)

# What a shopper may add to an order: the products carrying the merchant's tag (Shopify's search
# counts only active products by default), a few of each's variants.
PRODUCTS_TAGGED = (
    """
query ProductsTagged($query: String!) {
  products(first: 10, query: $query, sortKey: TITLE) {
    nodes {
      id
      title
      variants(first: 20) { nodes { ...VariantFields } }
    }
  }
}
"""
    + VARIANT_FIELDS
)

# A product priced for an order's destination (an offer after checkout, an exchange): its
# picture, and each variant's price in that market (Shopify's contextual pricing: the currency
# and the price a shopper there pays).
PRICED_PRODUCT = (
    """
query PricedProduct($id: ID!, $country: CountryCode!) {
  product(id: $id) {
    id
    title
    featuredMedia { alt preview { image { url } } }
    variants(first: 50) {
      nodes {
        ...VariantFields
        contextualPricing(context: { country: $country }) { price { amount currencyCode } }
      }
    }
  }
}
"""
    + VARIANT_FIELDS
)

# The merchant's catalogue, for choosing what to offer in the admin (the first 250 by title).
PRODUCT_LIST = """
query ProductList {
  products(first: 250, sortKey: TITLE) {
    nodes { id title productType }
  }
}
"""

DOCUMENTS: dict[str, str] = {
    "OrdersUpdatedSince": ORDERS_UPDATED_SINCE,
    "OrdersCount": ORDERS_COUNT,
    "Order": ORDER,
    "Shop": SHOP,
    "WebhookSubscriptions": WEBHOOK_SUBSCRIPTIONS,
    "WebhookSubscriptionCreate": WEBHOOK_SUBSCRIPTION_CREATE,
    "WebhookSubscriptionUpdate": WEBHOOK_SUBSCRIPTION_UPDATE,
    "OrderUpdate": ORDER_UPDATE,
    "OrderState": ORDER_STATE,
    "OrderCancel": ORDER_CANCEL,
    "TagsAdd": TAGS_ADD,
    "FulfillmentOrderHold": FULFILLMENT_ORDER_HOLD,
    "FulfillmentOrderReleaseHold": FULFILLMENT_ORDER_RELEASE_HOLD,
    "ReturnableItems": RETURNABLE_ITEMS,
    "ReturnState": RETURN_STATE,
    "ReturnRequest": RETURN_REQUEST,
    "ReturnCreate": RETURN_CREATE,
    "ReturnApproveRequest": RETURN_APPROVE_REQUEST,
    "ReturnDeclineRequest": RETURN_DECLINE_REQUEST,
    "ReturnCancel": RETURN_CANCEL,
    "ProductVariants": PRODUCT_VARIANTS,
    "ProductsTagged": PRODUCTS_TAGGED,
    "PricedProduct": PRICED_PRODUCT,
    "ProductList": PRODUCT_LIST,
    "EditableOrder": EDITABLE_ORDER,
    "OrderEditBegin": ORDER_EDIT_BEGIN,
    "OrderEditSetQuantity": ORDER_EDIT_SET_QUANTITY,
    "OrderEditAddVariant": ORDER_EDIT_ADD_VARIANT,
    "OrderEditAddLineItemDiscount": ORDER_EDIT_ADD_LINE_ITEM_DISCOUNT,
    "OrderEditCommit": ORDER_EDIT_COMMIT,
    "RefundCreate": REFUND_CREATE,
}
