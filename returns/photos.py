"""Photos shoppers add to a return: checked to be what they claim, and kept without metadata.

A file is accepted when Pillow can decode it fully as a JPEG, PNG or WebP within the size and
pixel limits, whatever its name or declared type says. It is then re-encoded, which drops EXIF
data (a phone photo carries where it was taken) and anything appended to the image. Nothing is
written to storage before all of that passed.
"""

from __future__ import annotations

import io
import uuid
import warnings
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MAX_PIXELS = 40_000_000
FOLDER = "returns/photos"  # a 48-megapixel phone photo is downscaled by the phone's browser


def max_bytes() -> int:
    return settings.RETURN_PHOTO_MAX_BYTES


def check(upload: UploadedFile) -> Image.Image:
    """The decoded image, or `ValidationError` with a message for the shopper."""
    if upload.size is not None and upload.size > max_bytes():
        raise ValidationError(
            _("This photo is too large: %(size)s. Photos can be up to %(limit)s."),
            code="too_large",
            params={"size": filesizeformat(upload.size), "limit": filesizeformat(max_bytes())},
        )
    data = upload.read(max_bytes() + 1)
    if len(data) > max_bytes():
        raise ValidationError(
            _("This photo is too large. Photos can be up to %(limit)s."),
            code="too_large",
            params={"limit": filesizeformat(max_bytes())},
        )
    refused = ValidationError(
        _("This file is not a photo we can read. Please use a JPEG, PNG or WebP image."),
        code="not_an_image",
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in FORMATS:
                raise refused
            if image.width * image.height > MAX_PIXELS:
                raise refused
            image.load()  # decode it all: a truncated or forged file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as error:  # fmt: skip
        raise refused from error
    return image


def store(upload: UploadedFile) -> str:
    """Check the upload, and keep it re-encoded; its name in Django's storage."""
    image = check(upload)
    kind = image.format or "JPEG"
    image = ImageOps.exif_transpose(image)  # keep it upright once the EXIF data is gone
    output = io.BytesIO()
    if kind == "JPEG":
        image.convert("RGB").save(output, "JPEG", quality=85)
        kind = "JPEG"
    else:
        image.save(output, kind)
    name = f"{FOLDER}/{uuid.uuid4().hex}.{FORMATS[kind]}"
    return default_storage.save(name, ContentFile(output.getvalue()))


def discard(name: str) -> None:
    if name and default_storage.exists(name):
        default_storage.delete(name)


def sweep_unused(*, older_than: timedelta = timedelta(days=2)) -> int:
    """Remove the photos no return took (drafts abandoned, items changed), once no session can
    still be putting them to use. Returns how many were removed."""
    from returns.models import ReturnLine

    try:
        _folders, names = default_storage.listdir(FOLDER)
    except FileNotFoundError:
        return 0
    cutoff = timezone.now() - older_than
    kept = set(ReturnLine.objects.filter(photo__startswith=FOLDER).values_list("photo", flat=True))
    removed = 0
    for name in names:
        path = f"{FOLDER}/{name}"
        if path in kept or default_storage.get_modified_time(path) > cutoff:
            continue
        default_storage.delete(path)
        removed += 1
    return removed
