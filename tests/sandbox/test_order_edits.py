"""Order edits as Shopify plays them: orderEditBegin, the staged changes and their money, and
orderEditCommit, held to real 2026-04 (and 2025-01) captures, word for word, through the
portal's own documents where they ask enough, else through the captures' documents."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from sandbox import NewLine, NewVariant, Sandbox
from sandbox.store import Order, ProductVariant
from shopify.documents import DOCUMENTS
from tests.sandbox.conftest import (
    DOMAIN,
    Admin,
    Recorder,
    amount,
    captured,
    place,
    run,
    shared_json,
)
from tests.sandbox.test_webhooks import extra_keys

CAPTURES = "captures/draft-proxy/2026-04/orders/"
HAPPY = CAPTURES + "order-edit-existing-order-happy-path.json"
VALIDATION = CAPTURES + "order-edit-existing-order-validation.json"
LIFECYCLE = CAPTURES + "order-edit-lifecycle-user-errors.json"
QUANTITIES = CAPTURES + "orderEdit-quantity-validation.json"
ZERO = CAPTURES + "order-edit-existing-order-zero-removal.json"
MONEY = CAPTURES + "order-edit-money-math.json"
STATUSES = CAPTURES + "order-edit-commit-derived-statuses.json"
HISTORY = CAPTURES + "order-edit-commit-history-and-fulfillment-orders.json"
MESSAGES = CAPTURES + "order-edit-commit-success-messages.json"
PERCENT = "captures/draft-proxy/2025-01/orders/order-edit-line-discount-percent-value.json"

COMMIT, EDITABLE = DOCUMENTS["OrderEditCommit"], DOCUMENTS["EditableOrder"]

# The calculated order whole, as the captures read it (the portal's documents ask only the
# totals and the lines they change: tests/sandbox/test_schema.py and tests/edits cover those).
CALCULATED = """
fragment CalculatedOrderFields on CalculatedOrder {
  id
  subtotalPriceSet { presentmentMoney { amount currencyCode } }
  totalPriceSet { presentmentMoney { amount currencyCode } }
  totalOutstandingSet { presentmentMoney { amount currencyCode } }
  lineItems(first: 50) {
    nodes { id quantity title variantTitle variant { id }
            discountedUnitPriceSet { presentmentMoney { amount } } }
  }
  addedLineItems(first: 50) {
    nodes { id quantity title variantTitle variant { id }
            discountedUnitPriceSet { presentmentMoney { amount } } }
  }
}
"""
BEGIN = (
    """
mutation OrderEditBegin($id: ID!) {
  orderEditBegin(id: $id) {
    calculatedOrder { ...CalculatedOrderFields }
    userErrors { field message }
  }
}
"""
    + CALCULATED
)
SET_QUANTITY = (
    """
mutation OrderEditSetQuantity($id: ID!, $lineItemId: ID!, $quantity: Int!, $restock: Boolean) {
  orderEditSetQuantity(id: $id, lineItemId: $lineItemId, quantity: $quantity, restock: $restock) {
    calculatedOrder { ...CalculatedOrderFields }
    userErrors { field message }
  }
}
"""
    + CALCULATED
)
ADD_VARIANT = (
    """
mutation OrderEditAddVariant($id: ID!, $variantId: ID!, $quantity: Int!) {
  orderEditAddVariant(id: $id, variantId: $variantId, quantity: $quantity, allowDuplicates: false) {
    calculatedLineItem { id }
    calculatedOrder { ...CalculatedOrderFields }
    userErrors { field message }
  }
}
"""
    + CALCULATED
)

# What the portal's documents do not ask, asked as the captures do.
ADD_VARIANT_WITH = """
mutation AddVariant($id: ID!, $variantId: ID!, $quantity: Int!, $allowDuplicates: Boolean) {
  orderEditAddVariant(id: $id, variantId: $variantId, quantity: $quantity,
                      allowDuplicates: $allowDuplicates) {
    calculatedOrder { id addedLineItems(first: 10) { nodes { id title quantity sku } } }
    calculatedLineItem { id title quantity sku variant { id }
                         originalUnitPriceSet { shopMoney { amount } presentmentMoney { amount } } }
    orderEditSession { id }
    userErrors { field message }
  }
}
"""
ADD_DISCOUNT = """
mutation AddDiscount($id: ID!, $lineItemId: ID!, $discount: OrderEditAppliedDiscountInput!) {
  orderEditAddLineItemDiscount(id: $id, lineItemId: $lineItemId, discount: $discount) {
    addedDiscountStagedChange { id description }
    calculatedOrder { id subtotalLineItemsQuantity
                      subtotalPriceSet { presentmentMoney { amount } }
                      totalPriceSet { presentmentMoney { amount } } }
    calculatedLineItem {
      id quantity hasStagedLineItemDiscount
      calculatedDiscountAllocations {
        allocatedAmountSet { presentmentMoney { amount } }
        discountApplication { id description }
      }
      originalUnitPriceSet { presentmentMoney { amount } }
      discountedUnitPriceSet { presentmentMoney { amount } }
    }
    userErrors { field message }
  }
}
"""
COMMIT_WITH = """
mutation Commit($id: ID!, $notifyCustomer: Boolean, $staffNote: String) {
  orderEditCommit(id: $id, notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    order { id closed closedAt displayFinancialStatus
            totalOutstandingSet { presentmentMoney { amount } } }
    successMessages
    userErrors { field message }
  }
}
"""
MONEY_READ = """
query Money($id: ID!) {
  order(id: $id) {
    updatedAt
    displayFinancialStatus
    displayFulfillmentStatus
    currentSubtotalLineItemsQuantity
    subtotalPriceSet { presentmentMoney { amount } }
    currentSubtotalPriceSet { presentmentMoney { amount } }
    totalTaxSet { presentmentMoney { amount } }
    currentTotalTaxSet { presentmentMoney { amount } }
    totalPriceSet { presentmentMoney { amount } }
    currentTotalPriceSet { presentmentMoney { amount } }
    totalOutstandingSet { presentmentMoney { amount } }
    lineItems(first: 10) {
      nodes { id title quantity currentQuantity unfulfilledQuantity sku variant { id }
              originalUnitPriceSet { presentmentMoney { amount } }
              discountedUnitPriceSet { presentmentMoney { amount } } }
    }
    fulfillmentOrders(first: 10) {
      nodes { id status lineItems(first: 10) {
        nodes { id totalQuantity remainingQuantity lineItem { id } } } }
    }
  }
}
"""


def custom(title: str, price: str, quantity: int = 1, **more: Any) -> NewLine:
    """A line without a variant, as the captures' orders have."""
    return NewLine(title, Decimal(price), quantity, **more)


