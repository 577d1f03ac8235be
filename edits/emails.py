"""Emails about a change, in the order's language, as HTML and plain text, each with a signed
link back to the order page. They listen to the changes' events (`edits.events`): an action
never sends mail itself, and an event rolled back sends none."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from edits.models import ChangeRequest
from orders import events, mail
from orders.models import OrderEvent
from shopify import queue

SUBJECTS = {
    "received": _("We received your change to order %(name)s"),
    "awaiting_approval": _("Your change to order %(name)s is waiting for approval"),
    "applied": _("Your change to order %(name)s was made"),
    "rejected": _("Your change to order %(name)s was not approved"),
    "failed": _("Your change to order %(name)s could not be made"),
    "by_shop": _("The shop had already made your change to order %(name)s"),
    "awaiting_payment": _("Please pay the difference for order %(name)s"),
    "paid": _("Thank you: the difference for order %(name)s is paid"),
    "refund_made": _("Your refund for order %(name)s was made"),
}


def on_change(event: OrderEvent) -> None:
    """Subscribed to every change's events: the ones the shopper hears about by email."""
    step = event.kind.rsplit(".", 1)[-1]
    if step == "requested":
        step = "awaiting_approval" if event.data.get("awaiting_approval") else "received"
    if step in SUBJECTS and event.subject_id:
        queue.enqueue(send_change_email, event.subject_id, step, queue="default")


def send_change_email(request_id: int, step: str) -> None:
    """The job."""
    request = ChangeRequest.objects.select_related("order__shop").filter(pk=request_id).first()
    if request is None or step not in SUBJECTS:
        return
    mail.send_to_shopper(
        request.order,
        subject=SUBJECTS[step],
        params={"name": request.order.name},
        template="edits/emails/change",
        context={"request": request, "event": step},
    )


events.subscribe("edits.*", on_change)
