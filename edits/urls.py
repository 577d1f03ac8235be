from __future__ import annotations

from django.urls import path

from edits import kinds, views

app_name = "edits"
urlpatterns = [
    *(
        path(f"o/<str:token>/{kind.path}", views.change, {"code": kind.code}, name=kind.code)
        for kind in kinds.every()
    ),
    path("o/<str:token>/confirm/", views.confirm, name="confirm"),
    path("o/<str:token>/changes/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
]
