from __future__ import annotations

from django.urls import path

from returns import views

app_name = "returns"
urlpatterns = [
    path("o/<str:token>/return/", views.start, name="start"),
    path("o/<str:token>/return/reasons/", views.reasons, name="reasons"),
    path("o/<str:token>/return/resolution/", views.resolution, name="resolution"),
    path("o/<str:token>/return/review/", views.review, name="review"),
    path("o/<str:token>/returns/<int:pk>/", views.done, name="done"),
    path("o/<str:token>/returns/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("o/<str:token>/returns/<int:pk>/slip/", views.slip, name="slip"),
]
