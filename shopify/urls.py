from __future__ import annotations

from django.urls import path

from shopify import views

app_name = "shopify"
urlpatterns = [
    path("shopify/webhooks", views.receive, name="webhooks"),
]
