"""Real browser journeys: Playwright driving Debian's Chromium against the live test server."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make between
# browser steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (bin/check-machine does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def shot(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Save a full-page screenshot as a test artifact: shot(page, "name")."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:  # type: ignore[no-untyped-def]
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def open_page(browser, live_server):  # type: ignore[no-untyped-def]
    """A page in a browser context of its own, closed after the test (so that a page still
    polling cannot reach the server during the next test)."""
    contexts = []

    def open_(*, width: int = 390, javascript: bool = True):  # type: ignore[no-untyped-def]
        context = browser.new_context(
            java_script_enabled=javascript,
            locale="en-US",
            viewport={"width": width, "height": 900},
            base_url=live_server.url,
        )
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def store(transactional_db: None, live_server, settings):  # type: ignore[no-untyped-def]
    """The demo store, as `make run` serves it: a sandbox store playing Shopify (in this process)
    whose webhooks reach the live server over HTTP. Jobs run in the server's process right after
    commit, as in the demo without Redis."""
    import requests

    from portal import demo
    from sandbox import Sandbox
    from sandbox.webhooks import post_with
    from tests import sandbox_link

    sandbox_link.current = Sandbox(
        domain=demo.DOMAIN,
        access_token=demo.ACCESS_TOKEN,
        client_secret=demo.CLIENT_SECRET,
        transport=post_with(requests),
    )
    settings.REDIS_URL = ""
    demo.load(webhook_url=f"{live_server.url}/shopify/webhooks")
    return sandbox_link.current


@pytest.fixture
def payment_site(store) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Shopify's payment page for an order, served by the sandbox over HTTP: where the order
    page's "Pay now" leads."""
    from sandbox.server import make_http_server

    server = make_http_server(store.app, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
