"""Decoding an image item's file into a surface of the slide's size, safely.

Pillow decodes (JPEG, PNG, WebP) with a pixel limit against decompression bombs, and
scales once, so the player only ever blits a surface of the screen's size.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pygame
from PIL import Image

MAX_PIXELS = 50_000_000  # SPEC 1.5


class ImageError(Exception):
    """An image that cannot be shown: reported as asset_invalid, the item skipped."""

    code = "asset_invalid"


def fitted_size(image: tuple[int, int], box: tuple[int, int], fit: str) -> tuple[int, int]:
    """The image's size scaled to contain it in the box, or to cover the box."""
    iw, ih = image
    bw, bh = box
    scale = min(bw / iw, bh / ih) if fit == "contain" else max(bw / iw, bh / ih)
    return max(1, round(iw * scale)), max(1, round(ih * scale))


def load_fitted(path: Path, box: tuple[int, int], fit: str) -> pygame.Surface:
    """The image scaled for the box (contain or cover); for cover, cropped to the box."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                if img.width * img.height > MAX_PIXELS:
                    raise ImageError(f"{path.name}: {img.width}x{img.height} is over 50 megapixels")
                if img.format not in ("JPEG", "PNG", "WEBP"):
                    raise ImageError(f"{path.name}: {img.format} is not JPEG, PNG or WebP")
                img.draft("RGB", fitted_size(img.size, box, fit))  # JPEG: decode smaller
                rgb = img.convert("RGB")
    except ImageError:
        raise
    except (
        OSError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        SyntaxError,
    ) as exc:
        raise ImageError(f"{path.name}: cannot be decoded as an image ({exc})") from None
    size = fitted_size(rgb.size, box, fit)
    rgb = rgb.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if fit == "cover":
        left, top = (size[0] - box[0]) // 2, (size[1] - box[1]) // 2
        rgb = rgb.crop((left, top, left + box[0], top + box[1]))
    return pygame.image.frombytes(rgb.tobytes(), rgb.size, "RGB")
