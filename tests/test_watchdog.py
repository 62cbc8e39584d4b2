"""systemd's watchdog through a fake notify socket: READY=1 after the first frame, pings from
the frame loop, and no pings while the loop hangs."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kiosk.board.content import Content, ContentBox
from kiosk.board.display import PygameDisplay
from kiosk.board.frameloop import run_frames
from kiosk.board.player import Player
from kiosk.board.watchdog import Notifier, Watchdog
from kiosk.core.authoring import FileAssets
from kiosk.render.screen import Orientation
from tests.test_cli import SAMPLES, argv


@pytest.fixture
def notify_socket():
    """A datagram socket standing in for systemd's (a short path: the limit is 108 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="nfy", dir="/tmp"))
    path = folder / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.05)
    yield sock, str(path)
    sock.close()
    path.unlink()
    folder.rmdir()


def receive(sock: socket.socket, seconds: float) -> list[tuple[float, str]]:
    got = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with contextlib.suppress(TimeoutError):
            got.append((time.monotonic(), sock.recv(4096).decode()))
    return got


def receive_first(sock: socket.socket, seconds: float) -> list[tuple[float, str]]:
    """Waits for the first message, so that a slow start is not counted as missing pings."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with contextlib.suppress(TimeoutError):
            return [(time.monotonic(), sock.recv(4096).decode())]
    return []


def test_a_running_kiosk_says_ready_pings_and_reports_status(tmp_path, notify_socket):
    sock, path = notify_socket
    env = {
        **os.environ,
        "SDL_VIDEODRIVER": "dummy",
        "NOTIFY_SOCKET": path,
        "WATCHDOG_USEC": "1000000",
    }
    proc = subprocess.Popen(
        argv("run", "--headless", "--size", "640x360", *SAMPLES),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        messages = [m for _, m in receive(sock, 6)]
    finally:
        proc.terminate()
        proc.wait(20)
    lines = [line for m in messages for line in m.splitlines()]
    assert lines.count("READY=1") == 1
    assert lines.count("WATCHDOG=1") >= 6  # every half WatchdogSec
    status = [line for line in lines if line.startswith("STATUS=")]
    assert status and "showing" in status[0]


class StallingDisplay(PygameDisplay):
    """The real headless display, whose event pump hangs while `stalled` is set."""

    def __init__(self) -> None:
        super().__init__((320, 180), headless=True)
        self.stalled = threading.Event()
        self.released = threading.Event()

    def pump(self) -> bool:
        if self.stalled.is_set():
            self.released.wait(10)
        return super().pump()


def test_a_hung_frame_loop_stops_the_pings(notify_socket):
    sock, path = notify_socket
    display = StallingDisplay()
    box = ContentBox(Content((), FileAssets()))
    player = Player(
        box,
        display,
        Orientation((320, 180), 0),
        ZoneInfo("Asia/Ho_Chi_Minh"),
        "UBND",
        clock=lambda: datetime.now(UTC),
    )
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"}  # a ping every 0.1 s
    watchdog = Watchdog(Notifier(env), lambda: "ok", env=env)
    stop = threading.Event()
    seen: dict[str, list[tuple[float, str]]] = {}

    def systemd_side() -> None:
        seen["first"] = receive_first(sock, 10.0)  # the first frame may be slow under load
        seen["before"] = receive(sock, 2.0)  # an idle loop turns every PUMP_S (0.25 s)
        display.stalled.set()
        receive(sock, 0.3)  # a ping already on its way
        seen["stalled"] = receive(sock, 1.5)
        display.stalled.clear()
        display.released.set()
        seen["after"] = receive(sock, 2.0)
        stop.set()
        box.publish(box.current()[0])

    threading.Thread(target=systemd_side, daemon=True).start()
    run_frames(player, stop.is_set, on_turn=watchdog)
    display.close()

    def pings(key: str) -> int:
        return sum(m.splitlines().count("WATCHDOG=1") for _, m in seen[key])

    assert pings("first") == 1
    assert pings("before") >= 5
    assert pings("stalled") == 0
    assert pings("after") >= 5
