from __future__ import annotations

from django.urls import path

from orders import views

app_name = "orders"
urlpatterns = [
    path("o/<str:token>/", views.order_page, name="page"),
    path("o/<str:token>/live/", views.live_parts, name="live"),
]
