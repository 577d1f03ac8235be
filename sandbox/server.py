"""The sandbox over HTTP: Shopify's Admin GraphQL endpoint, and a control API for tests.

`POST /admin/api/<version>/graphql.json` behaves as Shopify's: a wrong `X-Shopify-Access-Token`
is 401, a body that is not JSON is 400, and everything GraphQL has to say (validation errors,
userErrors, THROTTLED, MAX_COST_EXCEEDED, ACCESS_DENIED) is 200. Faults switched on come first.

Under `/sandbox/`, a control API moves the shop's story forward and shows it, JSON in and out
(the routes are listed in `sandbox/__init__.py`). It is a development tool and asks for no token.

`make_http_server` serves the app with the standard library's threaded WSGI server.
"""

from __future__ import annotations

import hmac
import json
import re
import socketserver
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from html import escape
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from sandbox import adapter, api, payloads
from sandbox.faults import Fault
from sandbox.store import (
    Address,
    NewLine,
    NewVariant,
    NotAllowed,
    NotFound,
    Problem,
    Refused,
    money_text,
)

if TYPE_CHECKING:
    from sandbox import Sandbox

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
MISSING_QUERY = {"query": "Required parameter missing or invalid"}
HTTP_ERRORS = {
    429: "Exceeded 2 calls per second for api client. Reduce request rates to resume "
    "uninterrupted service.",
}
ORDER = r"/sandbox/orders/(?P<number>\d+)"
SHIPMENT = ORDER + r"/fulfillments/(?P<index>\d+)"
RETURN = r"/sandbox/returns/(?P<key>\d+(?:-R\d+)?)"
ROUTES = [
    ("POST", r"/admin/api/(?P<version>[\w-]+)/graphql\.json", "graphql"),
    ("POST", r"/sandbox/reset", "reset"),
    ("GET", r"/sandbox/orders", "orders"),
    ("POST", r"/sandbox/orders", "create_order"),
    ("GET", ORDER, "order"),
    ("POST", ORDER + "/start", "start_preparing"),
    ("POST", ORDER + "/fulfil", "fulfil"),
    ("POST", SHIPMENT + "/events", "add_tracking_event"),
    ("POST", SHIPMENT + "/deliver", "deliver"),
    ("POST", ORDER + "/cancel", "cancel"),
    ("POST", ORDER + "/hold", "hold"),
    ("POST", ORDER + "/release", "release_hold"),
    ("GET", ORDER + "/payment", "payment_page"),
    ("POST", ORDER + "/pay", "pay"),
    ("GET", r"/sandbox/products", "products"),
    ("POST", r"/sandbox/products", "add_product"),
    ("POST", r"/sandbox/variants/(?P<variant>[\w.-]+)/stock", "set_stock"),
    ("GET", RETURN, "return_state"),
    ("POST", RETURN + r"/(?P<action>approve|decline|cancel|close|reopen|process)", "on_return"),
    ("GET", r"/sandbox/writes", "writes"),
    ("GET", r"/sandbox/faults", "faults"),
    ("POST", r"/sandbox/faults", "add_fault"),
    ("DELETE", r"/sandbox/faults", "clear_faults"),
    ("GET", r"/sandbox/bucket", "bucket"),
    ("POST", r"/sandbox/bucket", "configure_bucket"),
    ("GET", r"/sandbox/webhooks", "webhooks"),
    ("POST", r"/sandbox/webhooks", "configure_webhooks"),
    ("POST", r"/sandbox/webhooks/flush", "flush_webhooks"),
]


