from __future__ import annotations

from django.urls import path

from offers import views

app_name = "offers"
urlpatterns = [
    path("o/<str:token>/offers/<int:pk>/", views.offer_page, name="offer"),
]
