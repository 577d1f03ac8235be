"""Emails to the shopper about their order, in the order's language, as HTML and plain text,
each with a signed link back to the order page. Apps above (edits, returns) say what happened."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from orders import access, formatting
from orders.models import Order


def portal_url(name: str, *args: Any) -> str:
    """An absolute address in the portal, for emails."""
    return settings.PORTAL_BASE_URL + reverse(name, args=args)


def send_to_shopper(
    order: Order, *, subject: Any, params: dict[str, Any], template: str, context: dict[str, Any]
) -> None:
    """`subject % params` and `<template>.txt` / `.html`, rendered in the order's language."""
    if not order.email:
        return
    with translation.override(order.language), formatting.region(order.customer_locale):
        context = {
            "order": order,
            "shop": order.shop,
            "link": portal_url("orders:page", access.link_token(order)),
            **context,
        }
        title = str(subject % params)
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    message = EmailMultiAlternatives(
        subject=title,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.email],
        reply_to=[order.shop.support_email] if order.shop.support_email else None,
    )
    message.attach_alternative(html, "text/html")
    message.send()
