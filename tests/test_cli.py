"""The command line as a user runs it: real processes, real files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from PIL import Image

from tests.conftest import ROOT

AT = "2026-11-23T09:00:00+07:00"
SAMPLES = (
    "--playlists",
    str(ROOT / "playlists"),
)  # a Monday morning: the commune's weekday items are on


def argv(*args: str) -> list[str]:
    """The command line of `kiosk ARGS...` in this Python."""
    return [sys.executable, "-m", "kiosk", *args]


def kiosk(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(argv(*args), capture_output=True, text=True, timeout=timeout)


def test_render_a_playlist_to_a_folder_of_slides(tmp_path):
    out = tmp_path / "slides"
    done = kiosk(
        "render",
        str(ROOT / "playlists" / "xa-02263.toml"),
        "--out",
        str(out),
        "--at",
        AT,
        "--size",
        "1280x720",
    )
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "01-lich-tiep-cong-dan.png",
        "02-tb-thu-gom-rac.png",
        "03-anh-tiem-chung.png",
        "04-ban-do-ngap-lut.png",
    ]
    for name in names:
        assert Image.open(out / name).size == (1280, 720)


def test_render_a_playlist_to_one_contact_sheet(tmp_path):
    out = tmp_path / "sheet.png"
    done = kiosk("render", str(ROOT / "playlists" / "tinh-08.toml"), "--out", str(out), "--at", AT)
    assert done.returncode == 0, done.stderr
    width, height = Image.open(out).size
    assert width > 1280 and height > 360  # several thumbnails


def test_render_is_reproducible_with_at(tmp_path):
    item = tmp_path / "item.json"
    item.write_text(json.dumps({"id": "a", "type": "text", "title": "Thông báo"}), "utf-8")
    first, second = tmp_path / "1.png", tmp_path / "2.png"
    for out in (first, second):
        assert kiosk("render", str(item), "--out", str(out), "--at", AT).returncode == 0
    assert Image.open(first).tobytes() == Image.open(second).tobytes()


def test_render_bad_item_names_file_item_and_field(tmp_path):
    item = tmp_path / "item.json"
    item.write_text(json.dumps({"id": "tb-1", "type": "text", "title": "x", "duration": 1}))
    done = kiosk("render", str(item), "--out", str(tmp_path / "x.png"))
    assert done.returncode == 2
    assert f"{item}: item 'tb-1' (#1): field 'duration': must be from 3 to 600" in done.stderr
    assert "Traceback" not in done.stderr


def test_render_playlist_with_a_bad_item_renders_the_rest_and_says_so(tmp_path):
    (tmp_path / "p.toml").write_text(
        'channel = "xa-1"\n[[items]]\nid = "ok"\ntype = "text"\ntitle = "Tốt"\n'
        '[[items]]\nid = "anh"\ntype = "image"\nfile = "missing.jpg"\n',
        "utf-8",
    )
    out = tmp_path / "out"
    done = kiosk("render", str(tmp_path / "p.toml"), "--out", str(out))
    assert done.returncode == 2
    assert "item 'anh' (#2): field 'file': missing.jpg: cannot be read" in done.stderr
    assert [p.name for p in out.iterdir()] == ["01-ok.png"]


def test_render_usage_errors(tmp_path):
    for args, words in [
        (["nothing.txt", "--out", "x.png"], "give an item (.json) or a playlist (.toml)"),
        (["a.json", "--out", "x.png", "--size", "big"], "--size must be WIDTHxHEIGHT"),
        (["a.json", "--out", "x.png", "--at", "noon"], "--at:"),
        (["a.json", "--out", "x.png", "--rotation", "45"], "--rotation must be"),
    ]:
        done = kiosk("render", *args)
        assert done.returncode == 2 and words in done.stderr, (args, done.stderr)


def test_run_with_a_bad_config_exits_2_naming_the_key(tmp_path):
    bad = tmp_path / "kiosk.toml"
    bad.write_text('[device]\nid = "x"\n', "utf-8")
    done = kiosk("run", "--headless", "--config", str(bad))
    assert done.returncode == 2
    assert f"{bad}: [device] id: 'x' is not a device id" in done.stderr
    assert "Traceback" not in done.stderr


def test_run_headless_plays_local_playlists_and_stops_cleanly_on_sigterm(tmp_path):
    snapshot = tmp_path / "screen.png"
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "XDG_CACHE_HOME": str(tmp_path)}
    proc = subprocess.Popen(
        argv("run", "--headless", "--size", "960x540", "--snapshot", str(snapshot), *SAMPLES),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while not snapshot.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert snapshot.exists(), "no frame within 30 s"
        assert Image.open(snapshot).size == (960, 540)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert "running headless" in out
    assert "first frame on screen" in err and "Traceback" not in err
