"""The shopper's return flow without JavaScript: items -> reasons (photos) -> resolution ->
summary -> submit; every refusal changes nothing; uploads that are not photos are refused and
nothing is stored."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from orders import access
from orders.models import LineItem, Order, Shop
from returns.models import ReturnPolicy, ReturnRequest
from tests.factories import add_line, make_order, make_shop, ship


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    settings.REDIS_URL = ""  # jobs run in-process after commit; the shop has no credentials
    return tmp_path


@pytest.fixture
def shop(db: None) -> Shop:
    return make_shop()


@pytest.fixture
def order(shop: Shop) -> Order:
    order = make_order(shop)
    add_line(order, quantity=2, price=Decimal("40.00"), product_id=None)
    ship(order, shipment_status="delivered", delivered_at=timezone.now() - timedelta(days=2))
    return order


def url(order: Order, step: str = "") -> str:
    return f"/o/{access.link_token(order)}/return/{step}"


def png(size: tuple[int, int] = (40, 30), *, exif: bool = False) -> bytes:
    out = io.BytesIO()
    image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    if exif:
        data = Image.Exif()
        data[0x010F] = "PhoneMaker"  # Make
        image.save(out, "JPEG", exif=data)
    else:
        image.save(out, "PNG")
    return out.getvalue()


def stored(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()]


def through_reasons(client: Client, order: Order, line: LineItem, **extra: object) -> object:
    client.post(url(order), {f"quantity-{line.pk}": "1"})
    return client.post(url(order, "reasons/"), {f"reason-{line.pk}": "too_small", **extra})


def test_a_refund_from_start_to_submit(client: Client, order: Order) -> None:
    line = order.lines.get()
    page = client.get(f"/o/{access.link_token(order)}/").content.decode()
    assert 'href="return/"' in page
    response = client.post(url(order), {f"quantity-{line.pk}": "2"})
    assert response.status_code == 302 and response.url.endswith("/return/reasons/")
    response = client.post(url(order, "reasons/"), {f"reason-{line.pk}": "too_small"})
    assert response.url.endswith("/return/resolution/")
    html = client.get(url(order, "resolution/")).content.decode()
    assert "Refund to the original payment" in html and "Store credit" in html
    response = client.post(url(order, "resolution/"), {f"resolution-{line.pk}": "refund"})
    assert response.url.endswith("/return/review/")
    html = client.get(url(order, "review/")).content.decode()
    assert "$80.00" in html  # two at 40
    assert not ReturnRequest.objects.exists()  # nothing until the shopper sends it
    response = client.post(url(order, "review/"))
    created = ReturnRequest.objects.get()
    assert response.url.endswith(f"/returns/{created.pk}/")
    (returned,) = created.lines.all()
    assert (returned.quantity, returned.resolution, returned.reason_code) == (
        2,
        "refund",
        "too_small",
    )
    page = client.get(f"/o/{access.link_token(order)}/").content.decode()
    assert f"Return {created.number}" in page


def test_fees_and_bonus_are_shown_before_submitting(client: Client, order: Order) -> None:
    policy = ReturnPolicy.for_shop(order.shop)
    policy.store_credit_bonus_percent = Decimal("10")
    policy.return_shipping_fee = Decimal("5.00")
    policy.save()
    line = order.lines.get()
    through_reasons(client, order, line)
    html = client.get(url(order, "resolution/")).content.decode()
    assert "$44.00" in html and "includes a 10% bonus" in html
    client.post(url(order, "resolution/"), {f"resolution-{line.pk}": "store_credit"})
    html = client.get(url(order, "review/")).content.decode()
    assert "Return shipping" in html and "$39.00" in html  # 44.00 credit less 5.00 shipping


@pytest.mark.parametrize("quantity", ["3", "-1", "two", ""])
def test_a_wrong_quantity_is_refused(client: Client, order: Order, quantity: str) -> None:
    line = order.lines.get()
    response = client.post(url(order), {f"quantity-{line.pk}": quantity})
    assert response.status_code == 422
    assert "choose between 0 and 2" in response.content.decode() or "Choose at least one" in (
        response.content.decode()
    )
    assert client.get(url(order, "reasons/")).status_code == 302  # back to step 1


def test_steps_cannot_be_skipped(client: Client, order: Order) -> None:
    assert client.get(url(order, "review/")).url.endswith("/return/reasons/")
    line = order.lines.get()
    client.post(url(order), {f"quantity-{line.pk}": "1"})
    assert client.get(url(order, "review/")).url.endswith("/return/reasons/")
    response = client.post(url(order, "reasons/"), {f"reason-{line.pk}": "bored"})
    assert response.status_code == 422 and "Choose a reason" in response.content.decode()


def test_a_photo_is_required_for_damage_and_kept_without_metadata(
    client: Client, order: Order, media: Path
) -> None:
    line = order.lines.get()
    client.post(url(order), {f"quantity-{line.pk}": "1"})
    response = client.post(url(order, "reasons/"), {f"reason-{line.pk}": "damaged"})
    assert response.status_code == 422 and "Please add a photo" in response.content.decode()
    photo = SimpleUploadedFile("IMG_0001.JPG", png(exif=True), content_type="image/jpeg")
    response = client.post(
        url(order, "reasons/"), {f"reason-{line.pk}": "damaged", f"photo-{line.pk}": photo}
    )
    assert response.status_code == 302
    (kept,) = stored(media)
    assert not Image.open(kept).getexif()  # the phone's metadata is gone


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("notes.txt", b"just some text", "text/plain"),
        ("photo.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg"),  # lies
        ("photo.png", png()[:60], "image/png"),  # truncated
        ("anim.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif"),  # not accepted
    ],
)
def test_what_is_not_a_photo_is_refused_and_nothing_is_stored(
    client: Client, order: Order, media: Path, name: str, content: bytes, content_type: str
) -> None:
    line = order.lines.get()
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    response = through_reasons(client, order, line, **{f"photo-{line.pk}": upload})
    assert response.status_code == 422
    assert "not a photo we can read" in response.content.decode()
    assert stored(media) == []


def test_an_oversized_photo_is_refused_and_nothing_is_stored(
    client: Client,
    order: Order,
    media: Path,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    settings.RETURN_PHOTO_MAX_BYTES = 2048
    line = order.lines.get()
    big = png((400, 400))
    assert len(big) > 2048
    upload = SimpleUploadedFile("big.png", big, content_type="image/png")
    response = through_reasons(client, order, line, **{f"photo-{line.pk}": upload})
    assert response.status_code == 422 and "too large" in response.content.decode()
    assert stored(media) == []


def test_items_that_cannot_be_returned_say_why(client: Client, order: Order) -> None:
    final = add_line(order, title="Socks", product_tags=["final-sale"], product_id=None)
    ship(order, [final], shipment_status="delivered", delivered_at=timezone.now())
    html = client.get(url(order)).content.decode()
    assert "Final sale" in html
    response = client.post(url(order), {f"quantity-{final.pk}": "1"})
    assert response.status_code == 422  # not a choice: nothing to return was chosen


def test_a_closed_window_refuses_the_flow(client: Client, order: Order) -> None:
    order.fulfillments.update(delivered_at=timezone.now() - timedelta(days=60))
    order.bump_revision()
    html = client.get(url(order)).content.decode()
    assert "The return window closed on" in html
    assert 'name="quantity-' not in html


def test_cancelling_a_waiting_return(client: Client, order: Order) -> None:
    line = order.lines.get()
    through_reasons(client, order, line)
    client.post(url(order, "resolution/"), {f"resolution-{line.pk}": "refund"})
    client.post(url(order, "review/"))
    created = ReturnRequest.objects.get()
    cancel = f"/o/{access.link_token(order)}/returns/{created.pk}/cancel/"
    assert "Cancel return" in client.get(cancel).content.decode()
    client.post(cancel)
    created.refresh_from_db()
    assert created.status == "cancelled"
    # The item can be asked back again.
    assert client.post(url(order), {f"quantity-{line.pk}": "2"}).status_code == 302


def test_another_orders_return_is_not_found(client: Client, order: Order, shop: Shop) -> None:
    other = make_order(shop)
    line = order.lines.get()
    through_reasons(client, order, line)
    client.post(url(order, "resolution/"), {f"resolution-{line.pk}": "refund"})
    client.post(url(order, "review/"))
    created = ReturnRequest.objects.get()
    assert client.get(f"/o/{access.link_token(other)}/returns/{created.pk}/").status_code == 404


def test_photos_no_return_took_are_swept_after_two_days(
    client: Client, order: Order, media: Path
) -> None:
    from returns import photos

    line = order.lines.get()

    def with_photo() -> None:
        client.post(url(order), {f"quantity-{line.pk}": "1"})
        upload = SimpleUploadedFile("p.png", png(), content_type="image/png")
        data = {f"reason-{line.pk}": "damaged", f"photo-{line.pk}": upload}
        assert client.post(url(order, "reasons/"), data).status_code == 302

    with_photo()
    client.post(url(order, "resolution/"), {f"resolution-{line.pk}": "refund"})
    client.post(url(order, "review/"))
    with_photo()  # a second return started for the other item, and abandoned
    kept = ReturnRequest.objects.get().lines.get().photo.name
    assert len(stored(media)) == 2
    assert photos.sweep_unused() == 0  # too recent: a session may still be using it
    old = timezone.now().timestamp() - 3 * 86400
    for path in stored(media):
        os.utime(path, (old, old))
    assert photos.sweep_unused() == 1
    assert [p.name for p in stored(media)] == [Path(kept).name]


def test_the_slip_says_where_to_send_it_what_is_left_to_pay_and_carries_a_barcode(
    client: Client, order: Order
) -> None:
    from returns.models import ShopifyStatus

    policy = ReturnPolicy.for_shop(order.shop)
    policy.return_address = "Northwind Returns\nLagerstraße 5\n04109 Leipzig\nGermany"
    policy.restocking_fee_percent = Decimal("10")
    policy.fees_waived_for_exchanges = False
    policy.save()
    line = order.lines.get()
    through_reasons(client, order, line)
    client.post(url(order, "resolution/"), {f"resolution-{line.pk}": "store_credit"})
    client.post(url(order, "review/"))
    created = ReturnRequest.objects.get()
    ReturnRequest.objects.filter(pk=created.pk).update(
        status="approved", shopify_status=ShopifyStatus.OPEN
    )
    html = client.get(f"/o/{access.link_token(order)}/returns/{created.pk}/slip/").text
    assert "Lagerstraße 5<br>04109 Leipzig" in html
    assert html.count("<svg") == 2  # the QR code for the admin, the barcode of the number
    assert f"Return number {created.number} as a barcode" in html
    assert "Still to pay" not in html  # the 10 % fee comes off the store credit

    policy.return_address = ""
    policy.save()
    ReturnRequest.objects.filter(pk=created.pk).update(
        quote={**created.quote, "fees_due": "4.00", "currency": "USD"}
    )
    html = client.get(f"/o/{access.link_token(order)}/returns/{created.pk}/slip/").text
    assert "We will tell you where to send the parcel." in html
    assert "Still to pay" in html and "Return fees: $4.00" in html


def test_the_photo_is_said_to_be_required_only_for_the_reason_that_needs_it(
    client: Client, order: Order
) -> None:
    line = order.lines.get()
    client.post(url(order), {f"quantity-{line.pk}": "1"})
    html = client.get(url(order, "reasons/")).text
    assert "(optional; required for: Arrived damaged or faulty)" in html
    refused = client.post(url(order, "reasons/"), {f"reason-{line.pk}": "damaged"})
    assert refused.status_code == 422
    assert "(required for this reason)" in refused.text
