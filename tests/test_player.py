"""The player loop on a real (headless) pygame display, with clocks the test moves."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pygame
import pytest
from PIL import Image

from kiosk.board.content import Content, ContentBox
from kiosk.board.display import PygameDisplay
from kiosk.board.frameloop import run_frames
from kiosk.board.player import Player
from kiosk.core.authoring import FileAssets
from kiosk.core.model import parse_item
from kiosk.core.schedule import ChannelContent, screen_wanted
from kiosk.core.timeutil import parse_window
from kiosk.render.screen import Orientation
from kiosk.render.theme import EMERGENCY, NORMAL

VN = ZoneInfo("Asia/Ho_Chi_Minh")
SIZE = (640, 360)


class RecordingDisplay(PygameDisplay):
    """The real headless display, noting what each present() showed."""

    def __init__(self) -> None:
        super().__init__(SIZE, headless=True)
        self.presented: list[list[pygame.Rect] | None] = []

    def present(self, rects=None):
        self.presented.append(None if rects is None else [pygame.Rect(r) for r in rects])
        super().present(rects)


class Clocks:
    def __init__(self) -> None:
        self.now = datetime(2024, 4, 15, 9, 0, 0, tzinfo=VN)  # a Monday
        self.mono = 1000.0

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.mono += seconds


def text(ident: str, **fields):
    return parse_item({"id": ident, "type": "text", "title": ident.upper(), **fields})


def ticker(ident: str, **fields):
    return parse_item({"id": ident, "type": "ticker", "text": f"Tin chạy {ident}", **fields})


def content(*items, assets=None) -> Content:
    return Content((ChannelContent("xa", tuple(items)),), assets or FileAssets())


@pytest.fixture()
def rig():
    clocks = Clocks()
    display = RecordingDisplay()
    box = ContentBox(content())

    def make(initial: Content, rotation: int = 0, crossfade: float = 0.0) -> Player:
        box.publish(initial)
        return Player(
            box,
            display,
            Orientation(SIZE, rotation),
            VN,
            "UBND xã Tân Trào",
            clock=lambda: clocks.now,
            monotonic=lambda: clocks.mono,
            crossfade_s=crossfade,
        )

    yield make, clocks, display, box
    display.close()


def test_slides_rotate_by_duration(rig):
    make, clocks, _, _ = rig
    player = make(content(text("a", duration=5), text("b", duration=7)))
    player.step()
    assert player.state.current == ("xa", "a")
    clocks.advance(4.9)
    player.step()
    assert player.state.current == ("xa", "a")
    clocks.advance(0.1)
    player.step()
    assert player.state.current == ("xa", "b")
    clocks.advance(7)
    player.step()
    assert player.state.current == ("xa", "a")


def test_a_static_slide_draws_nothing_more_and_sleeps(rig):
    make, clocks, display, _ = rig
    player = make(content(text("a", duration=60)))
    player.step()
    display.presented.clear()
    for _ in range(20):
        pause = player.step()
        assert pause >= 0.25 - 1e-9  # only the event pump wakes it
        clocks.advance(pause)
    assert display.presented == []  # nothing redrawn while nothing changed


def test_only_the_ticker_band_is_redrawn_while_it_scrolls(rig):
    make, clocks, display, _ = rig
    player = make(content(text("a", duration=60), ticker("k")), rotation=90)
    player.step()
    band = player.orientation.map_rect(player._regions.ticker)
    display.presented.clear()
    for _ in range(15):
        pause = player.step()
        assert pause <= 1 / 30 + 1e-9
        clocks.advance(pause)
    assert display.presented and all(rects == [band] for rects in display.presented)


def test_the_header_clock_is_redrawn_each_minute(rig):
    make, clocks, display, _ = rig
    clocks.now = clocks.now.replace(second=50)
    player = make(content(text("a", duration=600)))
    player.step()
    display.presented.clear()
    pause = player.step()
    assert pause == pytest.approx(10, abs=0.01) or pause == pytest.approx(0.25)
    clocks.advance(10)
    player.step()
    header = player.orientation.map_rect(player._regions.header)
    assert display.presented == [[header]]


def test_emergency_takes_the_screen_within_a_second_from_another_thread():
    """Real clocks and a real thread: the sync side publishes, the screen follows."""
    display = RecordingDisplay()
    box = ContentBox(content(text("a", duration=60), ticker("k")))
    player = Player(box, display, Orientation(SIZE, 0), VN, "UBND", clock=lambda: datetime.now(VN))
    stop = threading.Event()
    thread = threading.Thread(target=run_frames, args=(player, stop.is_set), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while player.state.current != ("xa", "a") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert player.state.current == ("xa", "a")
        flood = text("lu", priority="emergency", body="Nước lên nhanh, sơ tán ngay.")
        published = time.monotonic()
        box.publish(content(text("a", duration=60), ticker("k"), flood))
        while player.state.current != ("xa", "lu") and time.monotonic() - published < 5:
            time.sleep(0.005)
        took = time.monotonic() - published
        assert player.state.current == ("xa", "lu")
        assert took < 1.0, f"the emergency took {took:.2f} s"
        time.sleep(0.7)  # let the crossfade end
        screen = display.surface
        red = pygame.mask.from_threshold(screen, EMERGENCY.background, (2, 2, 2, 255)).count()
        assert red > 0.4 * SIZE[0] * SIZE[1]
        assert player.state.emergency
    finally:
        stop.set()
        box.publish(box.current()[0])
        thread.join(timeout=5)
        display.close()
    assert not thread.is_alive()


def test_emergency_by_schedule_and_its_release(rig):
    make, clocks, _, _ = rig
    start = clocks.now + timedelta(seconds=30)
    flood = text(
        "lu",
        priority="emergency",
        valid_from=start.isoformat(),
        valid_until=(start + timedelta(seconds=60)).isoformat(),
    )
    player = make(content(text("a", duration=600), flood))
    player.step()
    assert player.state.current == ("xa", "a")
    pause = player.step()
    assert pause <= 30
    clocks.advance(30)
    player.step()
    assert player.state.current == ("xa", "lu") and player.state.emergency
    assert player.frame.get_at((SIZE[0] // 2, SIZE[1] // 2))[:3] == EMERGENCY.background
    clocks.advance(60)
    player.step()
    assert player.state.current == ("xa", "a") and not player.state.emergency


def test_an_image_that_cannot_be_shown_is_skipped_and_reported(rig, tmp_path: Path):
    make, clocks, _, _ = rig
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff not a jpeg at all")
    good = tmp_path / "good.png"
    Image.new("RGB", (64, 64), (0, 200, 0)).save(good)
    assets = FileAssets({"b" * 64: bad, "c" * 64: good})

    def image(ident, sha):
        asset = {"sha256": sha, "size": 10, "media_type": "image/png"}
        return parse_item({"id": ident, "type": "image", "asset": asset, "duration": 5})

    player = make(
        content(
            text("a", duration=5),
            image("hong", "b" * 64),
            image("tot", "c" * 64),
            image("thieu", "d" * 64),
            assets=assets,
        )
    )
    player.step()
    assert player.state.current == ("xa", "a")
    clocks.advance(5)
    player.step()
    assert player.state.current == ("xa", "tot")  # the broken one was skipped
    clocks.advance(5)
    player.step()
    assert player.state.current == ("xa", "a")  # and the missing one too
    assert set(player.state.problems) == {("xa", "hong"), ("xa", "thieu")}
    assert all(p.startswith("asset_invalid") for p in player.state.problems.values())


def test_nothing_active_shows_the_idle_slide(rig):
    make, _clocks, _, box = rig
    player = make(content(text("a", hours=["18:00-20:00"])))
    player.step()
    assert player.state.current is None
    slide = player._regions.slide
    clock_ink = pygame.mask.from_threshold(
        player.frame.subsurface(slide), NORMAL.title, (30, 30, 30, 255)
    ).count()
    assert clock_ink > 1000  # the big clock
    box.publish(content())  # and with no content at all
    player.step()
    assert player.state.current is None and player.state.frames >= 1


def test_long_text_pages_turn_then_the_next_item(rig):
    make, clocks, _, _ = rig
    long_body = "\n\n".join(["Thông báo về lịch tiếp công dân của xã. " * 8] * 6)
    player = make(content(text("dai", body=long_body, duration=5), text("b", duration=5)))
    player.step()
    pages = player._painter.slides.pages(player._entry.item, player._regions.slide)
    assert pages > 1
    seen = []
    for _ in range(pages + 1):
        seen.append((player.state.current[1], player._page))
        clocks.advance(5)
        player.step()
    assert seen == [("dai", n) for n in range(pages)] + [("b", 0)]


def test_new_content_replaces_the_rotation_atomically(rig):
    make, _clocks, _, box = rig
    player = make(content(text("a", duration=30), text("b", duration=30)))
    player.step()
    box.publish(content(text("c", duration=30)))
    player.step()
    assert player.state.current == ("xa", "c")  # a is gone: switched at once
    box.publish(content(text("c", duration=30, body="sửa nội dung"), text("d")))
    player.step()
    assert player.state.current == ("xa", "c")
    assert player._entry.item.body == "sửa nội dung"  # an edited item is redrawn at once


def test_crossfade_blends_old_into_new(rig):
    make, clocks, display, _ = rig
    player = make(content(text("a", duration=5), text("b", duration=5)), crossfade=0.2)
    player.step()
    display.presented.clear()
    clocks.advance(5)
    player.step()
    assert len(display.presented) >= 3  # several blended frames, then the final one
    assert player.state.transition_ms


def test_the_ticker_keeps_scrolling_when_other_content_changes(rig):
    make, clocks, _, box = rig
    player = make(content(text("a", duration=60), ticker("k")))
    player.step()
    clocks.advance(2)
    player.step()
    before = player._ticker.scrolled(clocks.mono)
    box.publish(content(text("b", duration=60), ticker("k")))  # a new slide, the same ticker
    player.step()
    assert player.state.current == ("xa", "b")
    assert player._ticker.scrolled(clocks.mono) == pytest.approx(
        before
    )  # no jump back to the start
    box.publish(content(text("b", duration=60), ticker("moi")))
    player.step()
    assert player._ticker.scrolled(clocks.mono) == 0  # a new ticker enters from the right


def test_outside_its_hours_the_screen_goes_black_and_an_emergency_turns_it_on(rig):
    make, clocks, display, box = rig
    hours = (parse_window("06:00-22:00"),)
    player = make(content(text("a")))
    player.screen_on = lambda local, emergency: screen_wanted(hours, local, emergency)
    clocks.now = clocks.now.replace(hour=23)
    player.step()
    assert player.state.display_state == "off_scheduled" and player.state.current is None
    assert pygame.transform.average_color(display.surface)[:3] == (0, 0, 0)
    display.presented.clear()
    for _ in range(10):
        clocks.advance(player.step())
    assert display.presented == []  # dark and idle
    box.publish(content(text("a"), text("flood", priority="emergency")))
    player.step()
    assert player.state.display_state == "on" and player.state.current == ("xa", "flood")
    box.publish(content(text("a")))  # the emergency ends at night: dark again
    player.step()
    assert player.state.display_state == "off_scheduled"
    clocks.now = clocks.now.replace(hour=6, minute=0) + timedelta(days=1)
    player.step()
    assert player.state.display_state == "on" and player.state.current == ("xa", "a")


def _shown(display) -> bytes:
    return pygame.image.tobytes(display.surface, "RGB")


def test_the_service_overlay_shows_for_30_seconds_over_the_slide(rig):
    make, clocks, display, _ = rig
    player = make(content(text("a", duration=10), text("b", duration=10)))
    player.overlay.text = lambda: ("Thông tin kỹ thuật", ["Mã thiết bị: 08-02263-01"], "http://x/")
    player.step()
    slide = _shown(display)
    player.request_overlay()
    player.step()
    assert _shown(display) != slide
    for _ in range(20):  # 29 s: the overlay stays, the rotation waits under it
        clocks.advance(29 / 20)
        player.step()
    assert _shown(display) != slide and player.state.current == ("xa", "a")
    clocks.advance(1.5)
    player.step()
    assert player.state.current == ("xa", "b")  # back to the rotation
    assert _shown(display) == pygame.image.tobytes(player.frame, "RGB")


def test_an_emergency_cancels_the_overlay(rig):
    make, _, display, box = rig
    player = make(content(text("a")))
    player.overlay.text = lambda: ("Thông tin kỹ thuật", ["x"], "http://x/")
    player.step()
    player.request_overlay()
    player.step()
    box.publish(content(text("a"), text("flood", priority="emergency")))
    player.step()
    assert player.state.current == ("xa", "flood")
    assert _shown(display) == pygame.image.tobytes(player.frame, "RGB")
