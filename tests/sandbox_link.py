"""In every test the Admin API is a sandbox store in this process: no test reaches the network,
and whatever the client sends is answered as Shopify would (settings.SHOPIFY_TRANSPORT names
`adapter` below). The sandbox's webhooks go to Django's own WSGI handler, in process."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from django.test import Client

from sandbox import Sandbox
from sandbox.adapter import WSGIAdapter

current: Sandbox | None = None
WEBHOOK_URL = "http://testserver/shopify/webhooks"


def adapter() -> WSGIAdapter:
    assert current is not None, "the `shopify` fixture sets the sandbox up"
    return WSGIAdapter(current.app)


def to_portal():  # type: ignore[no-untyped-def]
    """The sandbox's webhook transport: into this portal through Django's test client, which
    (unlike a bare WSGI call) leaves the test's database connection open."""

    def send(url: str, body: bytes, headers: Mapping[str, str]) -> int:
        meta = {
            "HTTP_" + name.upper().replace("-", "_"): value
            for name, value in headers.items()
            if name.lower() != "content-type"
        }
        response = Client().post(
            urlsplit(url).path, data=body, content_type="application/json", **meta
        )
        return response.status_code

    return send
