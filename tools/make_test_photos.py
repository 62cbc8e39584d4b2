"""Makes the photos of tests/data/photos/ the way phones store them (no downloads, nobody's
copyright): one upright scene saved under each EXIF Orientation, a portrait photo with a
GPS position and an XMP packet, and a photo cut off in the copy. Run it to remake them:

.venv/bin/python tools/make_test_photos.py
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "photos"
T = Image.Transpose
# How a camera stores an upright scene for each EXIF Orientation (TIFF 6.0: which corner of
# the scene row 0, column 0 holds): 6 is a phone held upright (the viewer turns it 90°
# clockwise), 8 the other way, 3 upside down, 2, 4, 5 and 7 their mirror images.
STORED = {1: None, 2: T.FLIP_LEFT_RIGHT, 3: T.ROTATE_180, 4: T.FLIP_TOP_BOTTOM,
          5: T.TRANSPOSE, 6: T.ROTATE_90, 7: T.TRANSVERSE, 8: T.ROTATE_270}  # fmt: skip


def upright() -> Image.Image:
    """A portrait scene no turn or mirror leaves the same: four colours, a bright corner."""
    img = Image.new("RGB", (300, 400), (200, 30, 30))
    img.paste((30, 160, 40), (150, 0, 300, 200))
    img.paste((30, 60, 200), (0, 200, 150, 400))
    img.paste((240, 220, 40), (150, 200, 300, 400))
    img.paste((255, 255, 255), (0, 0, 60, 60))
    return img


def stored(orientation: int, fmt: str = "JPEG", gps: bool = False) -> bytes:
    turn = STORED[orientation]
    pixels = upright().transpose(turn) if turn is not None else upright()
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Phone maker"  # Make, as every phone writes it
    extra = {}
    if gps:  # where the officer stood, and who they are
        exif[0x8825] = {1: "N", 2: (21.0, 49.0, 12.0), 3: "E", 4: (105.0, 12.0, 30.0)}
        extra["xmp"] = b"<x:xmpmeta>Nguyen Van A</x:xmpmeta>"
    out = io.BytesIO()
    quality = {} if fmt == "PNG" else {"quality": 95}
    pixels.save(out, fmt, exif=exif.tobytes(), **quality, **extra)
    return out.getvalue()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for n in STORED:
        (OUT / f"orientation-{n}.jpg").write_bytes(stored(n))
    (OUT / "orientation-6.png").write_bytes(stored(6, "PNG"))
    (OUT / "orientation-6.webp").write_bytes(stored(6, "WEBP"))
    (OUT / "phone-with-gps.jpg").write_bytes(stored(6, gps=True))
    whole = io.BytesIO()
    Image.radial_gradient("L").resize((1200, 1600)).convert("RGB").save(whole, "JPEG", quality=92)
    (OUT / "cut-off.jpg").write_bytes(whole.getvalue()[: len(whole.getvalue()) * 6 // 10])
    print(f"wrote {len(list(OUT.glob('*.*')))} files to {OUT}")


if __name__ == "__main__":
    main()