def cad(sandbox: Sandbox, number: int, *lines: NewLine, **details: Any) -> Order:
    """An order in Canadian dollars at par (the captures' shop), no shipping."""
    details.setdefault("currency", "CAD")
    details.setdefault("exchange_rate", Decimal(1))
    details.setdefault("shipping_price", Decimal(0))
    return place(sandbox, number, lines=list(lines), **details)


def snowboard(sandbox: Sandbox, price: str = "2629.95", stock: int = 10) -> ProductVariant:
    product = sandbox.add_product(
        title="The Draft Snowboard", variants=[NewVariant("Default Title", Decimal(price), stock)]
    )
    return product.variants[0]


def begin(admin: Admin, order: Order) -> dict[str, Any]:
    answer = run(admin, BEGIN, {"id": order.gid})
    assert answer["userErrors"] == []
    return answer["calculatedOrder"]


def money(admin: Admin, order: Order) -> dict[str, Any]:
    return run(admin, MONEY_READ, {"id": order.gid})


# --- beginning an edit ---------------------------------------------------------------------------


def test_begin_numbers_the_calculated_order_as_shopify_does(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = cad(sandbox, 1484, custom("Base line A", "12.00"), custom("Base line B", "12.00"))
    shopify = captured(HAPPY, "mutation")

    answer = run(admin, BEGIN, {"id": order.gid})

    assert answer["userErrors"] == shopify["userErrors"] == []
    calculated = answer["calculatedOrder"]
    number = calculated["id"].rsplit("/", 1)[1]
    assert calculated["id"] == f"gid://shopify/CalculatedOrder/{number}"
    # The session is numbered as its calculated order, and each calculated line as its line.
    real = shopify["calculatedOrder"]
    assert real["id"].rsplit("/", 1)[1] == shopify["orderEditSession"]["id"].rsplit("/", 1)[1]
    assert [n["id"].rsplit("/", 1)[1] for n in real["lineItems"]["nodes"]] != []
    assert [n["id"] for n in calculated["lineItems"]["nodes"]] == [
        f"gid://shopify/CalculatedLineItem/{line.id}" for line in order.lines
    ]
    assert [
        (n["title"], n["quantity"], n["variant"]) for n in calculated["lineItems"]["nodes"]
    ] == [
        (n["title"].replace(" 20260622154802", "").replace("HAR-115 base", "Base"), 1, None)
        for n in real["lineItems"]["nodes"]
    ]
    assert calculated["addedLineItems"]["nodes"] == real["addedLineItems"]["nodes"] == []
    assert amount(calculated["totalPriceSet"]) == "24.0"
    assert amount(calculated["totalOutstandingSet"]) == "0.0"
    # Beginning changes nothing of the order.
    assert money(admin, order)["updatedAt"].startswith("2026-11-02T09:00:00")


def test_an_order_that_cannot_be_edited_says_so(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = cad(sandbox, 1594, custom("Not editable line", "10.00"))
    sandbox.cancel(1594, reason="OTHER")
    read = run(admin, EDITABLE, {"id": order.gid})
    assert read["merchantEditable"] is False
    assert read["merchantEditableErrors"] == ["Canceled orders can't be edited"]

    answer = run(admin, BEGIN, {"id": order.gid})

    shopify = captured(LIFECYCLE, "sessionCases", "beginNotEditable")
    assert answer["userErrors"] == shopify["userErrors"]
    assert answer["userErrors"] == [{"field": None, "message": "The order cannot be edited."}]
    assert answer["calculatedOrder"] is shopify["calculatedOrder"] is None
    assert sandbox.store.writes == []


def test_a_fulfilled_order_cannot_be_edited(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox, 1001)
    sandbox.fulfil(1001)
    read = run(admin, EDITABLE, {"id": order.gid})
    assert (read["merchantEditable"], read["merchantEditableErrors"]) == (
        False,
        ["Fulfilled orders can't be edited"],
    )
    assert run(admin, BEGIN, {"id": order.gid})["userErrors"] == [
        {"field": None, "message": "The order cannot be edited."}
    ]


def test_an_editable_order_has_no_errors(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox, 1001)
    read = run(admin, EDITABLE, {"id": order.gid})
    assert (read["merchantEditable"], read["merchantEditableErrors"]) == (True, [])


# --- Shopify's refusals --------------------------------------------------------------------------


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_unknown_orders_and_calculated_orders_are_refused_in_shopifys_words(
    index: int, admin
) -> None:  # type: ignore[no-untyped-def]
    case = shared_json(LIFECYCLE)["cases"][index]

    answer = run(admin, case["query"], case["variables"])

    assert answer == captured(LIFECYCLE, "cases", index)


def test_unknown_lines_and_variants_are_refused_in_shopifys_words(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = cad(sandbox, 1593, custom("Editable line", "10.00"))
    calculated = begin(admin, order)
    cases = shared_json(LIFECYCLE)["sessionCases"]
    for name in (
        "setQuantityUnknownLine",
        "addLineItemDiscountUnknownLine",
        "addVariantUnknownVariant",
    ):
        variables = {**cases[name]["variables"], "id": calculated["id"]}

        answer = run(admin, cases[name]["query"], variables)

        assert answer == captured(LIFECYCLE, "sessionCases", name), name
    assert [write["mutation"] for write in sandbox.store.writes] == ["orderEditBegin"]


def test_a_variant_already_on_the_order_or_a_bad_id_is_refused(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    variant = snowboard(sandbox)
    order = cad(
        sandbox,
        1485,
        custom(
            "The Draft Snowboard", "2629.95", product_id=variant.product_id, variant_id=variant.id
        ),
    )
    calculated = begin(admin, order)

    duplicate = run(
        admin, ADD_VARIANT, {"id": calculated["id"], "variantId": variant.gid, "quantity": 1}
    )
    zero = run(
        admin,
        ADD_VARIANT,
        {"id": calculated["id"], "variantId": "gid://shopify/ProductVariant/0", "quantity": 1},
    )

    for answer, step in ((duplicate, "duplicateVariant"), (zero, "invalidVariant")):
        shopify = captured(VALIDATION, step)
        assert answer["userErrors"] == shopify["userErrors"], step
        assert answer["calculatedOrder"] is shopify["calculatedOrder"] is None


def test_quantities_are_validated_and_refusals_change_nothing(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = cad(sandbox, 1488, custom("Source item", "10.00", 3, sku="order-edit-quantity"))
    variant = snowboard(sandbox, "949.95")
    calculated = begin(admin, order)
    (line,) = calculated["lineItems"]["nodes"]
    cases = shared_json(QUANTITIES)["cases"]

    negative = run(
        admin,
        cases["setQuantityNegative"]["query"],
        {"id": calculated["id"], "lineItemId": line["id"], "quantity": -1, "restock": False},
    )
    answers = {
        name: run(
            admin,
            cases[name]["query"],
            {**cases[name]["variables"], "id": calculated["id"], "variantId": variant.gid},
        )
        for name in ("addVariantZero", "addVariantNegative", "addVariantHappyPath")
    }

    assert negative == captured(QUANTITIES, "cases", "setQuantityNegative")
    for name in ("addVariantZero", "addVariantNegative"):
        assert answers[name] == captured(QUANTITIES, "cases", name), name
    # The refused attempts staged nothing: the valid one finds the order as it began.
    happy, shopify = (
        answers["addVariantHappyPath"],
        captured(QUANTITIES, "cases", "addVariantHappyPath"),
    )
    assert happy["userErrors"] == shopify["userErrors"] == []
    assert [n["quantity"] for n in happy["calculatedOrder"]["lineItems"]["nodes"]] == [3]
    (added,) = happy["calculatedOrder"]["addedLineItems"]["nodes"]
    (real,) = shopify["calculatedOrder"]["addedLineItems"]["nodes"]
    assert (added["title"], added["quantity"]) == ("The Draft Snowboard", real["quantity"])
    # Added lines are numbered with UUIDs, as Shopify's are.
    prefix = "gid://shopify/CalculatedLineItem/"
    assert len(real["id"].removeprefix(prefix)) == len(added["id"].removeprefix(prefix)) == 36
    assert happy["calculatedLineItem"]["id"] == added["id"]
    assert happy["calculatedLineItem"]["originalUnitPriceSet"]["presentmentMoney"] == {
        "amount": "949.95",
        "currencyCode": "CAD",
    }
    assert happy["orderEditSession"]["id"].rsplit("/", 1)[1] == calculated["id"].rsplit("/", 1)[1]


# --- the money of an edit ------------------------------------------------------------------------


def test_taxes_follow_the_quantities(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    """Two $100 units with $26 tax, set to one: the calculated order and, once committed, the
    order's original and current amounts as the order-edit-money-math capture shows them."""
    order = cad(
        sandbox,
        1701,
        custom("Taxed source", "100.00", 2),
        tax=Decimal("26.00"),
        financial_status="PENDING",
    )
    calculated = begin(admin, order)
    assert (amount(calculated["subtotalPriceSet"]), amount(calculated["totalPriceSet"])) == (
        "200.0",
        "226.0",
    )
    (line,) = calculated["lineItems"]["nodes"]

    staged = run(
        admin, SET_QUANTITY, {"id": calculated["id"], "lineItemId": line["id"], "quantity": 1}
    )
    committed = run(admin, COMMIT_WITH, {"id": calculated["id"], "notifyCustomer": False})

    shopify = captured(MONEY, "cases", "taxed", "setQuantity")["calculatedOrder"]
    ours = staged["calculatedOrder"]
    assert (
        amount(ours["subtotalPriceSet"])
        == amount(shopify["subtotalPriceSet"], "shopMoney")
        == "100.0"
    )
    assert amount(ours["totalPriceSet"]) == amount(shopify["totalPriceSet"], "shopMoney") == "113.0"
    assert committed["successMessages"] == ["Order updated"]
    read, real = money(admin, order), captured(MONEY, "cases", "taxed", "downstreamRead")
    for name in (
        "subtotalPriceSet",
        "currentSubtotalPriceSet",
        "totalTaxSet",
        "currentTotalTaxSet",
        "totalPriceSet",
        "currentTotalPriceSet",
    ):
        assert amount(read[name]) == amount(real[name], "shopMoney"), name
    (ours_line,), (real_line,) = read["lineItems"]["nodes"], real["lineItems"]["nodes"]
    assert (
        (ours_line["quantity"], ours_line["currentQuantity"])
        == (
            real_line["quantity"],
            real_line["currentQuantity"],
        )
        == (2, 1)
    )


def test_a_fixed_line_discount(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = cad(sandbox, 1702, custom("Discount source", "100.00"), financial_status="PENDING")
    calculated = begin(admin, order)
    (line,) = calculated["lineItems"]["nodes"]
    discount = {
        "description": "order edit money math line discount",
        "fixedValue": {"amount": "20.00", "currencyCode": "CAD"},
    }

    staged = run(
        admin,
        ADD_DISCOUNT,
        {"id": calculated["id"], "lineItemId": line["id"], "discount": discount},
    )
    run(admin, COMMIT_WITH, {"id": calculated["id"]})

    shopify = captured(MONEY, "cases", "discount", "addLineItemDiscount")
    assert staged["userErrors"] == shopify["userErrors"] == []
    assert (
        staged["addedDiscountStagedChange"]["description"]
        == shopify["addedDiscountStagedChange"]["description"]
    )
    assert staged["addedDiscountStagedChange"]["id"].startswith(
        "gid://shopify/OrderStagedChangeAddLineItemDiscount/"
    )
    for name in ("subtotalPriceSet", "totalPriceSet"):
        assert (
            amount(staged["calculatedOrder"][name])
            == amount(shopify["calculatedOrder"][name], "shopMoney")
            == "80.0"
        )
    ours, real = staged["calculatedLineItem"], shopify["calculatedLineItem"]
    assert ours["hasStagedLineItemDiscount"] is real["hasStagedLineItemDiscount"] is True
    assert (
        amount(ours["discountedUnitPriceSet"])
        == amount(real["discountedUnitPriceSet"], "shopMoney")
        == "80.0"
    )
    assert amount(ours["originalUnitPriceSet"]) == "100.0"
    (allocation,), (real_allocation,) = (
        ours["calculatedDiscountAllocations"],
        real["calculatedDiscountAllocations"],
    )
    assert amount(allocation["allocatedAmountSet"]) == amount(
        real_allocation["allocatedAmountSet"], "shopMoney"
    )
    assert (
        allocation["discountApplication"]["description"]
        == real_allocation["discountApplication"]["description"]
    )
    assert allocation["discountApplication"]["id"].startswith(
        "gid://shopify/CalculatedManualDiscountApplication/"
    )
    read, real_read = money(admin, order), captured(MONEY, "cases", "discount", "downstreamRead")
    for name in (
        "subtotalPriceSet",
        "currentSubtotalPriceSet",
        "totalPriceSet",
        "currentTotalPriceSet",
    ):
        assert amount(read[name]) == amount(real_read[name], "shopMoney") == "80.0", name
    assert amount(read["lineItems"]["nodes"][0]["originalUnitPriceSet"]) == "100.0"


def test_a_percentage_line_discount(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = cad(sandbox, 1703, custom("Percent discount base line", "100.00", 2))
    calculated = begin(admin, order)
    (line,) = calculated["lineItems"]["nodes"]
    step = shared_json(PERCENT)["steps"]["addPercentLineItemDiscount"]

    staged = run(
        admin, ADD_DISCOUNT, {**step["variables"], "id": calculated["id"], "lineItemId": line["id"]}
    )

    shopify = captured(PERCENT, "steps", "addPercentLineItemDiscount")
    assert (
        amount(staged["calculatedOrder"]["totalPriceSet"])
        == amount(shopify["calculatedOrder"]["totalPriceSet"], "shopMoney")
        == "180.0"
    )
    ours, real = staged["calculatedLineItem"], shopify["calculatedLineItem"]
    assert (
        amount(ours["discountedUnitPriceSet"])
        == amount(real["discountedUnitPriceSet"], "shopMoney")
        == "90.0"
    )
    assert [amount(a["allocatedAmountSet"]) for a in ours["calculatedDiscountAllocations"]] == [
        amount(a["allocatedAmountSet"], "shopMoney") for a in real["calculatedDiscountAllocations"]
    ]
    assert staged["addedDiscountStagedChange"]["description"] == "Ten percent off"


def test_added_variants_are_priced_in_the_orders_currency(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    """The shop sells in euros; the order was paid in dollars at 1.1: the variant's price is
    converted as the order's other lines were."""
    order = place(sandbox, 1001)  # USD at 1.1, $89.59, paid
    beanie = sandbox.add_product(
        title="Wool beanie", variants=[NewVariant("Default Title", Decimal("18.00"), 4)]
    )
    variant = beanie.variants[0]
    calculated = begin(admin, order)

    staged = run(
        admin, ADD_VARIANT, {"id": calculated["id"], "variantId": variant.gid, "quantity": 1}
    )

    ours = staged["calculatedOrder"]
    (added,) = ours["addedLineItems"]["nodes"]
    assert (added["title"], added["variantTitle"], added["variant"]) == (
        "Wool beanie",
        None,
        {"id": variant.gid},
    )
    assert amount(added["discountedUnitPriceSet"]) == "19.8"
    assert ours["totalPriceSet"]["presentmentMoney"] == {"amount": "109.39", "currencyCode": "USD"}
    assert amount(ours["totalOutstandingSet"]) == "19.8"
    # The portal's own view of the lines: its existing ones, then what it added.
    assert [n["quantity"] for n in ours["lineItems"]["nodes"]] == [2, 1]


# --- committing ----------------------------------------------------------------------------------


def test_a_commit_applies_the_lines_and_fulfillment_orders(sandbox: Sandbox, admin, clock) -> None:  # type: ignore[no-untyped-def]
    """Three units set to one and a variant added twice, as in the order-edit-commit-history-
    and-fulfillment-orders capture."""
    order = cad(
        sandbox, 1491, custom("Order edit source item", "10.00", 3, sku="order-edit-source")
    )
    variant = snowboard(sandbox, "949.95", stock=5)
    before = money(admin, order)["updatedAt"]
    calculated = begin(admin, order)
    (line,) = calculated["lineItems"]["nodes"]
    run(
        admin,
        SET_QUANTITY,
        {"id": calculated["id"], "lineItemId": line["id"], "quantity": 1, "restock": False},
    )
    staged = run(
        admin, ADD_VARIANT, {"id": calculated["id"], "variantId": variant.gid, "quantity": 2}
    )
    added_id = staged["calculatedOrder"]["addedLineItems"]["nodes"][0]["id"]
    clock.advance(60)

    committed = run(
        admin, COMMIT, {"id": calculated["id"], "notifyCustomer": False, "staffNote": "capture"}
    )

    assert committed["userErrors"] == []
    assert committed["order"]["id"] == order.gid
    read, real = money(admin, order), captured(HISTORY, "downstreamRead")
    assert read["updatedAt"] > before
    assert read["currentSubtotalLineItemsQuantity"] == real["currentSubtotalLineItemsQuantity"] == 3
    assert (
        amount(read["currentSubtotalPriceSet"])
        == amount(real["currentSubtotalPriceSet"], "shopMoney")
        == "1909.9"
    )
    assert amount(read["currentTotalPriceSet"]) == amount(real["currentTotalPriceSet"], "shopMoney")

    def shape(node: dict[str, Any], money: str) -> tuple[Any, ...]:
        return (
            node["quantity"],
            node["currentQuantity"],
            amount(node["originalUnitPriceSet"], money),
        )

    ours_lines = [shape(n, "presentmentMoney") for n in read["lineItems"]["nodes"]]
    real_lines = [shape(n, "shopMoney") for n in real["lineItems"]["nodes"]]
    assert ours_lines == real_lines
    source, board = read["lineItems"]["nodes"]
    assert source["id"] == f"gid://shopify/LineItem/{order.lines[0].id}"
    # The added line is a new LineItem, not its calculated UUID.
    assert (
        board["id"].startswith("gid://shopify/LineItem/")
        and board["id"].rsplit("/")[-1] != added_id.rsplit("/")[-1]
    )
    assert (board["variant"], board["unfulfilledQuantity"]) == ({"id": variant.gid}, 2)
    # A fulfillment order for the added line, beside the first one, both open.
    ours_fos = [
        (
            fo["status"],
            [
                (n["totalQuantity"], n["remainingQuantity"], n["lineItem"]["id"])
                for n in fo["lineItems"]["nodes"]
            ],
        )
        for fo in read["fulfillmentOrders"]["nodes"]
    ]
    real_fos = [
        (
            fo["status"],
            [(n["totalQuantity"], n["remainingQuantity"]) for n in fo["lineItems"]["nodes"]],
        )
        for fo in real["fulfillmentOrders"]["nodes"]
    ]
    assert [(status, [line[:2] for line in lines]) for status, lines in ours_fos] == real_fos
    assert [lines[0][2] for _, lines in ours_fos] == [source["id"], board["id"]]
    assert variant.inventory_quantity == 3  # the added units left the stock


def test_setting_zero_removes_and_restocks(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    variant = snowboard(sandbox, "29.00", stock=4)
    order = cad(
        sandbox,
        1486,
        custom("Zero line A", "20.00", 2),
        custom("Zero line B", "12.00"),
        custom("Zero line C", "29.00", product_id=variant.product_id, variant_id=variant.id),
    )
    calculated = begin(admin, order)
    line_c = calculated["lineItems"]["nodes"][2]

    staged = run(
        admin,
        SET_QUANTITY,
        {"id": calculated["id"], "lineItemId": line_c["id"], "quantity": 0, "restock": True},
    )
    committed = run(admin, COMMIT, {"id": calculated["id"], "notifyCustomer": False})

    assert (
        staged["calculatedOrder"]["lineItems"]["nodes"][2]["quantity"]
        == captured(ZERO, "setZero")["calculatedLineItem"]["quantity"]
        == 0
    )
    assert committed["userErrors"] == []
    read, real = money(admin, order), captured(ZERO, "downstreamRead")
    assert [(n["quantity"], n["currentQuantity"]) for n in read["lineItems"]["nodes"]] == [
        (n["quantity"], n["currentQuantity"]) for n in real["lineItems"]["nodes"]
    ]
    assert read["currentSubtotalLineItemsQuantity"] == real["currentSubtotalLineItemsQuantity"] == 3
    editable = run(admin, EDITABLE, {"id": order.gid})
    assert (editable["merchantEditable"], editable["merchantEditableErrors"]) == (
        real["merchantEditable"],
        real["merchantEditableErrors"],
    )
    assert variant.inventory_quantity == 5  # restocked
    # The removed line leaves the fulfillment order; the others stay to ship.
    (fo,) = read["fulfillmentOrders"]["nodes"]
    assert [n["totalQuantity"] for n in fo["lineItems"]["nodes"]] == [2, 1]


def test_adding_to_a_paid_order_leaves_a_balance(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    """A paid $10 order gets a $5 item: partially paid, $5 outstanding (order-edit-commit-
    derived-statuses), and a payment page for it."""
    order = cad(sandbox, 1600, custom("Original paid editable line", "10.00"))
    extra = sandbox.add_product(
        title="Added unpaid item", variants=[NewVariant("Default Title", Decimal("5.00"), 3)]
    )
    calculated = begin(admin, order)
    run(
        admin,
        ADD_VARIANT,
        {"id": calculated["id"], "variantId": extra.variants[0].gid, "quantity": 1},
    )

    committed = run(admin, COMMIT_WITH, {"id": calculated["id"], "notifyCustomer": False})

    shopify = captured(STATUSES, "commit")
    assert committed["successMessages"] == shopify["successMessages"]
    assert (
        committed["order"]["displayFinancialStatus"]
        == shopify["order"]["displayFinancialStatus"]
        == "PARTIALLY_PAID"
    )
    assert (
        amount(committed["order"]["totalOutstandingSet"])
        == amount(shopify["order"]["totalOutstandingSet"], "shopMoney")
        == "5.0"
    )
    read, real = money(admin, order), captured(STATUSES, "downstreamRead")
    for name in ("totalPriceSet", "currentTotalPriceSet", "totalOutstandingSet"):
        assert amount(read[name]) == amount(real[name], "shopMoney"), name
    assert read["displayFulfillmentStatus"] == real["displayFulfillmentStatus"] == "UNFULFILLED"
    payment = run(admin, EDITABLE, {"id": order.gid})["paymentCollectionDetails"]
    assert payment == {
        "additionalPaymentCollectionUrl": f"https://{DOMAIN}/sandbox/orders/1600/payment"
    }


@pytest.mark.parametrize(
    ("case", "status", "notify"),
    [
        ("notifyFalse", "PAID", False),
        ("paidNotify", "PAID", True),
        ("balanceNotify", "PENDING", True),
    ],
)
def test_success_messages_and_what_is_owed(
    case: str, status: str, notify: bool, sandbox: Sandbox, admin
) -> None:  # type: ignore[no-untyped-def]
    """Two units, one removed: money owed back on a paid order (committing never refunds), or
    a smaller balance on an unpaid one."""
    given = shared_json(MESSAGES)["cases"][case]["create"]["variables"]["order"]["lineItems"][0]
    price = given["priceSet"]["presentmentMoney"]["amount"]
    order = cad(sandbox, 1596, custom(given["title"], price, 2), financial_status=status)
    calculated = begin(admin, order)
    (line,) = calculated["lineItems"]["nodes"]
    run(admin, SET_QUANTITY, {"id": calculated["id"], "lineItemId": line["id"], "quantity": 1})

    committed = run(
        admin, COMMIT_WITH, {"id": calculated["id"], "notifyCustomer": notify, "staffNote": case}
    )

    shopify = captured(MESSAGES, "cases", case, "commit")
    assert committed["userErrors"] == shopify["userErrors"] == []
    assert committed["successMessages"] == shopify["successMessages"]
    assert amount(committed["order"]["totalOutstandingSet"]) == amount(
        shopify["order"]["totalOutstandingSet"]
    )
    assert committed["order"]["displayFinancialStatus"] == status
    assert [t.transaction_kind for t in order.transactions] == (
        ["SALE"] if status == "PAID" else []
    )


def test_committing_reopens_a_closed_order(sandbox: Sandbox, admin, clock) -> None:  # type: ignore[no-untyped-def]
    order = cad(sandbox, 1599, custom("Order edit commit success unarchive-notify", "16.00", 2))
    with sandbox.store.lock:
        order.closed_at = clock()  # the merchant archived it in Shopify's admin
    calculated = begin(admin, order)  # an archived order can be edited (the capture begins one)
    (line,) = calculated["lineItems"]["nodes"]
    run(admin, SET_QUANTITY, {"id": calculated["id"], "lineItemId": line["id"], "quantity": 1})

    committed = run(admin, COMMIT_WITH, {"id": calculated["id"], "notifyCustomer": True})

    shopify = captured(MESSAGES, "cases", "unarchiveNotify", "commit")
    assert committed["successMessages"] == shopify["successMessages"]
    assert (committed["order"]["closed"], committed["order"]["closedAt"]) == (False, None)
    assert (
        amount(committed["order"]["totalOutstandingSet"])
        == amount(shopify["order"]["totalOutstandingSet"])
        == "-16.0"
    )


def test_a_session_commits_once(sandbox: Sandbox, admin, hooks: Recorder) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox, 1001)
    calculated = begin(admin, order)
    first = calculated["lineItems"]["nodes"][0]
    run(admin, SET_QUANTITY, {"id": calculated["id"], "lineItemId": first["id"], "quantity": 1})
    assert run(admin, COMMIT, {"id": calculated["id"]})["userErrors"] == []
    edits = len(hooks.received)

    again = run(admin, COMMIT, {"id": calculated["id"]})
    staging = run(
        admin, SET_QUANTITY, {"id": calculated["id"], "lineItemId": first["id"], "quantity": 0}
    )

    refused = [{"field": ["id"], "message": "The calculated order does not exist."}]
    assert again == {"order": None, "userErrors": refused}
    assert staging["userErrors"] == refused
    assert order.lines[0].current_quantity == 1
    assert len(hooks.received) == edits
    assert [w["mutation"] for w in sandbox.store.writes] == [
        "orderEditBegin",
        "orderEditSetQuantity",
        "orderEditCommit",
    ]


def test_a_commit_without_changes_is_refused(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox, 1001)
    calculated = begin(admin, order)

    answer = run(admin, COMMIT, {"id": calculated["id"]})

    assert answer["userErrors"] == [
        {"field": ["id"], "message": "There must be at least one change to be made."}
    ]


def test_another_edit_committed_first_makes_an_open_one_stale(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox, 1001)
    first, second = begin(admin, order), begin(admin, order)
    for calculated in (first, second):
        line = calculated["lineItems"]["nodes"][0]
        run(admin, SET_QUANTITY, {"id": calculated["id"], "lineItemId": line["id"], "quantity": 1})
    assert first["id"] != second["id"]
    assert run(admin, COMMIT, {"id": second["id"]})["userErrors"] == []

    late = run(admin, COMMIT, {"id": first["id"]})

    assert late["userErrors"] == [
        {"field": ["id"], "message": "The calculated order does not exist."}
    ]
    assert order.lines[0].current_quantity == 1


def test_shipped_units_cannot_be_edited(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox, 1001)  # two T-shirts and a cap
    sandbox.fulfil(1001, lines={"TEE": 1})
    calculated = begin(admin, order)
    tee, cap = calculated["lineItems"]["nodes"]

    below = run(
        admin, SET_QUANTITY, {"id": calculated["id"], "lineItemId": tee["id"], "quantity": 0}
    )
    to_shipped = run(
        admin, SET_QUANTITY, {"id": calculated["id"], "lineItemId": tee["id"], "quantity": 1}
    )

    assert below["userErrors"] == [
        {"field": ["lineItemId"], "message": "You can only edit unfulfilled line items."}
    ]
    assert to_shipped["userErrors"] == []
    assert run(admin, COMMIT, {"id": calculated["id"]})["userErrors"] == []
    assert (order.lines[0].current_quantity, order.lines[0].fulfillable_quantity) == (1, 0)
    assert order.display_fulfillment_status == "PARTIALLY_FULFILLED"


def test_added_lines_ship_from_their_own_fulfillment_order(sandbox: Sandbox, admin) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox, 1001)
    variant = snowboard(sandbox)
    calculated = begin(admin, order)
    run(admin, ADD_VARIANT, {"id": calculated["id"], "variantId": variant.gid, "quantity": 1})
    run(admin, COMMIT, {"id": calculated["id"]})
    first, added = order.fulfillment_orders
    sandbox.hold(1001)  # the first one: the added line still ships
    assert (first.status, added.status) == ("ON_HOLD", "OPEN")

    sandbox.fulfil(1001, lines={order.lines[2].id: 1})

    assert (first.status, added.status) == ("ON_HOLD", "CLOSED")
    sandbox.release_hold(1001)
    sandbox.fulfil(1001)
    assert order.display_fulfillment_status == "FULFILLED"


def test_a_commit_sends_orders_edited_and_orders_updated(
    sandbox: Sandbox, admin, hooks: Recorder
) -> None:  # type: ignore[no-untyped-def]
    order = place(sandbox, 1001)
    variant = snowboard(sandbox)
    calculated = begin(admin, order)
    tee = calculated["lineItems"]["nodes"][0]
    run(admin, SET_QUANTITY, {"id": calculated["id"], "lineItemId": tee["id"], "quantity": 1})
    run(admin, ADD_VARIANT, {"id": calculated["id"], "variantId": variant.gid, "quantity": 2})
    hooks.received.clear()

    run(admin, COMMIT, {"id": calculated["id"], "notifyCustomer": True, "staffNote": "Swap"})

    assert hooks.topics() == ["orders/edited", "orders/updated"]
    edited = hooks.last("orders/edited").payload
    assert extra_keys(edited, shared_json("webhooks/orders/edited.json")) == []
    body = edited["order_edit"]
    assert body["order_id"] == order.id
    assert body["id"] == int(calculated["id"].rsplit("/", 1)[1])
    assert (body["notify_customer"], body["staff_note"]) == (True, "Swap")
    assert body["line_items"] == {
        "additions": [{"id": order.lines[2].id, "delta": 2}],
        "removals": [{"id": order.lines[0].id, "delta": 1}],
    }
    updated = hooks.last("orders/updated").payload
    assert [line["current_quantity"] for line in updated["line_items"]] == [1, 1, 2]
    assert updated["financial_status"] == "partially_paid"
    assert updated["total_outstanding"] == str(order.total_outstanding)


def test_a_discount_on_an_added_line(sandbox: Sandbox, admin, hooks: Recorder) -> None:  # type: ignore[no-untyped-def]
    """A post-purchase offer: a variant added at 10% off. A fixed amount comes off each unit
    (the sandbox's reading: the captures discount single units)."""
    order = place(sandbox, 1001)
    variant = snowboard(sandbox, "100.00")
    calculated = begin(admin, order)
    added = run(
        admin, ADD_VARIANT, {"id": calculated["id"], "variantId": variant.gid, "quantity": 2}
    )
    line = added["calculatedOrder"]["addedLineItems"]["nodes"][0]
    tee = calculated["lineItems"]["nodes"][0]
    percent = {"description": "Thank-you offer", "percentValue": 10}
    fixed = {"description": "Loyalty", "fixedValue": {"amount": "5.00", "currencyCode": "USD"}}

    offered = run(
        admin, ADD_DISCOUNT, {"id": calculated["id"], "lineItemId": line["id"], "discount": percent}
    )
    loyal = run(
        admin, ADD_DISCOUNT, {"id": calculated["id"], "lineItemId": tee["id"], "discount": fixed}
    )

    assert (
        amount(offered["calculatedLineItem"]["discountedUnitPriceSet"]) == "99.0"
    )  # $110 less 10%
    assert amount(loyal["calculatedLineItem"]["discountedUnitPriceSet"]) == "24.0"
    (allocation,) = loyal["calculatedLineItem"]["calculatedDiscountAllocations"]
    assert amount(allocation["allocatedAmountSet"]) == "10.0"  # $5 off each of two
    assert amount(loyal["calculatedOrder"]["totalPriceSet"]) == "277.59"  # 48 + 24 + 7.59 + 198
    run(admin, COMMIT, {"id": calculated["id"]})
    read = money(admin, order)
    assert [amount(n["discountedUnitPriceSet"]) for n in read["lineItems"]["nodes"]] == [
        "24.0",
        "24.0",
        "99.0",
    ]
    assert amount(read["currentTotalPriceSet"]) == "277.59"
    updated = hooks.last("orders/updated").payload
    assert [line.get("total_discount") for line in updated["line_items"]] == [
        "10.00",
        None,
        "22.00",
    ]


@pytest.mark.parametrize(
    ("discount", "field"),
    [
        ({"description": "None given"}, ["discount"]),
        (
            {"percentValue": 10, "fixedValue": {"amount": "1.00", "currencyCode": "USD"}},
            ["discount"],
        ),
        ({"percentValue": 120}, ["discount", "percentValue"]),
        (
            {"fixedValue": {"amount": "1.00", "currencyCode": "GBP"}},
            ["discount", "fixedValue", "currencyCode"],
        ),
    ],
)
def test_a_discount_must_say_one_value(
    discount: dict[str, Any], field: list[str], sandbox: Sandbox, admin
) -> None:  # type: ignore[no-untyped-def]
    """The sandbox's own refusals (no capture shows Shopify's)."""
    order = place(sandbox, 1001)
    calculated = begin(admin, order)
    tee = calculated["lineItems"]["nodes"][0]

    answer = run(
        admin, ADD_DISCOUNT, {"id": calculated["id"], "lineItemId": tee["id"], "discount": discount}
    )

    (error,) = answer["userErrors"]
    assert error["field"] == field
    assert answer["calculatedLineItem"] is None