class Answer(Exception):
    """An HTTP answer: returned by a handler, or raised to answer at once. Its body is JSON,
    unless it is an `Html` page."""

    def __init__(self, status: int, body: Any, headers: list[tuple[str, str]] | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or []


class Html(str):
    """A page for a person (the shopper's payment page), not JSON."""


def _sleep(seconds: float, *, connecting: bool = False) -> None:
    time.sleep(seconds)


class SandboxApp:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.routes = [(method, re.compile(path), name) for method, path, name in ROUTES]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        try:
            result = self._route(environ)
        except Answer as raised:
            result = raised
        answer = result if isinstance(result, Answer) else Answer(200, result)
        if isinstance(answer.body, Html):
            body, content_type = answer.body.encode(), "text/html; charset=utf-8"
        else:
            body = json.dumps(answer.body, ensure_ascii=False, default=_json_value).encode()
            content_type = "application/json; charset=utf-8"
        headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            *answer.headers,
        ]
        start_response(f"{answer.status} {HTTPStatus(answer.status).phrase}", headers)
        return [body]

    def _route(self, environ: dict[str, Any]) -> Any:
        path, method = environ.get("PATH_INFO", ""), environ["REQUEST_METHOD"]
        found = False
        for route_method, pattern, name in self.routes:
            match = pattern.fullmatch(path)
            if match and route_method == method:
                return getattr(self, name)(environ, **match.groupdict())
            found = found or match is not None
        if found:
            raise Answer(405, {"errors": "Method Not Allowed"})
        raise Answer(404, {"errors": "Not Found"})

    # --- the Admin API ------------------------------------------------------------------------

    def graphql(self, environ: dict[str, Any], version: str) -> Answer:
        # Every version is answered from the one schema; the answer's header says which it is.
        sandbox = self.sandbox
        token = environ.get("HTTP_X_SHOPIFY_ACCESS_TOKEN", "")
        if not hmac.compare_digest(token.encode(), sandbox.access_token.encode()):
            raise Answer(401, {"errors": INVALID_TOKEN})
        try:
            request = _json_body(environ)
        except Answer:
            raise Answer(400, {"errors": MISSING_QUERY}) from None
        query = request.get("query") if isinstance(request, dict) else None
        if not isinstance(query, str):
            raise Answer(400, {"errors": MISSING_QUERY})
        variables, operation_name = request.get("variables"), request.get("operationName")

        fault = sandbox.faults.take(mutation=api.is_mutation(query, operation_name))
        if fault and fault.kind == "http":
            retry = [("Retry-After", str(float(fault.retry_after)))] if fault.retry_after else []
            phrase = HTTP_ERRORS.get(fault.status, HTTPStatus(fault.status).phrase)
            raise Answer(fault.status, {"errors": phrase}, retry)
        sleep = environ.get(adapter.SLEEP, _sleep)
        slow = fault if fault and fault.kind == "timeout" else None
        if slow and slow.connect:
            sleep(slow.seconds, connecting=True)
        body = sandbox.api.answer(
            query, variables, operation_name, fault=fault, base_url=_base_url(environ)
        )
        sandbox.webhooks.dispatch()
        if slow and not slow.connect:
            sleep(slow.seconds)
        return Answer(200, body, [("X-Shopify-API-Version", sandbox.api_version)])

    # --- the control API ----------------------------------------------------------------------

    def reset(self, environ: dict[str, Any]) -> Any:
        body = _json_body(environ) or {}
        with _bad_request():
            self.sandbox.reset(
                seed=body.get("seed", "empty"),
                keep_subscriptions=body.get("keep_subscriptions", True),
            )
        return {"orders": len(self.sandbox.store.orders)}

    def orders(self, environ: dict[str, Any]) -> Any:
        with self.sandbox.store.lock:
            listed = sorted(self.sandbox.store.orders.values(), key=lambda order: order.number)
            return [
                {
                    "number": order.number,
                    "admin_graphql_api_id": order.gid,
                    "updated_at": order.updated_at,
                    "fulfillment_status": order.display_fulfillment_status,
                    "cancelled": order.cancelled_at is not None,
                }
                for order in listed
            ]

    def order(self, environ: dict[str, Any], number: str) -> Any:
        return self._state(int(number))

    def create_order(self, environ: dict[str, Any]) -> Any:
        details = dict(_json_body(environ) or {})
        with _bad_request(), _refusals():
            lines = [
                NewLine(**{**line, "price": Decimal(str(line["price"]))})
                for line in details.pop("lines")
            ]
            address = details.pop("shipping_address", None)
            for name in ("exchange_rate", "shipping_price", "tax"):
                if name in details:
                    details[name] = Decimal(str(details[name]))
            details["placed_at"] = _moment(details.get("placed_at"))
            order = self.sandbox.create_order(
                lines=lines, shipping_address=Address(**address) if address else None, **details
            )
        return self._state(order.number)

    def start_preparing(self, environ: dict[str, Any], number: str) -> Any:
        with _refusals():
            self.sandbox.start_preparing(int(number))
        return self._state(int(number))

    def fulfil(self, environ: dict[str, Any], number: str) -> Any:
        details = dict(_json_body(environ) or {})
        details["at"] = _moment(details.get("at"))
        with _bad_request(), _refusals():
            self.sandbox.fulfil(int(number), **details)
        return self._state(int(number))

    def add_tracking_event(self, environ: dict[str, Any], number: str, index: str) -> Any:
        details = dict(_json_body(environ) or {})
        for name in ("happened_at", "estimated_delivery_at"):
            details[name] = _moment(details.get(name))
        with _bad_request(), _refusals():
            self.sandbox.add_tracking_event(int(number), int(index), **details)
        return self._state(int(number))

    def deliver(self, environ: dict[str, Any], number: str, index: str) -> Any:
        details = dict(_json_body(environ) or {})
        details["at"] = _moment(details.get("at"))
        with _bad_request(), _refusals():
            self.sandbox.deliver(int(number), int(index), **details)
        return self._state(int(number))

    def cancel(self, environ: dict[str, Any], number: str) -> Any:
        details = dict(_json_body(environ) or {})
        details["at"] = _moment(details.get("at"))
        with _bad_request(), _refusals():
            self.sandbox.cancel(int(number), **details)
        return self._state(int(number))

    def hold(self, environ: dict[str, Any], number: str) -> Any:
        with _bad_request(), _refusals():
            self.sandbox.hold(int(number), **(_json_body(environ) or {}))
        return self._state(int(number))

    def release_hold(self, environ: dict[str, Any], number: str) -> Any:
        with _refusals():
            self.sandbox.release_hold(int(number))
        return self._state(int(number))

    def payment_page(self, environ: dict[str, Any], number: str) -> Any:
        """What the shopper sees at an order's additionalPaymentCollectionUrl: the amount due
        and a Pay button that posts back to /pay."""
        store = self.sandbox.store
        with store.lock, _refusals():
            order = store.order(int(number))
            due, currency = order.amount_due, order.currency
            name = order.name
        if due <= 0:
            return Html(_page(f"Order {name}", "<p>Nothing is owed on this order.</p>"))
        form = (
            f'<p>Amount due: <strong class="amount-due">{escape(money_text(due, currency))}'
            f"</strong> ({escape(currency)})</p>"
            f'<form method="post" action="/sandbox/orders/{int(number)}/pay">'
            '<button type="submit">Pay</button></form>'
        )
        return Html(_page(f"Pay for order {name}", form))

    def pay(self, environ: dict[str, Any], number: str) -> Any:
        """The shopper pays the balance (Sandbox.pay_balance). A form post gets a page back;
        anything else the order's state."""
        with _refusals():
            sale = self.sandbox.pay_balance(int(number))
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            with self.sandbox.store.lock:
                order = self.sandbox.store.order(int(number))
                paid = money_text(sale.amount, order.currency)
                name = order.name
            return Html(_page(f"Order {name}", f"<p>Thank you: {escape(paid)} was paid.</p>"))
        return self._state(int(number))

    def products(self, environ: dict[str, Any]) -> Any:
        with self.sandbox.store.lock:
            listed = sorted(self.sandbox.store.products.values(), key=lambda product: product.id)
            return [payloads.product_state(product) for product in listed]

    def add_product(self, environ: dict[str, Any]) -> Any:
        details = dict(_json_body(environ) or {})
        with _bad_request(), _refusals():
            variants = [
                NewVariant(**{**variant, "price": Decimal(str(variant["price"]))})
                for variant in details.pop("variants")
            ]
            product = self.sandbox.add_product(variants=variants, **details)
        return self.sandbox.product_state(product.id)

    def set_stock(self, environ: dict[str, Any], variant: str) -> Any:
        details = dict(_json_body(environ) or {})
        with _bad_request(), _refusals():
            key: str | int = int(variant) if variant.isdigit() else variant
            changed = self.sandbox.set_stock(key, **details)
        return payloads.variant_state(changed)

    def return_state(self, environ: dict[str, Any], key: str) -> Any:
        with _refusals():
            return self.sandbox.return_state(_return_key(key))

    def on_return(self, environ: dict[str, Any], key: str, action: str) -> Any:
        details = dict(_json_body(environ) or {}) if action == "decline" else {}
        with _bad_request(), _refusals():
            found = getattr(self.sandbox, f"{action}_return")(_return_key(key), **details)
        return self.sandbox.return_state(found.id)

    def writes(self, environ: dict[str, Any]) -> Any:
        with self.sandbox.store.lock:
            return list(self.sandbox.store.writes)

    def faults(self, environ: dict[str, Any]) -> Any:
        return self.sandbox.faults.pending()

    def add_fault(self, environ: dict[str, Any]) -> Any:
        with _bad_request():
            fault = self.sandbox.faults.add(Fault(**(_json_body(environ) or {})))
        return asdict(fault)

    def clear_faults(self, environ: dict[str, Any]) -> Any:
        self.sandbox.faults.clear()
        return []

    def bucket(self, environ: dict[str, Any]) -> Any:
        return self.sandbox.bucket.throttle_status()

    def configure_bucket(self, environ: dict[str, Any]) -> Any:
        with _bad_request():
            self.sandbox.bucket.configure(**(_json_body(environ) or {}))
        return self.sandbox.bucket.throttle_status()

    def webhooks(self, environ: dict[str, Any]) -> Any:
        sender = self.sandbox.webhooks
        return {
            **asdict(sender.options),
            "pending": [delivery.summary() for delivery in sender.pending()],
            "sent": sender.sent,
            "abandoned": sender.abandoned,
        }

    def configure_webhooks(self, environ: dict[str, Any]) -> Any:
        with _bad_request():
            self.sandbox.webhooks.configure(**(_json_body(environ) or {}))
        return self.webhooks(environ)

    def flush_webhooks(self, environ: dict[str, Any]) -> Any:
        return asdict(self.sandbox.webhooks.flush())

    def _state(self, number: int) -> Any:
        store = self.sandbox.store
        with store.lock, _refusals():
            return payloads.order_state(store.order(number), store.shop)


