from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from shopify.jobs import sweep_deliveries


class Command(BaseCommand):
    help = "Send again the webhook deliveries that no worker has processed (run it every minute)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=int, default=120, help="seconds (default 120)")

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            count = sweep_deliveries(older_than=timedelta(seconds=options["older_than"]))
        self.stdout.write(f"{count} deliveries sent again")
