"""What the renderer puts on screen, checked on real pygame surfaces, pixel by pixel."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pygame
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from kiosk.core.authoring import FileAssets
from kiosk.core.model import parse_item
from kiosk.render.painter import FramePainter, View
from kiosk.render.theme import EMERGENCY, NORMAL, PRIORITY, THEMES, contrast

SIZES = [(1920, 1080), (1080, 1920), (1280, 720), (3840, 2160), (800, 480)]
AT = datetime(2024, 4, 16, 8, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
VIET = "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
STACKED = "ẤẦẨẪẬẮẰẲẴẶẾỀỂỄỆỐỒỔỖỘỚỜỞỠỢỨỪỬỮỰ"


def text_item(title: str = "", body: str = "", **fields):
    return parse_item({"id": "t", "type": "text", "title": title, "body": body, **fields})


def count(surface: pygame.Surface, colour, rect: pygame.Rect | None = None, tol: int = 1) -> int:
    """Pixels of a colour (within tol on each channel), optionally only inside rect."""
    if rect is not None:
        surface = surface.subsurface(rect)
    mask = pygame.mask.from_threshold(surface, colour, (tol, tol, tol, 255))
    return mask.count()


def ink_outside(surface: pygame.Surface, area: pygame.Rect, box: pygame.Rect, bg) -> int:
    """Pixels of the slide area, outside the text box, that are not background."""
    copy = surface.copy()
    copy.fill(bg, box)
    return area.width * area.height - count(copy, bg, area, tol=1)  # tol 1: exact colour


def draw_text(painter: FramePainter, item, page: int = 0, theme=NORMAL):
    surface = pygame.Surface(painter.logical)
    regions = painter.regions(theme, with_ticker=True)
    painter.slides.draw(surface, regions.slide, item, page, theme)
    return surface, regions


LONG_BODY = "\n\n".join(
    "Ủy ban nhân dân xã thông báo lịch tiếp công dân và các thủ tục hành chính cần thiết "
    "cho người dân trên địa bàn, đề nghị các thôn phổ biến rộng rãi. " * 3
    for _ in range(6)
)
CASES = {
    "short": text_item("Thông báo", "Họp dân lúc 8 giờ."),
    "title only": text_item("Cảnh báo lũ quét"),
    "body only": text_item("", "Mỗi huyện có ít nhất 01 phường thiết lập bảng tin."),
    "stacked capitals": text_item(STACKED, STACKED.lower() + "\n" + STACKED),
    "long, paginated": text_item("Kế hoạch số 117/KH-UBND", LONG_BODY[:4990]),
    "paginated, stacked capitals on top": text_item("ỐC ẤP ỬNG ỄNH", STACKED + " " + LONG_BODY),
    "one very long word": text_item("X" * 200, "https://" + "a" * 300),
    "hard lines": text_item("Lịch", "\n".join(f"Thứ {n}: 7:30 - 11:30" for n in range(2, 8))),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("case", list(CASES))
def test_text_never_leaves_its_box(fonts, size, case):
    painter = FramePainter(size, fonts, FileAssets(), "UBND xã Tân Trào")
    item = CASES[case]
    regions = painter.regions(NORMAL, with_ticker=True)
    pages = painter.slides.pages(item, regions.slide)
    box = painter.slides.text_box(regions.slide)
    for page in range(pages):
        surface, _ = draw_text(painter, item, page)
        assert ink_outside(surface, regions.slide, box, NORMAL.background) == 0, (case, page)
        assert count(surface, NORMAL.background, box) < box.width * box.height  # text drawn


def test_long_text_is_paginated_at_the_minimum_size_not_shrunk(fonts):
    painter = FramePainter((1920, 1080), fonts, FileAssets(), "UBND")
    regions = painter.regions(NORMAL, with_ticker=False)
    item = CASES["long, paginated"]
    layout = painter.slides.layout(item, regions.slide)
    assert len(layout.pages) > 1
    assert layout.body_size == painter.sizes.min_text
    shown = " ".join(line.text for page in layout.pages for line in page if line.face != "bold")
    assert shown.split() == item.body.split()  # every word, once, in order


def test_short_text_is_large(fonts):
    painter = FramePainter((1920, 1080), fonts, FileAssets(), "UBND")
    regions = painter.regions(NORMAL, with_ticker=False)
    layout = painter.slides.layout(CASES["short"], regions.slide)
    assert len(layout.pages) == 1 and layout.body_size == painter.sizes.max_text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=st.text(alphabet=VIET + VIET.upper() + " ", max_size=120),
    body=st.text(alphabet=VIET + STACKED + " \n.,0123456789", max_size=900),
    size=st.sampled_from(SIZES),
    decompose=st.booleans(),
)
def test_random_vietnamese_text_stays_in_its_box(fonts, title, body, size, decompose):
    if not title.strip() and not body.strip():
        return
    if decompose:  # authors' text may come decomposed; the model normalises it to NFC
        title, body = unicodedata.normalize("NFD", title), unicodedata.normalize("NFD", body)
    item = text_item(title, body)
    painter = FramePainter(size, fonts, FileAssets(), "UBND")
    regions = painter.regions(NORMAL, with_ticker=False)
    box = painter.slides.text_box(regions.slide)
    for page in range(painter.slides.pages(item, regions.slide)):
        surface = pygame.Surface(size)
        painter.slides.draw(surface, regions.slide, item, page, NORMAL)
        assert ink_outside(surface, regions.slide, box, NORMAL.background) == 0


@pytest.fixture()
def red_wide(tmp_path) -> tuple[Path, str]:
    """A 400x100 pure red PNG, hashed as an asset would be."""
    import hashlib

    path = tmp_path / "red.png"
    Image.new("RGB", (400, 100), (255, 0, 0)).save(path)
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def image_item(sha: str, **fields):
    asset = {"sha256": sha, "size": 100, "media_type": "image/png"}
    return parse_item({"id": "img", "type": "image", "asset": asset, **fields})


def test_image_contain_is_letterboxed_on_its_background(fonts, red_wide):
    path, sha = red_wide
    painter = FramePainter((1920, 1080), fonts, FileAssets({sha: path}), "UBND")
    surface = pygame.Surface((1920, 1080))
    view = View(NORMAL, image_item(sha, background="#00FF00"))
    regions = painter.paint(surface, view, AT)
    area = regions.slide
    assert surface.get_at(area.center)[:3] == (255, 0, 0)
    assert surface.get_at((area.centerx, area.top + 2))[:3] == (0, 255, 0)  # bar above
    assert surface.get_at((area.centerx, area.bottom - 2))[:3] == (0, 255, 0)  # bar below
    red_rows = count(surface, (255, 0, 0), area) / area.width
    assert red_rows == pytest.approx(area.width / 4, abs=2)  # 4:1 image, full width


def test_image_cover_fills_the_slide(fonts, red_wide):
    path, sha = red_wide
    painter = FramePainter((1080, 1920), fonts, FileAssets({sha: path}), "UBND")
    surface = pygame.Surface((1080, 1920))
    regions = painter.paint(surface, View(NORMAL, image_item(sha, fit="cover")), AT)
    assert count(surface, (255, 0, 0), regions.slide) == regions.slide.w * regions.slide.h


def test_image_caption_sits_on_a_dark_band(fonts, red_wide):
    path, sha = red_wide
    painter = FramePainter((1920, 1080), fonts, FileAssets({sha: path}), "UBND")
    surface = pygame.Surface((1920, 1080))
    item = image_item(sha, fit="cover", caption="Lễ hội Thành Tuyên")
    regions = painter.paint(surface, View(NORMAL, item), AT)
    area = regions.slide
    bottom = pygame.Rect(area.x, area.bottom - area.height // 16, area.width, area.height // 16)
    assert count(surface, (255, 0, 0), bottom) == 0  # the band covers the image there
    assert count(surface, (255, 255, 255), bottom, tol=30) > 300  # white caption text
    assert surface.get_at(area.center)[:3] == (255, 0, 0)


def test_missing_or_broken_image_raises_asset_invalid(fonts, tmp_path):
    from kiosk.render.images import ImageError

    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    painter = FramePainter((640, 480), fonts, FileAssets({"b" * 64: broken}), "UBND")
    for sha in ("a" * 64, "b" * 64):
        with pytest.raises(ImageError) as err:
            painter.paint(pygame.Surface((640, 480)), View(NORMAL, image_item(sha)), AT)
        assert err.value.code == "asset_invalid"


def test_ticker_band_scrolls_right_to_left(fonts):
    painter = FramePainter((1920, 1080), fonts, FileAssets(), "UBND")
    strip = painter.ticker_strip(("Ủy ban nhân dân xã Tân Trào thông báo", "Lịch tiếp dân"))
    regions = painter.regions(NORMAL, with_ticker=True)
    band = regions.ticker
    frames = []
    for scrolled in (0, 200, 400):
        surface = pygame.Surface((1920, 1080))
        strip.draw(surface, band, scrolled, NORMAL.ticker_bg, NORMAL.ticker_text)
        ink = pygame.mask.from_threshold(
            surface.subsurface(band), NORMAL.ticker_text, (60, 60, 60, 255)
        )
        frames.append(min((r.x for r in ink.get_bounding_rects()), default=band.width))
    # at 0 the text enters at the right edge; then it moves left by what was scrolled
    assert frames[0] == band.width  # nothing visible yet
    assert frames[1] == pytest.approx(band.width - 200, abs=12)
    assert frames[2] == pytest.approx(band.width - 400, abs=12)
    assert strip.speed > 0 and strip.length > band.width // 2


def test_header_carries_unit_and_vietnamese_date(fonts):
    from kiosk.core.vietnamese import header_text

    assert header_text(AT) == "Thứ Ba, 16/4/2024 · 08:30"
    painter = FramePainter((1920, 1080), fonts, FileAssets(), "UBND xã Tân Trào")
    surface = pygame.Surface((1920, 1080))
    regions = painter.paint(surface, View(NORMAL), AT)
    header = regions.header
    left = pygame.Rect(0, 0, header.width // 3, header.height)
    right = pygame.Rect(header.width * 2 // 3, 0, header.width // 3, header.height)
    assert count(surface, NORMAL.header_text, left, tol=40) > 300
    assert count(surface, NORMAL.header_text, right, tol=40) > 300


@pytest.mark.parametrize("theme", [NORMAL, PRIORITY, EMERGENCY], ids=lambda t: t.name)
def test_theme_colours_are_high_contrast(theme):
    assert contrast(theme.text, theme.background) >= 7
    assert contrast(theme.title, theme.background) >= 7
    assert contrast(theme.header_text, theme.header_bg) >= 7
    assert contrast(theme.ticker_text, theme.ticker_bg) >= 7


def test_the_three_themes_are_told_apart_at_a_glance(fonts):
    """The header colour and the slide's dominant colour differ from theme to theme; the
    emergency screen is mostly red and carries the warning label."""
    item = text_item("Thông báo", "Nội dung")
    shots = {}
    for theme in THEMES.values():
        painter = FramePainter((1920, 1080), fonts, FileAssets(), "UBND")
        surface = pygame.Surface((1920, 1080))
        regions = painter.paint(surface, View(theme, item), AT)
        shots[theme.name] = (surface, regions)
    headers = {name: s.get_at((5, 5))[:3] for name, (s, _) in shots.items()}
    assert len(set(headers.values())) == 3
    emergency, regions = shots["emergency"]
    assert regions.label is not None and shots["normal"][1].label is None
    red = count(emergency, EMERGENCY.background, regions.slide)
    assert red > 0.6 * regions.slide.w * regions.slide.h
    frame = shots["priority"][0].get_at((regions.framed.x + 1, regions.framed.centery))[:3]
    assert frame == PRIORITY.frame


def test_idle_slide_shows_unit_and_clock(fonts):
    painter = FramePainter((1920, 1080), fonts, FileAssets(), "UBND xã Tân Trào")
    surface = pygame.Surface((1920, 1080))
    regions = painter.paint(surface, View(NORMAL), AT)
    assert count(surface, NORMAL.title, regions.slide, tol=30) > 5000  # the large clock
    assert count(surface, NORMAL.text, regions.slide, tol=30) > 2000  # name and date
