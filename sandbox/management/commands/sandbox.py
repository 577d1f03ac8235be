from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sandbox import Sandbox
from sandbox.server import make_http_server

# Safe for development only: the sandbox holds no real shop's data.
DEV_ACCESS_TOKEN = "shpat_sandbox_dev_token"
DEV_CLIENT_SECRET = "sandbox-dev-client-secret"


class Command(BaseCommand):
    help = "Serve the sandbox Shopify store (Admin GraphQL API + control API) on its own port."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001, help="0 takes a free port")
        parser.add_argument("--seed", choices=["demo", "empty"], default="demo")
        parser.add_argument(
            "--access-token",
            default=os.environ.get("SANDBOX_ACCESS_TOKEN") or DEV_ACCESS_TOKEN,
            help="the X-Shopify-Access-Token to accept (env SANDBOX_ACCESS_TOKEN)",
        )
        parser.add_argument(
            "--client-secret",
            default=os.environ.get("SANDBOX_CLIENT_SECRET") or DEV_CLIENT_SECRET,
            help="signs the webhooks (env SANDBOX_CLIENT_SECRET)",
        )
        parser.add_argument("--restore-rate", type=float, default=100, help="points per second")
        parser.add_argument("--bucket-size", type=float, default=2000, help="points")

    def handle(self, *args: Any, **options: Any) -> None:
        sandbox = Sandbox(
            access_token=options["access_token"],
            client_secret=options["client_secret"],
            restore_rate=options["restore_rate"],
            bucket_size=options["bucket_size"],
        )
        sandbox.reset(seed=options["seed"])
        self.server = make_http_server(
            sandbox.app,
            host=options["host"],
            port=options["port"],
            verbose=options["verbosity"] >= 2,
        )
        host, port = self.server.server_address[:2]
        shop = sandbox.store.shop
        self.stdout.write(
            self.style.SUCCESS(f"Sandbox store {shop.domain} on http://{host}:{port}/")
            + f"\n  Admin API: http://{host}:{port}/admin/api/{sandbox.api_version}/graphql.json"
            + f"\n  Control:   http://{host}:{port}/sandbox/orders"
            + f"\n  {len(sandbox.store.orders)} orders ({options['seed']} seed). Ctrl-C stops.\n"
        )
        self.stdout.flush()
        try:
            self.server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self.server.server_close()
