"""The in-process adapter (both ways round) and the sandbox over real HTTP."""

from __future__ import annotations

import io
import json
import threading
import time
from typing import Any

import pytest
import requests
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from sandbox import Sandbox
from sandbox.adapter import WSGIAdapter
from sandbox.management.commands.sandbox import Command
from sandbox.webhooks import post_with
from shopify.documents import DOCUMENTS
from shopify.models import WebhookDelivery
from tests.sandbox.conftest import SECRET, place


def echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A WSGI app that answers with what it was given."""
    seen = {
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"],
        "query": environ["QUERY_STRING"],
        "scheme": environ["wsgi.url_scheme"],
        "server": [environ["SERVER_NAME"], environ["SERVER_PORT"]],
        "host": environ["HTTP_HOST"],
        "type": environ.get("CONTENT_TYPE"),
        "length": environ["CONTENT_LENGTH"],
        "signature": environ.get("HTTP_X_SHOPIFY_HMAC_SHA256"),
        "body": environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])).decode(),
    }
    start_response("201 Created", [("Content-Type", "application/json"), ("X-Echo", "yes")])
    return [json.dumps(seen).encode()]


def test_the_adapter_round_trips_a_request() -> None:
    session = requests.Session()
    session.mount("https://shop.test/", WSGIAdapter(echo))

    response = session.put(
        "https://shop.test/a%20path/x?b=1&c=%C3%A9",
        data="é body".encode(),
        headers={"Content-Type": "text/plain; charset=utf-8", "X-Shopify-Hmac-Sha256": "abc="},
    )

    assert (response.status_code, response.reason) == (201, "Created")
    assert response.headers["x-echo"] == "yes"
    assert response.url == "https://shop.test/a%20path/x?b=1&c=%C3%A9"
    assert response.request.method == "PUT"
    assert response.json() == {
        "method": "PUT",
        "path": "/a path/x",
        "query": "b=1&c=%C3%A9",
        "scheme": "https",
        "server": ["shop.test", "443"],
        "host": "shop.test",
        "type": "text/plain; charset=utf-8",
        "length": str(len("é body".encode())),
        "signature": "abc=",
        "body": "é body",
    }


@pytest.fixture
def django_app() -> Any:
    # As Django's test client does: a request must not close the test's database connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_sandbox_webhooks_reach_the_portal_in_process(connected_shop, django_app) -> None:  # type: ignore[no-untyped-def]
    """The other way round: the sandbox's sender posts into Django's own WSGI handler, whose
    intake checks the signature and records the delivery."""
    portal = requests.Session()
    portal.mount("http://testserver/", WSGIAdapter(django_app))
    sandbox = Sandbox(
        domain=connected_shop.domain, client_secret=SECRET, transport=post_with(portal)
    )
    sandbox.webhooks.configure(target="http://testserver/shopify/webhooks")

    order = place(sandbox)

    assert sandbox.webhooks.sent == 1 and sandbox.webhooks.pending() == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.topic == "orders/create"
    assert delivery.payload["admin_graphql_api_id"] == order.gid


def test_the_command_serves_the_sandbox_over_http() -> None:
    command, output = Command(), io.StringIO()
    options = ["--port", "0", "--seed", "demo", "--access-token", "shpat_http"]
    thread = threading.Thread(
        target=call_command, args=(command, *options), kwargs={"stdout": output}, daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while "graphql.json" not in output.getvalue() and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        url = next(word for word in output.getvalue().split() if word.endswith("graphql.json"))
        response = requests.post(
            url,
            json={"query": DOCUMENTS["Shop"]},
            headers={"X-Shopify-Access-Token": "shpat_http"},
            timeout=5,
        )
        assert response.status_code == 200
        assert response.json()["data"]["shop"]["myshopifyDomain"] == "northwind-demo.myshopify.com"
        orders = requests.get(url.split("/admin/")[0] + "/sandbox/orders", timeout=5).json()
        assert [order["number"] for order in orders] == list(range(1001, 1021))
        denied = requests.post(url, json={"query": DOCUMENTS["Shop"]}, timeout=5)
        assert denied.status_code == 401
    finally:
        command.server.shutdown()
        thread.join(timeout=5)
    assert not thread.is_alive()


def test_a_timeout_over_real_http_is_a_real_wait() -> None:
    sandbox = Sandbox(access_token="shpat_http")
    from sandbox.server import make_http_server

    server = make_http_server(sandbox.app, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/admin/api/2026-07/graphql.json"
        sandbox.faults.timeout(seconds=1.0)
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.post(
                url,
                json={"query": DOCUMENTS["Shop"]},
                headers={"X-Shopify-Access-Token": "shpat_http"},
                timeout=(1, 0.3),
            )
    finally:
        server.shutdown()
        server.server_close()
