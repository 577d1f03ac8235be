"""Form fields for people: what agents and merchants type in the admin is words and numbers,
never JSON."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class WordsField(forms.CharField):
    """Several words or tags, separated by commas ("final-sale, gift card"): a list of them,
    trimmed, each once, in the order typed."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _("Separate them with commas."))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(str(word) for word in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        words: list[str] = []
        for word in str(value or "").split(","):
            word = " ".join(word.split())
            if word and word.casefold() not in {w.casefold() for w in words}:
                words.append(word)
        return words

    def has_changed(self, initial: Any, data: Any) -> bool:
        return self.to_python(self.prepare_value(initial)) != self.to_python(data)
