"""The one client of Shopify's Admin GraphQL API: `requests`, a shared rate-limit bucket, and
failures sorted by what the caller should do about them.

- `Throttled`: Shopify kept refusing for lack of budget, even after waiting: try again later.
- `Transient`: the network, a timeout, a 5xx, or 429/503: try again later (the outbox retries with
  backoff, no sooner than the `retry_after` Shopify asked for).
- `Permanent`: Shopify will give the same answer again (bad token, missing scope, a GraphQL error
  in our document): retrying is pointless, an agent has to look.
- `UserErrors`: Shopify understood the mutation and refused it for a reason about the data
  (`userErrors` with field and message): the shopper or agent can act on it.

THROTTLED comes back as HTTP 200 with `errors[].extensions.code`; 429 comes with `Retry-After`.
Both are refusals before anything ran, so the client waits and sends again itself, a bounded
number of times. It never re-sends after a timeout or a 5xx (503 included), where a mutation may
have run: that decision belongs to the job, which re-reads before it writes.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.utils.module_loading import import_string

from shopify import bucket as buckets

logger = logging.getLogger(__name__)

MAX_THROTTLE_WAITS = 5
MAX_RETRY_AFTER_WAITS = 3
DEFAULT_RETRY_AFTER = 1.0  # Shopify's own graphql-client waits 1 s when Retry-After is absent
DEFAULT_QUERY_COST = 50.0  # a first guess, until Shopify reports a document's requested cost
MUTATION_COST = 10.0
# Shopify's own trouble, answered with HTTP 200 and `errors`: worth trying again later.
SHOPIFY_TROUBLE = {"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"}

_OPERATION = re.compile(r"\b(query|mutation)\s+(\w+)")


class ShopifyError(Exception):
    code = "shopify_error"


class Transient(ShopifyError):
    code = "transient"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Throttled(Transient):
    code = "throttled"


class RateLimited(Transient):
    """HTTP 429: refused before anything ran, so sending again after `retry_after` is safe."""

    code = "rate_limited"


class Permanent(ShopifyError):
    code = "permanent"

    def __init__(self, message: str, *, codes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.codes = codes


@dataclass(frozen=True)
class UserError:
    field: tuple[str, ...]
    message: str
    code: str = ""

    @classmethod
    def from_payload(cls, error: dict[str, Any]) -> UserError:
        return cls(
            field=tuple(str(part) for part in error.get("field") or ()),
            message=error.get("message") or "",
            code=error.get("code") or "",
        )


class UserErrors(ShopifyError):
    code = "user_errors"

    def __init__(self, errors: list[UserError]) -> None:
        super().__init__("; ".join(f"{'.'.join(e.field) or '-'}: {e.message}" for e in errors))
        self.errors = errors


def operation_of(document: str) -> tuple[str, str]:
    """('query' | 'mutation', its name) of a named document."""
    match = _OPERATION.search(document)
    if not match:
        raise ValueError("Every document the portal sends is a named operation")
    return match.group(1), match.group(2)


_expected_costs: dict[str, float] = {}


def transport_adapter() -> requests.adapters.BaseAdapter | None:
    """The adapter settings name for reaching Shopify in-process (the demo's sandbox), if any."""
    factory = settings.SHOPIFY_TRANSPORT
    return import_string(factory)() if factory else None


class Client:
    def __init__(
        self,
        domain: str,
        access_token: str,
        *,
        session: requests.Session | None = None,
        bucket: buckets.Bucket | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.domain = domain
        self.url = settings.SHOPIFY_ADMIN_URL.format(
            domain=domain, version=settings.SHOPIFY_API_VERSION
        )
        self.headers = {
            "X-Shopify-Access-Token": access_token,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        self.session = session or new_session()
        self.bucket = bucket or buckets.for_shop(domain)
        self.sleep = sleep
        self.timeout = (settings.SHOPIFY_CONNECT_TIMEOUT, settings.SHOPIFY_READ_TIMEOUT)

    @classmethod
    def for_shop(cls, shop: Any) -> Client:
        return cls(shop.domain, shop.credentials.access_token)

    def query(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run a query or mutation; its `data`, or one of the failures above."""
        kind, name = operation_of(document)
        first_guess = MUTATION_COST if kind == "mutation" else DEFAULT_QUERY_COST
        cost = _expected_costs.get(name, first_guess)
        body = {"query": document, "variables": variables or {}, "operationName": name}
        throttled = 0
        refused = 0
        while True:
            wait = self.bucket.reserve(cost)
            status: buckets.ThrottleStatus | None = None
            try:
                if wait > 0:
                    self.sleep(wait)
                answer, status = self._send(name, body)
            except RateLimited as error:
                if refused >= MAX_RETRY_AFTER_WAITS:
                    raise
                refused += 1
                self.sleep(error.retry_after)
                continue
            finally:
                self.bucket.settle(cost, status)
            requested = (answer.get("extensions") or {}).get("cost", {}).get("requestedQueryCost")
            if requested:
                cost = _expected_costs[name] = float(requested)
            errors = answer.get("errors")
            if not errors:
                return answer.get("data") or {}
            codes = tuple(
                (error.get("extensions") or {}).get("code", "") for error in _as_list(errors)
            )
            if set(codes) & SHOPIFY_TROUBLE:
                raise Transient(f"{name}: {_messages(errors)}")
            if "THROTTLED" not in codes:
                raise Permanent(_messages(errors), codes=codes)
            if throttled >= MAX_THROTTLE_WAITS:
                # The next attempt comes when the bucket holds this document's cost again.
                refill = (
                    (cost - status.available) / status.restore_rate
                    if status is not None and status.restore_rate > 0
                    else DEFAULT_RETRY_AFTER
                )
                raise Throttled(
                    f"{name}: still throttled after {throttled} waits",
                    retry_after=max(DEFAULT_RETRY_AFTER, refill),
                )
            throttled += 1
            # Shopify refused before running anything. The bucket now holds Shopify's figures,
            # so the next reservation waits exactly as long as the restore rate needs.
            if status is None:
                self.sleep(DEFAULT_RETRY_AFTER)

    def mutate(self, document: str, variables: dict[str, Any], *, payload: str) -> dict[str, Any]:
        """Run a mutation and return its payload; `UserErrors` when Shopify refused the data."""
        result = self.query(document, variables).get(payload) or {}
        # `userErrors`, and the typed lists some mutations add (orderCancel's
        # `orderCancelUserErrors` carries codes): one error may be in both.
        errors = [
            error
            for key, value in result.items()
            if key == "userErrors" or key.endswith("UserErrors")
            for error in value or []
        ]
        errors = list({(str(e.get("field")), e.get("message")): e for e in errors}.values())
        if errors:
            raise UserErrors([UserError.from_payload(error) for error in errors])
        return result

    def _send(
        self, name: str, body: dict[str, Any]
    ) -> tuple[dict[str, Any], buckets.ThrottleStatus | None]:
        started = time.monotonic()
        try:
            response = self.session.post(
                self.url, json=body, headers=self.headers, timeout=self.timeout
            )
        except requests.Timeout as error:
            raise Transient(f"{name}: Shopify did not answer in time ({error})") from error
        except requests.RequestException as error:
            raise Transient(f"{name}: Shopify could not be reached ({error})") from error
        logger.debug(
            "%s %s -> %s in %.0f ms",
            self.domain,
            name,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        retry_after = response.headers.get("Retry-After")
        if response.status_code == 429:
            # Refused before anything ran: safe to send again after Retry-After.
            raise RateLimited(f"{name}: HTTP 429", retry_after=_retry_after(retry_after))
        if response.status_code >= 500:
            # The mutation may have run: never sent again from here. A 503's Retry-After says
            # when the job's next attempt may come.
            raise Transient(
                f"{name}: HTTP {response.status_code}",
                retry_after=_retry_after(retry_after) if retry_after else None,
            )
        if response.status_code >= 400:
            raise Permanent(f"{name}: HTTP {response.status_code}: {response.text[:300]}")
        try:
            answer = response.json()
        except ValueError as error:
            raise Transient(f"{name}: Shopify's answer is not JSON") from error
        if not isinstance(answer, dict):
            raise Transient(f"{name}: Shopify's answer is not a JSON object")
        return answer, buckets.ThrottleStatus.from_extensions(answer.get("extensions"))


def new_session() -> requests.Session:
    """A session that reaches the Admin API as settings say (network, or in process)."""
    session = requests.Session()
    adapter = transport_adapter()
    if adapter is not None:
        session.mount("https://", adapter)
        session.mount("http://", adapter)
    return session


def _retry_after(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER


def _as_list(errors: Any) -> list[dict[str, Any]]:
    if isinstance(errors, list):
        return [e if isinstance(e, dict) else {"message": str(e)} for e in errors]
    return [{"message": str(errors)}]


def _messages(errors: Any) -> str:
    return "; ".join(error.get("message", "") for error in _as_list(errors))
