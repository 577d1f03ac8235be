"""Emails about a change, in the order's language, as HTML and plain text, each with a signed
link back to the order page."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from edits.models import ChangeRequest
from orders import access

SUBJECTS = {
    "received": _("We received your change to order %(name)s"),
    "awaiting_approval": _("Your change to order %(name)s is waiting for approval"),
    "applied": _("Your change to order %(name)s was made"),
    "rejected": _("Your change to order %(name)s was not approved"),
    "failed": _("Your change to order %(name)s could not be made"),
}


def send_change_email(request: ChangeRequest, event: str) -> None:
    order = request.order
    if not order.email or event not in SUBJECTS:
        return
    with translation.override(order.language):
        link = settings.PORTAL_BASE_URL + reverse("orders:page", args=[access.link_token(order)])
        context = {
            "request": request,
            "order": order,
            "shop": order.shop,
            "event": event,
            "link": link,
        }
        subject = str(SUBJECTS[event] % {"name": order.name})
        text = render_to_string("edits/emails/change.txt", context)
        html = render_to_string("edits/emails/change.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.email],
        reply_to=[order.shop.support_email] if order.shop.support_email else None,
    )
    message.attach_alternative(html, "text/html")
    message.send()
