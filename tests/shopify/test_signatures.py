from __future__ import annotations

import pytest

from shopify.signatures import sign, verify
from tests.shopify.conftest import WEBHOOKS

# FACTS.md, vector 1: published in sqlpage/SQLPage's tests (MIT).
BODY = b'{"id":1234567890,"email":"customer@example.com","total_price":"123.45"}'
EXPECTED = "QNyObTlKbMx2qDlPF/ZOZcBqg5OgPg+2oky3zldc0Gw="


def test_published_vector() -> None:
    assert sign(BODY, "test-webhook-secret") == EXPECTED
    assert verify(BODY, EXPECTED, ["test-webhook-secret"])


def test_vector_over_a_real_sample() -> None:
    # FACTS.md, vector 2: the exact 229 bytes of webhooks/customers/redact.json.
    body = (WEBHOOKS / "customers" / "redact.json").read_bytes()
    assert len(body) == 229
    assert sign(body, "test-webhook-secret") == "PKbD9d09CnTuf655/PB4gMSRu9GsKTLaaktVsqgkAHA="


@pytest.mark.parametrize(
    ("body", "signature", "secrets"),
    [
        (BODY + b" ", EXPECTED, ["test-webhook-secret"]),
        (BODY.replace(b"123.45", b"1.45"), EXPECTED, ["test-webhook-secret"]),
        (BODY, EXPECTED, ["another-secret"]),
        (BODY, "", ["test-webhook-secret"]),
        (BODY, EXPECTED, []),
        (BODY, EXPECTED.lower(), ["test-webhook-secret"]),
    ],
    ids=["trailing-space", "tampered-amount", "wrong-secret", "missing", "no-secret", "case"],
)
def test_refused(body: bytes, signature: str, secrets: list[str]) -> None:
    assert not verify(body, signature, secrets)


def test_previous_secret_still_accepted_during_rotation() -> None:
    assert verify(BODY, EXPECTED, ["new-secret", "test-webhook-secret"])