def _base_url(environ: dict[str, Any]) -> str:
    """Scheme and host the request reached the sandbox at (a proxy's forwarded ones first)."""
    scheme = environ.get("HTTP_X_FORWARDED_PROTO") or environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_X_FORWARDED_HOST") or environ.get("HTTP_HOST")
    if not host:
        host = environ.get("SERVER_NAME", "localhost")
        port = environ.get("SERVER_PORT")
        if port and port != {"https": "443", "http": "80"}.get(scheme):
            host = f"{host}:{port}"
    return f"{scheme.split(',')[0].strip()}://{host.split(',')[0].strip()}"


def _page(title: str, content: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head>"
        f"<body><h1>{escape(title)}</h1>{content}</body></html>"
    )


def _json_body(environ: dict[str, Any]) -> Any:
    length = environ.get("CONTENT_LENGTH") or "0"
    raw = environ["wsgi.input"].read(int(length)) if length.isdigit() else b""
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise Answer(400, {"errors": "the body is not JSON"}) from None


def _return_key(key: str) -> str | int:
    """A return's id (digits) or its name without the # (1001-R1)."""
    return int(key) if key.isdigit() else f"#{key}"


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _json_value(value: Any) -> Any:
    if isinstance(value, Problem):
        return asdict(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


@contextmanager
def _refusals() -> Iterator[None]:
    """No such order or shipment is 404; what the shop refuses in its state is 409."""
    try:
        yield
    except NotFound as error:
        raise Answer(404, {"errors": error.args[0]}) from error
    except Refused as error:
        raise Answer(409, {"errors": str(error), "user_errors": error.problems}) from error
    except NotAllowed as error:
        raise Answer(409, {"errors": str(error)}) from error


@contextmanager
def _bad_request() -> Iterator[None]:
    """A body that does not fit the operation is 400, saying why."""
    try:
        yield
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise Answer(400, {"errors": str(error)}) from error


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    """Logs requests only when asked: a benchmark makes thousands."""

    verbose = False

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        if self.verbose:
            super().log_message(format, *args)


def make_http_server(
    app: Callable[..., Any], *, host: str = "127.0.0.1", port: int = 8001, verbose: bool = False
) -> WSGIServer:
    """A threaded standard-library server for `app`; port 0 takes a free one (`server_port`)."""
    handler = type("Handler", (QuietHandler,), {"verbose": verbose})
    return make_server(host, port, app, server_class=ThreadingWSGIServer, handler_class=handler)
