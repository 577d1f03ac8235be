"""Emails about a change, in the order's language, as HTML and plain text, each with a signed
link back to the order page."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from edits.models import ChangeRequest
from orders import mail

SUBJECTS = {
    "received": _("We received your change to order %(name)s"),
    "awaiting_approval": _("Your change to order %(name)s is waiting for approval"),
    "applied": _("Your change to order %(name)s was made"),
    "rejected": _("Your change to order %(name)s was not approved"),
    "failed": _("Your change to order %(name)s could not be made"),
}


def send_change_email(request: ChangeRequest, event: str) -> None:
    if event not in SUBJECTS:
        return
    mail.send_to_shopper(
        request.order,
        subject=SUBJECTS[event],
        params={"name": request.order.name},
        template="edits/emails/change",
        context={"request": request, "event": event},
    )
