"""The RQ dashboard, for superusers only: job arguments and tracebacks are internals. Agents see
what failed where they work: webhook deliveries, sync state, and (later) the change queues."""

from __future__ import annotations

from functools import wraps

from django.apps import apps
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

if apps.is_installed("django_rq"):
    from django_rq.admin import QueueAdmin
    from django_rq.models import Dashboard
    from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns

    @admin.register(Dashboard)
    class JobDashboardAdmin(QueueAdmin):
        def has_module_permission(self, request: HttpRequest) -> bool:
            return request.user.is_active and request.user.is_superuser

        def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
            return self.has_module_permission(request)

        def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
            return self.has_module_permission(request)

        def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):  # type: ignore[override]
            if not self.has_module_permission(request):
                raise PermissionDenied
            return super().changelist_view(request, extra_context)

        def get_urls(self):  # type: ignore[no-untyped-def]
            def superusers_only(view):  # type: ignore[no-untyped-def]
                @wraps(view)
                def guarded(request, *args, **kwargs):  # type: ignore[no-untyped-def]
                    request.current_app = self.admin_site.name  # django-rq's links follow it
                    if not self.has_module_permission(request):
                        raise PermissionDenied
                    return view(request, *args, **kwargs)

                return self.admin_site.admin_view(guarded)

            # The stats endpoints too, which django-rq opens to API tokens: session only here.
            stats = get_api_urlpatterns(name_prefix="django_rq_")
            for pattern in stats:
                pattern.callback = superusers_only(pattern.callback)
            return [
                *stats,
                *get_admin_urlpatterns(name_prefix="django_rq_", view_wrapper=superusers_only),
                *admin.ModelAdmin.get_urls(self),
            ]
