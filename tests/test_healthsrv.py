"""The health endpoints of a running kiosk (SPEC 3.2), fetched over HTTP on 127.0.0.1."""

from __future__ import annotations

import contextlib
import html
import io
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from kiosk.board.clock import SourceClock
from kiosk.board.player import PlayerState
from kiosk.board.reporter import Reporter
from kiosk.board.sysinfo import SystemFigures
from kiosk.core.config import parse_config
from tests.conftest import MINIMAL_CONFIG, require_tool
from tests.countingsource import free_port
from tests.province import text, ticker
from tests.test_cli import argv
from tests.test_publish_cli import board_config

SPEC_KEYS = {
    "status",
    "problems",
    "device",
    "version",
    "time",
    "uptime_s",
    "display",
    "sync",
    "content",
    "system",
    "heartbeat",
}


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def publish_both(province) -> None:
    province.publish("tinh-08", [text("a", title="Thông báo"), ticker("t")])
    province.publish("xa-02263", [text("b")])


def live_config(tmp_path: Path, province, *edits: tuple[str, str]) -> tuple[Path, int]:
    """A kiosk.toml for the province's source, its health on a free loopback port."""
    port = free_port()
    config = board_config(tmp_path, province.url, province.public_key)
    toml = config.read_text("utf-8")
    for old, new in (('"0.0.0.0:8080"', f'"127.0.0.1:{port}"'), *edits):
        toml = toml.replace(old, new)
    config.write_text(toml, "utf-8")
    return config, port


