from __future__ import annotations

from django.urls import path

from edits import views

app_name = "edits"
urlpatterns = [
    path("o/<str:token>/changes/", views.changes, name="changes"),
    path("o/<str:token>/change/address/", views.change_address, name="change_address"),
    path("o/<str:token>/change/contact/", views.change_contact, name="change_contact"),
    path("o/<str:token>/cancel/", views.cancel, name="cancel"),
    path("o/<str:token>/confirm/", views.confirm, name="confirm"),
    path("o/<str:token>/changes/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
]
