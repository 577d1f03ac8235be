"""Emails about a return, in the order's language, as HTML and plain text, each with a signed
link back to the order page (and, once approved, to the return slip)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from orders import access
from returns.models import ReturnRequest

SUBJECTS = {
    "requested": _("We received your return request %(number)s"),
    "approved": _("Your return %(number)s is approved: here is your return slip"),
    "declined": _("Your return request %(number)s was declined"),
    "arrived": _("Your returned items for %(number)s arrived"),
    "resolved": _("Your return %(number)s is settled"),
}


def send_return_email(request: ReturnRequest, event: str) -> None:
    order = request.order
    if not order.email or event not in SUBJECTS:
        return
    with translation.override(order.language):
        token = access.link_token(order)
        link = settings.PORTAL_BASE_URL + reverse("orders:page", args=[token])
        slip = settings.PORTAL_BASE_URL + reverse("returns:slip", args=[token, request.pk])
        context = {
            "request": request,
            "lines": list(request.lines.select_related("line_item")),
            "order": order,
            "shop": order.shop,
            "event": event,
            "link": link,
            "slip": slip if request.slip_available else "",
        }
        subject = str(SUBJECTS[event] % {"number": request.number})
        text = render_to_string("returns/emails/return.txt", context)
        html = render_to_string("returns/emails/return.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.email],
        reply_to=[order.shop.support_email] if order.shop.support_email else None,
    )
    message.attach_alternative(html, "text/html")
    message.send()
