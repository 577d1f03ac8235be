from __future__ import annotations

import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from orders.models import Shop
from shopify import sync
from shopify.client import ShopifyError

PERIOD = re.compile(r"^(\d+)([dh])$")


def parse_since(value: str) -> datetime:
    """30d, 12h, 2026-11-01 or an ISO datetime."""
    match = PERIOD.match(value.strip())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        delta = timedelta(days=amount) if unit == "d" else timedelta(hours=amount)
        return timezone.now() - delta
    moment = parse_datetime(value)
    if moment is None and (day := parse_date(value)):
        moment = datetime(day.year, day.month, day.day)
    if moment is None:
        raise CommandError(f"--since {value!r}: use 30d, 12h, 2026-11-01 or an ISO datetime")
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Import the shop's orders changed since a moment (default 30 days) through the Admin "
        "API, with a progress bar. Started again after an interruption, it resumes where it "
        "stopped (--restart to start over)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("domain")
        parser.add_argument("--since", default="30d")
        parser.add_argument("--restart", action="store_true", help="ignore an interrupted run")

    def handle(self, *args: Any, **options: Any) -> None:
        shop = Shop.objects.filter(domain=options["domain"], credentials__isnull=False).first()
        if shop is None:
            raise CommandError(f"No connected shop {options['domain']!r}: run add_shop first")
        since = parse_since(options["since"])
        state = getattr(shop, "sync_state", None)
        if (
            state
            and state.backfill_interrupted
            and not options["restart"]
            and since >= state.backfill_since
        ):
            self.stdout.write(
                f"Resuming after {state.backfill_imported} orders "
                f"(changed up to {state.backfill_watermark:%Y-%m-%d %H:%M %Z})"
            )
        try:
            progress = sync.import_orders(
                shop, since=since, restart=options["restart"], on_progress=self.show
            )
        except ShopifyError as error:
            self.stdout.write("")
            raise CommandError(
                f"Stopped by Shopify ({error}). Run the same command again to resume."
            ) from error
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"{progress.imported} orders imported"))

    def show(self, progress: sync.Progress) -> None:
        total = progress.total
        if total:
            done = min(progress.imported, total)
            filled = round(30 * done / total)
            line = f"[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} orders"
        else:
            line = f"{progress.imported} orders"
        if sys.stdout.isatty():
            self.stdout.write(f"\r{line}", ending="")
        else:
            self.stdout.write(line)
