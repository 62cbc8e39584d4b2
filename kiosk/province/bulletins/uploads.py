"""Images officers upload, bounded while they arrive and checked as a board checks them
(JPEG, PNG or WebP by their bytes, at most 50 MiB, at most 50 megapixels, decodable), then
kept by their SHA-256 in uploads_dir until a publication copies them into the site. A photo
is kept without its EXIF and XMP (a phone's GPS position among them), turned upright."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler

from kiosk.core.authoring import sniff_media_type
from kiosk.core.fsutil import atomic_promote, atomic_write
from kiosk.core.model import MAX_ASSET_BYTES
from kiosk.render.images import ImageError, decode, without_metadata

PREVIEW_BOX = (1920, 1080)


TOO_LARGE = "Ảnh lớn hơn 50 MB; bảng tin không nhận. Hãy chọn ảnh nhỏ hơn."


class BoundedUploadHandler(TemporaryFileUploadHandler):
    """Keeps at most MAX_ASSET_BYTES of a file. A larger file is dropped, its temp file
    removed and its field named in request.uploads_too_large, while the rest of the request is
    still read: the form keeps every field the officer typed (stopping the upload would drop
    the fields after the file) and says the image is too large. The body as a whole is bounded
    by nginx (60 MiB) and gunicorn's timeout; nothing past the limit is kept."""

    def new_file(self, field_name: str, *args, **kwargs) -> None:
        self.received = 0
        self.too_large = False
        super().new_file(field_name, *args, **kwargs)

    def receive_data_chunk(self, raw_data: bytes, start: int):
        if self.too_large:
            return None  # read and dropped
        self.received += len(raw_data)
        if self.received > MAX_ASSET_BYTES:
            self.too_large = True
            self.file.close()  # a temporary file: closing removes it
            refused = getattr(self.request, "uploads_too_large", [])
            self.request.uploads_too_large = [*refused, self.field_name]
            return None
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size: int):
        return None if self.too_large else super().file_complete(file_size)


class ImageRefused(ValueError):
    """Why a board would refuse this image, in Vietnamese for the officer."""


@dataclass(frozen=True)
class StoredImage:
    sha256: str
    size: int
    media_type: str


def uploads_dir() -> Path:
    return Path(settings.KIOSK_UPLOADS)


def image_path(sha256: str) -> Path:
    return uploads_dir() / sha256


def store_image(upload) -> StoredImage:
    """The uploaded file checked and kept; ImageRefused says why not."""
    if upload.size > MAX_ASSET_BYTES:
        raise ImageRefused(TOO_LARGE)
    digest = hashlib.sha256()
    head = b""
    folder = uploads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".upload-", delete=False) as tmp:
        try:
            for chunk in upload.chunks():
                if len(head) < 16:
                    head += chunk[:16]
                digest.update(chunk)
                tmp.write(chunk)
            tmp.flush()
            media = sniff_media_type(head[:16])
            if media is None:
                raise ImageRefused("Tệp không phải ảnh JPEG, PNG hay WebP.")
            try:
                decode(Path(tmp.name), PREVIEW_BOX, "contain", media)
            except ImageError as exc:
                if "megapixels" in str(exc):
                    raise ImageRefused("Ảnh lớn hơn 50 megapixel; bảng tin không nhận.") from None
                raise ImageRefused(
                    "Không đọc được ảnh này (tệp hỏng hoặc không đúng định dạng)."
                ) from None
            sha = digest.hexdigest()
            size = tmp.tell()
            tmp.flush()
            data = Path(tmp.name).read_bytes()
            try:
                cleaned = without_metadata(data)
            except ImageError:
                raise ImageRefused(
                    "Không đọc được ảnh này (tệp hỏng hoặc không đúng định dạng)."
                ) from None
            if cleaned is not data:  # a phone's photo: kept without its metadata
                sha = hashlib.sha256(cleaned).hexdigest()
                if not image_path(sha).exists():
                    atomic_write(image_path(sha), cleaned, mode=0o640)
                return StoredImage(sha, len(cleaned), media)
            final = image_path(sha)
            if not final.exists():
                os.fsync(tmp.fileno())
                os.chmod(tmp.name, 0o640)
                atomic_promote(Path(tmp.name), final)
            return StoredImage(sha, size, media)
        finally:
            Path(tmp.name).unlink(missing_ok=True)
