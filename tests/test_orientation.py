"""Phone photos (issue 24, 1): every phone stores the pixels as the sensor read them and
writes the way it was held into EXIF Orientation. The board, `kiosk render` and the
console's preview must show the photo upright. Each of the eight orientations is made here
from one upright picture, the way a camera stores it, and rendered by the real `kiosk
render`; each rendered slide must match the upright original's, pixel for pixel within
JPEG's noise."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from tests.test_cli import kiosk

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


def stored(orientation: int, fmt: str = "JPEG") -> bytes:
    scene = upright()
    turn = STORED[orientation]
    pixels = scene.transpose(turn) if turn is not None else scene
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Phone maker"  # Make, as a phone writes it
    out = io.BytesIO()
    pixels.save(out, fmt, exif=exif.tobytes(), **({"quality": 95} if fmt != "PNG" else {}))
    return out.getvalue()


def rendered(tmp_path: Path, name: str, data: bytes) -> Image.Image:
    """The slide `kiosk render` draws for an image item of this file, on a 640x360 panel."""
    ext = {b"\xff\xd8": "jpg", b"\x89P": "png", b"RI": "webp"}[data[:2]]
    folder = tmp_path / name
    folder.mkdir()
    (folder / f"photo.{ext}").write_bytes(data)
    playlist = folder / "p.toml"
    playlist.write_text(
        f'channel = "xa-02263"\n[[items]]\nid = "anh"\ntype = "image"\nfile = "photo.{ext}"\n',
        "utf-8",
    )
    out = folder / "slide.png"
    done = kiosk("render", str(playlist), "--out", str(out), "--size", "640x360",
                 "--at", "2026-06-01T09:00:00+07:00")  # fmt: skip
    assert done.returncode == 0, done.stderr
    return Image.open(out).convert("RGB")


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel, 0 to 255."""
    assert a.size == b.size
    pa, pb = a.tobytes(), b.tobytes()
    return sum(abs(x - y) for x, y in zip(pa, pb, strict=True)) / len(pa)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Image.Image:
    return rendered(tmp_path_factory.mktemp("upright"), "ref", stored(1))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_phone_photo_is_shown_upright_whatever_its_exif_orientation(
    tmp_path, reference, orientation
):
    shown = rendered(tmp_path, f"o{orientation}", stored(orientation))
    assert difference(shown, reference) < 2.0, orientation
    if orientation != 1:  # the test can tell: the stored pixels, unturned, look different
        raw = Image.open(io.BytesIO(stored(orientation))).convert("RGB")
        plain = io.BytesIO()
        raw.save(plain, "PNG")  # the same pixels with no EXIF
        wrong = rendered(tmp_path, "wrong", plain.getvalue())
        assert difference(wrong, reference) > 10.0, orientation


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_exif_and_webp_photos_turn_too(tmp_path, reference, fmt):
    shown = rendered(tmp_path, fmt, stored(6, fmt))
    assert difference(shown, reference) < 2.0


def phone_photo() -> bytes:
    """A portrait photo as a phone stores it: on its side (Orientation 6), with the phone's
    GPS position and its make, and an XMP packet."""
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "Phone maker"
    exif[0x8825] = {1: "N", 2: (21.0, 49.0, 12.0), 3: "E", 4: (105.0, 12.0, 30.0)}
    out = io.BytesIO()
    upright().transpose(T.ROTATE_90).save(
        out, "JPEG", quality=95, exif=exif.tobytes(), xmp=b"<x:xmpmeta>Nguyen Van A</x:xmpmeta>"
    )
    return out.getvalue()


def carries_nothing_of_the_phone(data: bytes) -> None:
    img = Image.open(io.BytesIO(data))
    assert len(img.getexif()) == 0 and "xmp" not in img.info
    assert b"Nguyen Van A" not in data and b"Phone maker" not in data
    assert img.size == (300, 400)  # upright: a portrait picture


def test_kiosk_publish_signs_a_phone_photo_upright_and_without_its_gps(tmp_path, reference):
    from tests.test_publish_cli import keygen, payload

    (tmp_path / "anh.jpg").write_bytes(phone_photo())
    playlist = tmp_path / "xa-02263.toml"
    playlist.write_text(
        'channel = "xa-02263"\n[[items]]\nid = "anh"\ntype = "image"\nfile = "anh.jpg"\n', "utf-8"
    )
    keygen(tmp_path / "k")
    site = tmp_path / "site"
    done = kiosk("publish", str(playlist), "--key", str(tmp_path / "k"), "--out", str(site))
    assert done.returncode == 0, done.stderr
    (item,) = payload(site, "xa-02263")["items"]
    served = (site / "assets" / item["asset"]["sha256"]).read_bytes()
    assert item["asset"]["size"] == len(served)
    carries_nothing_of_the_phone(served)
    assert difference(rendered(tmp_path, "served", served), reference) < 2.0
    assert (tmp_path / "anh.jpg").read_bytes() == phone_photo()  # the author's file untouched
