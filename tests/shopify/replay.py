"""Shopify's recorded answers, played back through a requests transport adapter.

The bodies come from `../shared/shopify/captures/` (real answers of a real dev store) or from
FACTS.md's documented shapes; the adapter only decides their order and records what was sent.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from tests.shopify.conftest import SHARED

CAPTURES = SHARED / "captures" / "draft-proxy"


def capture(name: str) -> dict[str, Any]:
    path = CAPTURES / name
    if not path.exists():
        pytest.fail(f"missing real Shopify material: {path}")
    return json.loads(path.read_text())


def throttled(*, requested: int, available: int, maximum: int = 2000, rate: int = 100) -> dict:
    """Shopify's THROTTLED answer (FACTS.md §2): HTTP 200, no data, actualQueryCost null."""
    return {
        "errors": [
            {
                "message": "Throttled",
                "extensions": {
                    "code": "THROTTLED",
                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                },
            }
        ],
        "extensions": {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": None,
                "throttleStatus": {
                    "maximumAvailable": maximum,
                    "currentlyAvailable": available,
                    "restoreRate": rate,
                },
            }
        },
    }


class Replay(BaseAdapter):
    """Answers each request with the next queued answer: a JSON body, a status with headers,
    or an exception to raise."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: deque[Any] = deque()
        self.sent: list[requests.PreparedRequest] = []

    def answer(self, body: Any = None, *, status: int = 200, headers: dict | None = None) -> None:
        self.answers.append((status, body, headers or {}))

    def fail(self, error: Exception) -> None:
        self.answers.append(error)

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        self.sent.append(request)
        if not self.answers:
            raise AssertionError(f"an unexpected request: {request.body!r}")
        answer = self.answers.popleft()
        if isinstance(answer, Exception):
            raise answer
        status, body, headers = answer
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json", **headers})
        response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
        response.url = request.url
        response.request = request
        return response

    def close(self) -> None:
        pass

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(request.body) for request in self.sent]
