"""A change request in the words of its kind (`edits.kinds`): `{% load change_kinds %}`, then
`{{ change|kind_label }}`, `{{ change|status_label }}`, `{{ change|summary_template }}`."""

from __future__ import annotations

from django import template

from edits import kinds
from edits.models import ChangeRequest

register = template.Library()


@register.filter
def kind_label(change: ChangeRequest) -> str:
    """ "Delivery address" """
    return str(kinds.get(change.kind).label)


@register.filter
def status_label(change: ChangeRequest) -> str:
    """The status as the shopper reads it, in its kind's words ("Cancelled by the shop")."""
    labels = kinds.get(change.kind).status_labels
    return str(labels.get(change.status) or change.get_status_display())


@register.filter
def summary_template(change: ChangeRequest) -> str:
    """The template that shows what was asked for, or nothing."""
    return kinds.get(change.kind).summary_template
