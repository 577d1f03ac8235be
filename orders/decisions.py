"""A rule's answer: allowed or not, with a stable code for code and tests and a translated
message for the shopper. Every app's `rules.py` answers with one."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise


@dataclass(frozen=True)
class Decision:
    allowed: bool
    code: str = "ok"
    message: str | Promise = ""

    def __bool__(self) -> bool:
        return self.allowed

    @classmethod
    def yes(cls) -> Decision:
        return cls(True)

    @classmethod
    def no(cls, code: str, message: str | Promise) -> Decision:
        return cls(False, code, message)


class NotAllowed(Exception):
    """A rule said no to a write; `decision` says why, in the shopper's language."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.code)
        self.decision = decision
