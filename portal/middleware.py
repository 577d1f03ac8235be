from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme

from orders import formatting

SHIPPED = {code for code, _name in settings.LANGUAGES}


def language_choice(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """`?language=de` on any page: remember the shopper's choice in the language cookie and
    come back to the same page without the parameter.

    A GET, so the switcher is a plain GET form that needs no CSRF token: choosing a language
    changes nothing but a preference, and pages without a token can be cached whole.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        language = request.GET.get("language")
        if request.method != "GET" or language not in SHIPPED:
            return get_response(request)
        rest = request.GET.copy()
        del rest["language"]
        target = request.path + (f"?{urlencode(rest, doseq=True)}" if rest else "")
        # `//evil.example/?language=de` must not become a redirect to another site.
        if (
            not url_has_allowed_host_and_scheme(
                target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            )
            or not target.startswith("/")
            or target.startswith("//")
        ):
            target = "/"
        response = HttpResponseRedirect(target)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
        return response

    return middleware


def shopper_region(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """Every request starts and ends with no shopper's region for dates and money: an order's
    view sets its own (`orders.formatting.use_region`), and no other request of this thread
    keeps it."""

    def middleware(request: HttpRequest) -> HttpResponse:
        formatting.use_region(None)
        try:
            return get_response(request)
        finally:
            formatting.use_region(None)

    return middleware
