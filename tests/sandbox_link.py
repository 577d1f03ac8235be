"""In every test the Admin API is a sandbox store in this process: no test reaches the network,
and whatever the client sends is answered as Shopify would (settings.SHOPIFY_TRANSPORT names
`adapter` below). The sandbox's webhooks go to Django's own WSGI handler, in process."""

from __future__ import annotations

import requests
from django.core.wsgi import get_wsgi_application

from sandbox import Sandbox
from sandbox.adapter import WSGIAdapter
from sandbox.webhooks import post_with

current: Sandbox | None = None
WEBHOOK_URL = "http://testserver/shopify/webhooks"


def adapter() -> WSGIAdapter:
    assert current is not None, "the `shopify` fixture sets the sandbox up"
    return WSGIAdapter(current.app)


def to_portal():  # type: ignore[no-untyped-def]
    portal = requests.Session()
    portal.mount("http://testserver/", WSGIAdapter(get_wsgi_application()))
    return post_with(portal)
