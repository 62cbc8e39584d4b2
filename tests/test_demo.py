"""`kiosk demo` end to end, as a newcomer runs it: publish, serve, sync, verify, show."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from PIL import Image

from kiosk.core.authoring import load_playlist
from kiosk.core.model import ImageItem, TextItem
from kiosk.core.schedule import ChannelContent, rotation_at
from tests.conftest import ROOT
from tests.countingsource import free_port
from tests.test_ocr import normalise, read_back, tesseract_vie


def first_slides_words(at: datetime) -> list[list[str]]:
    """The words of the slide each sample channel's rotation starts with at `at`: the channel
    whose manifest arrives first is on screen first (each is shown as soon as it is in)."""
    out = []
    for c in ("tinh-08", "xa-02263"):
        playlist = load_playlist(ROOT / "playlists" / f"{c}.toml")
        channel = ChannelContent(playlist.channel, playlist.items)
        slides = rotation_at([channel], at, ZoneInfo("Asia/Ho_Chi_Minh")).slides
        item = slides[0].item
        words = item.title if isinstance(item, TextItem) else item.caption
        assert isinstance(item, TextItem | ImageItem) and words
        out.append(normalise(words).split())
    return out


def test_demo_shows_the_published_samples(tmp_path):
    tesseract = tesseract_vie()
    snapshot = tmp_path / "screen.png"
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "XDG_CACHE_HOME": str(tmp_path)}
    args = ["--headless", "--port", str(free_port()), "--snapshot", str(snapshot)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "demo", *args, "--size", "1280x720"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    board = tmp_path / "bangtin-kiosk" / "demo" / "board"
    try:
        deadline = time.monotonic() + 60
        while len(list(board.glob("channels/*.json"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert time.monotonic() < deadline, "the demo board never synced both channels"
        # the first content slide is up within a second of the sync and stays for 10 s or more
        committed = max(p.stat().st_mtime for p in board.glob("channels/*.json"))
        time.sleep(2.5)  # file times against file times: the wall clock may be anything
        shown_at = snapshot.stat().st_mtime  # the frame's time, by the clock the demo uses
        assert shown_at > committed
        picture = Image.open(snapshot).convert("RGB")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Demo: signed tinh-08" in out and "Traceback" not in err
    assert "tinh-08: sequence" in err and "xa-02263: sequence" in err  # accepted by the board
    read = normalise(read_back(tesseract, picture, tmp_path))
    # what was due when the frame was drawn, a moment before it was saved (the samples'
    # emergency has hour windows: a frame at 17:09:59 may be saved at 17:10:00)
    candidates = [
        words
        for moment in (shown_at - 3, shown_at)
        for words in first_slides_words(datetime.fromtimestamp(moment, UTC))
    ]
    best = max(candidates, key=lambda words: sum(w in read for w in words))
    found = [w for w in best if w in read]
    assert len(found) >= 0.7 * len(best), f"expected one of {candidates}, read: {read}"
