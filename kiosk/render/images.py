"""Decoding image files safely, once: at sync time into a copy of the screen's size, and in
the player from that copy into a surface of the slide's size.

Pillow decodes (JPEG, PNG, WebP) with a pixel limit against decompression bombs, so neither
the sync nor the player ever holds a 24-megapixel photo for longer than one decode.

Every phone writes the way it was held into EXIF (Orientation, in JPEG, WebP and PNG's eXIf)
and stores the pixels as the sensor read them: a portrait photo is stored lying on its side.
decode() turns it upright, so the board, `kiosk render` and the console's preview all show
what the officer saw on the phone.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pygame
from PIL import ExifTags, Image

MAX_PIXELS = 50_000_000  # SPEC 1.5
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


class ImageError(Exception):
    """An image that cannot be shown: reported as asset_invalid, the item skipped."""

    code = "asset_invalid"


TURNED = (5, 6, 7, 8)  # EXIF orientations that swap width and height
T = Image.Transpose
# What turns the stored pixels upright, by EXIF Orientation (TIFF 6.0's definition of
# which corner row 0, column 0 is): 6 is a phone held upright, 8 upside-down portrait
UPRIGHT = {2: T.FLIP_LEFT_RIGHT, 3: T.ROTATE_180, 4: T.FLIP_TOP_BOTTOM, 5: T.TRANSPOSE,
           6: T.ROTATE_270, 7: T.TRANSVERSE, 8: T.ROTATE_90}  # fmt: skip


def orientation(img: Image.Image) -> int:
    """The EXIF Orientation (1 to 8), 1 when absent or unreadable: a broken EXIF block from
    a hostile or damaged file costs only the turn, never the image."""
    try:
        value = img.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # Pillow's EXIF parser raises many kinds on a malformed block
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def fitted_size(image: tuple[int, int], box: tuple[int, int], fit: str) -> tuple[int, int]:
    """The image's size scaled to contain it in the box, or to cover the box."""
    iw, ih = image
    bw, bh = box
    scale = min(bw / iw, bh / ih) if fit == "contain" else max(bw / iw, bh / ih)
    return max(1, round(iw * scale)), max(1, round(ih * scale))


def decode(
    path: Path, box: tuple[int, int], fit: str, media_type: str | None = None
) -> Image.Image:
    """The image as RGB, decoded no larger than needed to fit the box (JPEG draft mode).

    Refuses files over 50 megapixels before decoding their pixels, formats other than
    JPEG, PNG and WebP, and (when given) a format other than the manifest's media_type.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                if img.width * img.height > MAX_PIXELS:
                    raise ImageError(f"{path.name}: {img.width}x{img.height} is over 50 megapixels")
                if img.format not in FORMATS:
                    raise ImageError(f"{path.name}: {img.format} is not JPEG, PNG or WebP")
                if media_type is not None and FORMATS[img.format] != media_type:
                    raise ImageError(
                        f"{path.name}: the file is {FORMATS[img.format]}, the manifest says "
                        f"{media_type}"
                    )
                turn = orientation(img)
                upright = img.size[::-1] if turn in TURNED else img.size
                want = fitted_size(upright, box, fit)
                img.draft("RGB", want[::-1] if turn in TURNED else want)  # JPEG: decode smaller
                rgb = img.convert("RGB")
                return rgb.transpose(UPRIGHT[turn]) if turn in UPRIGHT else rgb
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"{path.name}: is over 50 megapixels (a decompression bomb)") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageError(f"{path.name}: cannot be decoded as an image ({exc})") from None


def _carries_metadata(img: Image.Image) -> bool:
    try:
        exif = len(img.getexif()) > 0
    except Exception:  # a malformed EXIF block is metadata too, and goes
        exif = True
    return exif or any(key in img.info for key in ("exif", "xmp", "XML:com.adobe.xmp"))


def without_metadata(data: bytes) -> bytes:
    """The image with no EXIF or XMP (a phone's GPS position, its owner's name, the time it
    was taken: nothing a public screen or the signed site should carry), its pixels turned
    upright by the Orientation it drops, in its own format. An image that carries none is
    returned as it is, byte for byte. ImageError when it cannot be decoded."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise ImageError(f"{img.width}x{img.height} is over 50 megapixels")
            if img.format not in FORMATS or not _carries_metadata(img):
                return data
            fmt, turn = img.format, orientation(img)
            alpha = fmt != "JPEG" and img.has_transparency_data
            pixels = img.convert("RGBA" if alpha else "RGB")
    except ImageError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageError(f"cannot be decoded as an image ({exc})") from None
    if turn in UPRIGHT:
        pixels = pixels.transpose(UPRIGHT[turn])
    pixels.info = {}  # convert() copies the source's info; some encoders write it back
    out = io.BytesIO()
    pixels.save(out, fmt, **({} if fmt == "PNG" else {"quality": 95}))
    return out.getvalue()


def prescale(path: Path, screen: tuple[int, int], media_type: str) -> tuple[bytes, str]:
    """A copy no larger than needed to cover the screen (never enlarged), as (bytes, ext):
    JPEG for photos, PNG for the rest (posters with lettering keep sharp edges)."""
    img = decode(path, screen, "cover", media_type)
    scale = min(1.0, max(screen[0] / img.width, screen[1] / img.height))
    if scale < 1.0:
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        img = img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    out = io.BytesIO()
    if media_type == "image/jpeg":
        img.save(out, "JPEG", quality=90)
        return out.getvalue(), "jpg"
    img.save(out, "PNG", compress_level=3)
    return out.getvalue(), "png"


def load_fitted(path: Path, box: tuple[int, int], fit: str) -> pygame.Surface:
    """The image scaled for the box (contain or cover); for cover, cropped to the box."""
    rgb = decode(path, box, fit)
    size = fitted_size(rgb.size, box, fit)
    rgb = rgb.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if fit == "cover":
        left, top = (size[0] - box[0]) // 2, (size[1] - box[1]) // 2
        rgb = rgb.crop((left, top, left + box[0], top + box[1]))
    return pygame.image.frombytes(rgb.tobytes(), rgb.size, "RGB")
