from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class LookupForm(forms.Form):
    number = forms.CharField(
        label=_("Order number"),
        max_length=32,
        help_text=_("As in your confirmation email, e.g. #1001."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    contact = forms.CharField(
        label=_("Email, phone or postal code"),
        max_length=254,
        help_text=_("The email or phone number you ordered with, or the delivery postal code."),
        widget=forms.TextInput(attrs={"autocomplete": "email"}),
    )
