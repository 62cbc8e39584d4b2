"""Phone photos (issue 24, 1): every phone stores the pixels as the sensor read them and
writes the way it was held into EXIF Orientation. The board, `kiosk render` and the
console's preview must show the photo upright. tests/data/photos holds one upright scene
stored the way a camera stores it under each of the eight orientations; each is rendered by
the real `kiosk render`, and each rendered slide must match the upright original's, pixel
for pixel within JPEG's noise."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from tests.test_cli import kiosk

PHOTOS = Path(__file__).parent / "data" / "photos"  # made by tools/make_test_photos.py


def photo(name: str) -> bytes:
    return (PHOTOS / name).read_bytes()


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
    return rendered(tmp_path_factory.mktemp("upright"), "ref", photo("orientation-1.jpg"))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_phone_photo_is_shown_upright_whatever_its_exif_orientation(
    tmp_path, reference, orientation
):
    data = photo(f"orientation-{orientation}.jpg")
    assert Image.open(io.BytesIO(data)).getexif()[0x0112] == orientation
    shown = rendered(tmp_path, f"o{orientation}", data)
    assert difference(shown, reference) < 2.0, orientation
    if orientation != 1:  # the test can tell: the stored pixels, unturned, look different
        raw = Image.open(io.BytesIO(data)).convert("RGB")
        plain = io.BytesIO()
        raw.save(plain, "PNG")  # the same pixels with no EXIF
        wrong = rendered(tmp_path, "wrong", plain.getvalue())
        assert difference(wrong, reference) > 10.0, orientation


@pytest.mark.parametrize("name", ["orientation-6.png", "orientation-6.webp"])
def test_png_exif_and_webp_photos_turn_too(tmp_path, reference, name):
    shown = rendered(tmp_path, name, photo(name))
    assert difference(shown, reference) < 2.0


def phone_photo() -> bytes:
    """A portrait photo as a phone stores it: on its side (Orientation 6), with the phone's
    GPS position and its make, and an XMP packet naming its owner."""
    return photo("phone-with-gps.jpg")


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
