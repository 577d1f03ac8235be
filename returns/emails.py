"""Emails about a return, in the order's language, as HTML and plain text, each with a signed
link back to the order page (and, once approved, to the return slip)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from orders import access, mail
from returns.models import ReturnRequest

SUBJECTS = {
    "requested": _("We received your return request %(number)s"),
    "approved": _("Your return %(number)s is approved: here is your return slip"),
    "declined": _("Your return request %(number)s was declined"),
    "arrived": _("Your returned items for %(number)s arrived"),
    "resolved": _("Your return %(number)s is settled"),
}


def send_return_email(request: ReturnRequest, event: str) -> None:
    if event not in SUBJECTS:
        return
    order = request.order
    slip = mail.portal_url("returns:slip", access.link_token(order), request.pk)
    mail.send_to_shopper(
        order,
        subject=SUBJECTS[event],
        params={"number": request.number},
        template="returns/emails/return",
        context={
            "request": request,
            "lines": list(request.lines.select_related("line_item")),
            "event": event,
            "slip": slip if request.slip_available else "",
        },
    )
