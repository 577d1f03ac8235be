"""Emails about a return, in the order's language, as HTML and plain text, each with a signed
link back to the order page (and, once Shopify has the return open, to the return slip). They
listen to the returns' events (`returns.events`): an action never sends mail itself."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from orders import access, events, mail
from orders.models import OrderEvent
from returns import events as return_events
from returns.models import ReturnRequest
from shopify import queue

SUBJECTS = {
    "requested": _("We received your return request %(number)s"),
    "approved": _("Your return %(number)s is approved: here is your return slip"),
    "declined": _("Your return request %(number)s was declined"),
    "arrived": _("Your returned items for %(number)s arrived"),
    "resolved": _("Your return %(number)s is settled"),
}
# Which event sends which email. "approved" waits for Shopify to have the return open, so that
# no parcel travels to a return Shopify does not know.
EMAILS = {
    return_events.REQUESTED.name: "requested",
    return_events.OPENED.name: "approved",
    return_events.DECLINED.name: "declined",
    return_events.RECEIVED.name: "arrived",
    return_events.RESOLVED.name: "resolved",
}


def on_return(event: OrderEvent) -> None:
    email = EMAILS.get(event.kind)
    if email == "requested" and event.data.get("approved"):
        return  # approved at once: the shopper hears when Shopify has it open, with the slip
    if email and event.subject_id:
        queue.enqueue(send_return_email, event.subject_id, email, queue="default")


def send_return_email(request_id: int, email: str) -> None:
    """The job."""
    request = ReturnRequest.objects.select_related("order__shop").filter(pk=request_id).first()
    if request is None or email not in SUBJECTS:
        return
    order = request.order
    slip = mail.portal_url("returns:slip", access.link_token(order), request.pk)
    mail.send_to_shopper(
        order,
        subject=SUBJECTS[email],
        params={"number": request.number},
        template="returns/emails/return",
        context={
            "request": request,
            "lines": list(request.lines.select_related("line_item")),
            "event": email,
            "slip": slip if request.slip_available else "",
        },
    )


events.subscribe("returns.*", on_return)
