"""Who did something to an order: a value, not a string.

An `Actor` travels from the view, the admin, a job or a webhook handler into the action, and from
there onto the request (`requested_by`, `decided_by`) and the event it logs. It is stored as one
short text (`ActorField`: "shopper", "shopify", "system", "agent:<username>"), so the audit log
keeps who acted even after the agent's account is gone; code never builds or parses that text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Actor:
    kind: str  # one of KINDS
    name: str = ""  # the agent's username

    SHOPPER = "shopper"
    AGENT = "agent"
    SHOPIFY = "shopify"
    SYSTEM = "system"
    KINDS = (SHOPPER, AGENT, SHOPIFY, SYSTEM)

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            raise ValueError(f"unknown actor {self.kind!r}")
        if (self.kind == self.AGENT) != bool(self.name):
            raise ValueError("an agent has a name, and only an agent")

    @classmethod
    def agent(cls, user: Any) -> Actor:
        """A member of staff, from Django's user (the admin's `request.user`)."""
        return cls(cls.AGENT, user.get_username())

    @classmethod
    def parse(cls, value: str) -> Actor:
        """The stored form back into a value. Unknown text (written by hand into the database)
        counts as the portal's own."""
        kind, _sep, name = value.partition(":")
        if kind == cls.AGENT and name:
            return cls(cls.AGENT, name)
        if kind in (cls.SHOPPER, cls.SHOPIFY, cls.SYSTEM) and not name:
            return cls(kind)
        return cls(cls.SYSTEM)

    @property
    def key(self) -> str:
        """How it is stored."""
        return f"{self.kind}:{self.name}" if self.name else self.kind

    @property
    def is_agent(self) -> bool:
        return self.kind == self.AGENT

    @property
    def label(self) -> str:
        """For agents reading the audit log, in the active language."""
        if self.is_agent:
            return str(_("%(name)s (agent)") % {"name": self.name})
        return str(LABELS[self.kind])

    def __str__(self) -> str:
        return self.label


LABELS = {
    Actor.SHOPPER: _("the shopper"),
    Actor.SHOPIFY: _("Shopify"),
    Actor.SYSTEM: _("the portal"),
}

SHOPPER = Actor(Actor.SHOPPER)
SHOPIFY = Actor(Actor.SHOPIFY)
SYSTEM = Actor(Actor.SYSTEM)


class ActorField(models.CharField):
    """An `Actor` in one column; empty (None) where nobody acted yet (`decided_by`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 255)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[Any, ...]:
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_length") == 255:
            del kwargs["max_length"]
        if isinstance(kwargs.get("default"), Actor):
            kwargs["default"] = kwargs["default"].key
        return name, path, args, kwargs

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Actor | None:
        return Actor.parse(value) if value else None

    def to_python(self, value: Any) -> Actor | None:
        if value is None or isinstance(value, Actor):
            return value
        return Actor.parse(value) if value else None

    def get_prep_value(self, value: Any) -> str:
        """An Actor as its key; text as it is (a query by key: `actor="agent:alice"`)."""
        if value is None:
            return ""
        return value.key if isinstance(value, Actor) else str(value)

    def get_default(self) -> Any:
        default = super().get_default()
        return Actor.parse(default) if isinstance(default, str) and default else default

    def value_to_string(self, obj: Any) -> str:
        return self.get_prep_value(self.value_from_object(obj))
