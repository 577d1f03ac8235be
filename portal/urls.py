from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from portal import views

urlpatterns = [
    path("", views.find_order, name="find_order"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("orders.urls")),
    path("", include("edits.urls")),
    path("", include("returns.urls")),
    path("", include("offers.urls")),
    path("", include("shopify.urls")),
]