@contextlib.contextmanager
def kiosk_process(
    tmp_path: Path, province, *edits: tuple[str, str]
) -> Iterator[tuple[str, subprocess.Popen]]:
    """`kiosk run --headless` against the province's source: its health address, and the
    process (to watch its memory)."""
    config, port = live_config(tmp_path, province, *edits)
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    proc = subprocess.Popen(
        argv("run", "--headless", "--config", str(config)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0 and "Traceback" not in err, err


@contextlib.contextmanager
def kiosk_running(tmp_path: Path, province, *edits: tuple[str, str]) -> Iterator[str]:
    """`kiosk run --headless` against the province's source; yields its health address."""
    with kiosk_process(tmp_path, province, *edits) as (url, _proc):
        yield url


@pytest.fixture
def running(tmp_path, province):
    """Starts a kiosk (after publishing both channels, unless told not to)."""
    with contextlib.ExitStack() as stack:

        def start(channels_published: bool = True) -> str:
            if channels_published:
                publish_both(province)
            return stack.enter_context(kiosk_running(tmp_path, province))

        yield start


def wait_for(url: str, check, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    doc: dict = {}
    while time.monotonic() < deadline:
        try:
            status, body = fetch(url + "/health")
            doc = json.loads(body)
            if check(status, doc):
                return doc
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"health never matched: {doc}")


def test_a_synced_board_is_ok_and_says_what_it_shows(running):
    url = running()
    doc = wait_for(  # each channel is handed to the screen as soon as it is in: wait for both
        url,
        lambda s, d: (
            s == 200
            and d["status"] == "ok"
            and d["display"]["current_item"]
            and d["content"]["items_active"] == 3
            # the content is handed to the screen before the sync ends and reports: a busy
            # machine can answer in between
            and set(d["sync"]["channels"]) == {"tinh-08", "xa-02263"}
        ),
    )
    assert doc.keys() >= SPEC_KEYS
    assert doc["problems"] == []
    assert doc["device"]["id"] == "08-02263-01" and doc["device"]["unit_name"] == "UBND xã Tân Trào"
    assert doc["display"]["current_item"] in (  # with the bulletin's title, for people
        {"channel": "tinh-08", "id": "a", "title": "Thông báo"},
        {"channel": "xa-02263", "id": "b", "title": "Thông báo"},
    )
    assert doc["display"]["state"] == "on" and doc["display"]["width"] == 640
    assert doc["sync"]["channels"]["tinh-08"]["sequence"] == 1
    assert doc["sync"]["consecutive_failures"] == 0 and doc["sync"]["last_success_at"]
    assert doc["content"] == {"items_active": 3, "emergency_active": False}
    assert doc["system"]["load_1m"] is not None
    datetime.fromisoformat(doc["time"])
    datetime.fromisoformat(doc["display"]["last_frame_at"])

    status, body = fetch(url + "/metrics")
    assert status == 200
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    assert all(name.startswith("kiosk") for name in families)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in families.values()
        for s in f.samples
    }
    assert samples[("kiosk_status", (("status", "ok"),))] == 1
    assert samples[("kiosk_items_active", ())] == 3
    assert samples[("kiosk_channel_sequence", (("channel", "tinh-08"),))] == 1
    assert fetch(url + "/nothing")[0] == 404


def test_a_board_with_nothing_to_show_is_failing_with_503(running):
    url = running(channels_published=False)
    doc = wait_for(url, lambda s, d: s == 503)
    assert doc["status"] == "failing"
    assert "no_content" in [p["code"] for p in doc["problems"]]
    since = datetime.fromisoformat(doc["problems"][0]["since"])
    assert since <= datetime.now(UTC)


def reporter_with(state: PlayerState, mono: float) -> Reporter:
    config = parse_config(MINIMAL_CONFIG)
    blind = SystemFigures(None, None, None, None, None)
    return Reporter(
        config,
        SourceClock(),
        state,
        (1920, 1080),
        None,
        monotonic=lambda: mono,
        figures=lambda: blind,
    )


def test_a_stalled_display_loop_is_failing():
    state = PlayerState(current=("tinh-08", "a"), items_active=2, last_tick=100.0, frames=40)
    doc = reporter_with(state, 100.5).document()
    assert doc["status"] == "ok"
    doc = reporter_with(state, 130.0).document()
    assert doc["status"] == "failing" and doc["problems"][0]["code"] == "display_stalled"
    assert doc["system"] == {
        "cpu_temp_c": None,
        "load_1m": None,
        "mem_available_mb": None,
        "disk_free_mb": None,
        "clock_skew_s": None,
    }


def test_an_emergency_is_reported():
    state = PlayerState(
        current=("tinh-08", "lu"), items_active=1, emergency=True, last_tick=1, frames=1
    )
    doc = reporter_with(state, 1.0).document()
    assert doc["content"]["emergency_active"] is True and doc["status"] == "ok"


def test_the_status_page_in_headless_chromium_shows_what_a_technician_needs(running, tmp_path):
    chromium = require_tool("chromium", "chromium")
    url = running()
    wait_for(url, lambda s, d: d["status"] == "ok" and d["display"]["current_item"])
    dom = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--dump-dom",
            f"--user-data-dir={tmp_path / 'chromium'}",
            url + "/",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    page = html.unescape(dom)
    assert '<h1 id="name">Bảng tin UBND xã Tân Trào</h1>' in page
    assert "Trạng thái: Bình thường" in page
    assert re.search(
        r'<span id="current">Thông báo <small>\((tinh-08 / a|xa-02263 / b)\)</small></span>', page
    ), page
    assert re.search(r"\d\d:\d\d ngày \d+/\d+/20\d\d \((vừa xong|\d+ phút trước)\)", page)
    assert re.search(r'<img id="screen"[^>]*data-loaded="640"', page), page  # the picture came


def test_the_screenshot_is_upright_as_a_passer_by_sees_it(tmp_path, province):
    publish_both(province)
    with kiosk_running(tmp_path, province, ("rotation = 0", "rotation = 90")) as url:
        wait_for(url, lambda s, d: d["display"]["current_item"] is not None)
        status, png = fetch(url + "/screenshot.png")
    assert status == 200
    picture = Image.open(io.BytesIO(png))
    assert picture.size == (360, 640)  # the panel is 640x360, hung in portrait


def test_the_status_page_escapes_what_the_content_says():
    from kiosk.board.statuspage import render

    doc = reporter_with(
        PlayerState(current=("tinh-08", "a"), items_active=1, frames=1), 0
    ).document()
    doc["problems"] = [
        {"code": "item_invalid", "message": "<script>alert(1)</script>", "since": None}
    ]
    page = render(doc, ZoneInfo("Asia/Ho_Chi_Minh"))
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Một bản tin không hợp lệ" in page


def test_an_open_door_is_reported():
    reporter = reporter_with(PlayerState(current=("tinh-08", "a"), items_active=1, frames=1), 0)
    reporter.door_open = lambda: True
    doc = reporter.document()
    assert doc["status"] == "degraded" and [p["code"] for p in doc["problems"]] == ["door_open"]


def test_a_screen_off_on_schedule_is_reported_and_is_no_fault():
    state = PlayerState(items_active=0, frames=3, last_tick=5.0, display_state="off_scheduled")
    doc = reporter_with(state, 5.0).document()
    assert doc["display"]["state"] == "off_scheduled" and doc["display"]["current_item"] is None
    assert doc["status"] == "ok" and doc["problems"] == []


def test_a_dead_source_degrades_a_board_that_keeps_showing_its_content(tmp_path, province):
    publish_both(province)
    with kiosk_running(tmp_path, province, ("poll_seconds = 300", "poll_seconds = 5")) as url:
        wait_for(url, lambda s, d: d["status"] == "ok" and d["sync"]["last_success_at"])
        province.server.stop()  # the source goes away
        doc = wait_for(url, lambda s, d: d["status"] != "ok", timeout=40)
    assert doc["status"] == "degraded"
    # one entry a channel, each naming it and why
    assert [(p["code"], p["message"].split(":")[0]) for p in doc["problems"]] == [
        ("sync_failing", "tinh-08"), ("sync_failing", "xa-02263")]  # fmt: skip
    assert all("connection failed" in p["message"] for p in doc["problems"])
    assert doc["display"]["current_item"] is not None  # still showing its cached content
    assert doc["sync"]["consecutive_failures"] >= 1


def test_the_status_page_names_every_problem_code_in_vietnamese():
    from kiosk.core.health import PROBLEM_CODES
    from kiosk.core.vietnamese import PROBLEM_VI

    assert set(PROBLEM_VI) == set(PROBLEM_CODES)


def test_screenshots_keep_nothing_of_earlier_requests():
    """Found by the soak: pygame.image.save kept each BytesIO it wrote a PNG into, so a
    monitor fetching /screenshot.png every minute grew the kiosk by megabytes a day."""
    import gc
    import threading

    import pygame

    from kiosk.board.screenshot import Screenshots

    frame = pygame.Surface((320, 180))
    frame.fill((10, 35, 66))
    ticks = iter(range(0, 10**9, 10))  # each request 10 s after the last: never the cache
    shots = Screenshots(lambda: frame, monotonic=lambda: next(ticks))
    stop = threading.Event()

    def player_turns() -> None:
        while not stop.is_set():
            shots(PlayerState())
            time.sleep(0.002)

    turns = threading.Thread(target=player_turns)
    turns.start()
    try:
        shots.png()
        gc.collect()
        before = sum(isinstance(o, io.BytesIO) for o in gc.get_objects())
        pngs = [shots.png() for _ in range(30)]
        gc.collect()
        after = sum(isinstance(o, io.BytesIO) for o in gc.get_objects())
    finally:
        stop.set()
        turns.join()
    assert all(png is not None for png in pngs)
    picture = Image.open(io.BytesIO(pngs[-1]))
    assert picture.size == (320, 180) and picture.getpixel((5, 5))[:3] == (10, 35, 66)
    assert after - before <= 1, f"{after - before} BytesIO objects left behind by 30 screenshots"


def test_the_status_page_names_the_bulletin_and_gives_times_in_the_boards_time():
    from kiosk.board.statuspage import render

    state = PlayerState(current=("tinh-08", "a"), items_active=1, frames=1)
    state.current_label = (("tinh-08", "a"), "Bão số 3 đổ bộ")
    doc = reporter_with(state, 0).document()
    assert doc["display"]["current_item"]["title"] == "Bão số 3 đổ bộ"
    doc["time"] = "2024-04-16T01:33:20+00:00"
    doc["sync"]["last_success_at"] = "2024-04-16T01:30:00+00:00"
    page = render(doc, ZoneInfo("Asia/Ho_Chi_Minh"))
    assert "Bão số 3 đổ bộ" in page and "tinh-08 / a" in page
    assert "08:30 ngày 16/4/2024 (3 phút trước)" in page
    assert "08:33 ngày 16/4/2024" in page
