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
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler

from kiosk.core.authoring import sniff_media_type
from kiosk.core.fsutil import atomic_promote, atomic_write
from kiosk.core.model import MAX_ASSET_BYTES
from kiosk.render.images import ImageError, decode, without_metadata

PREVIEW_BOX = (1920, 1080)


class BoundedUploadHandler(TemporaryFileUploadHandler):
    """Stops reading a request whose files pass MAX_ASSET_BYTES: gunicorn would otherwise
    spool any size to disk (nginx bounds it too, at 60 MiB)."""

    def new_file(self, *args, **kwargs) -> None:
        self.received = 0
        super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data: bytes, start: int):
        self.received += len(raw_data)
        if self.received > MAX_ASSET_BYTES:
            raise StopUpload(connection_reset=True)
        return super().receive_data_chunk(raw_data, start)


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
        raise ImageRefused("Ảnh lớn hơn 50 MB; bảng tin không nhận.")
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
