"""Job internals (arguments, tracebacks) are for superusers; agents see failures where they work."""

from __future__ import annotations

from django.contrib.auth.models import User


def test_the_rq_dashboard_is_for_superusers_only(client, agent: User) -> None:  # type: ignore[no-untyped-def]
    url = "/admin/django_rq/dashboard/"
    assert client.get(url).status_code == 302  # to the login page

    client.force_login(agent)
    assert client.get(url).status_code == 403
    assert client.get(f"{url}queues/0/failed/").status_code == 403
    assert b"django_rq" not in client.get("/admin/").content

    client.force_login(User.objects.create_superuser("owner", password="x"))
    response = client.get(url)
    assert response.status_code == 200
    assert b"webhooks" in response.content and b"shopify" in response.content
    assert client.get(f"{url}queues/0/failed/").status_code == 200
