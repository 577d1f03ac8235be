"""A return the shopper is putting together, step by step, kept in their session until they
submit it: which items and how many, why (with a photo where the reason needs one), and what
they want instead. Photos are stored as soon as they are checked, since a file cannot travel in
a form from step to step; those no return took are removed by `photos.sweep_unused`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from django.http import HttpRequest

from orders.models import Order
from returns import photos
from returns.actions import ReturnItem


@dataclass
class DraftItem:
    quantity: int
    reason: str = ""
    comment: str = ""
    photo: str = ""
    resolution: str = ""
    variant_id: int | None = None
    variant_title: str = ""
    variant_price: str = ""


@dataclass
class Draft:
    items: dict[int, DraftItem] = field(default_factory=dict)
    notice: str = ""  # said once on the next page (a size that sold out meanwhile)

    @staticmethod
    def key(order: Order) -> str:
        return f"return-draft:{order.pk}"

    @classmethod
    def load(cls, request: HttpRequest, order: Order) -> Draft:
        raw: dict[str, Any] = request.session.get(cls.key(order)) or {}
        items = {int(pk): DraftItem(**item) for pk, item in (raw.get("items") or {}).items()}
        return cls(items=items, notice=raw.get("notice", ""))

    def save(self, request: HttpRequest, order: Order) -> None:
        request.session[self.key(order)] = {
            "items": {str(pk): asdict(item) for pk, item in self.items.items()},
            "notice": self.notice,
        }

    def choose(self, quantities: dict[int, int]) -> None:
        """Step 1: the items and how many; what was said about items kept is kept."""
        for pk in list(self.items):
            if pk not in quantities:
                photos.discard(self.items.pop(pk).photo)
        for pk, quantity in quantities.items():
            if pk in self.items:
                self.items[pk].quantity = quantity
            else:
                self.items[pk] = DraftItem(quantity=quantity)

    @property
    def reasons_given(self) -> bool:
        return bool(self.items) and all(item.reason for item in self.items.values())

    @property
    def resolved(self) -> bool:
        return self.reasons_given and all(item.resolution for item in self.items.values())

    def return_items(self) -> list[ReturnItem]:
        return [
            ReturnItem(
                line_id=pk,
                quantity=item.quantity,
                reason=item.reason,
                resolution=item.resolution,
                comment=item.comment,
                exchange_variant_id=item.variant_id,
                exchange_variant_title=item.variant_title,
                exchange_price=Decimal(item.variant_price) if item.variant_price else None,
                photo=item.photo,
            )
            for pk, item in self.items.items()
        ]

    @classmethod
    def clear(cls, request: HttpRequest, order: Order) -> None:
        request.session.pop(cls.key(order), None)
