"""Player benchmarks: CPU of `kiosk run --headless` on a static slide and while the ticker
scrolls, and the crossfade's frame time at 1920x1080 and 3840x2160.

    .venv/bin/python bench/player.py [--seconds 30]

Prints a line per figure, then one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STATIC = """channel = "tinh-08"
[[items]]
id = "tinh"
type = "text"
title = "Thông báo"
body = "Mỗi huyện, thành phố có ít nhất 01 phường, thị trấn thiết lập bảng tin điện tử công cộng."
duration = 600
"""
TICKER = (
    STATIC
    + """
[[items]]
id = "chay"
type = "ticker"
text = "Ủy ban nhân dân xã Tân Trào thông báo lịch tiếp công dân: Thứ Hai đến Thứ Sáu."
"""
)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_cpu(playlist: str, seconds: float, size: str) -> float:
    """Percent of one core used by `kiosk run --headless` over `seconds` after its first frame."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "playlists"
        folder.mkdir()
        (folder / "p.toml").write_text(playlist, "utf-8")
        snapshot = Path(tmp) / "screen.png"
        env = {**os.environ, "XDG_CACHE_HOME": tmp}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kiosk",
                "run",
                "--headless",
                "--playlists",
                str(folder),
                "--snapshot",
                str(snapshot),
                "--size",
                size,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=ROOT,
        )
        try:
            deadline = time.monotonic() + 60
            while not snapshot.exists():
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("the kiosk did not show its first frame")
                time.sleep(0.05)
            time.sleep(1.0)  # past start-up
            cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
            time.sleep(seconds)
            cpu1, t1 = cpu_seconds(proc.pid), time.monotonic()
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    return 100 * (cpu1 - cpu0) / (t1 - t0)


def transition_ms(size: tuple[int, int], fades: int = 4) -> dict[str, float]:
    """Frame time of the crossfade between two full slides, in process, off-screen."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from kiosk.authoring import FileAssets
    from kiosk.content import Content, ContentBox
    from kiosk.display import PygameDisplay
    from kiosk.model import parse_item
    from kiosk.player import Player
    from kiosk.render.screen import Orientation
    from kiosk.schedule import ChannelContent

    items = tuple(
        parse_item(
            {
                "id": f"s{n}",
                "type": "text",
                "title": f"Thông báo {n}",
                "duration": 3,
                "body": "Lịch tiếp công dân của Ủy ban nhân dân xã Tân Trào. " * 4,
            }
        )
        for n in range(2)
    )
    display = PygameDisplay(size, headless=True)
    box = ContentBox(Content((ChannelContent("tinh-08", items),), FileAssets()))
    mono = [0.0]
    player = Player(
        box,
        display,
        Orientation(size, 0),
        ZoneInfo("Asia/Ho_Chi_Minh"),
        "UBND xã Tân Trào",
        clock=lambda: datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")),
        monotonic=lambda: mono[0],
    )
    player.step()
    for _ in range(fades):
        mono[0] += 3
        player.step()
    display.close()
    times = sorted(player.state.transition_ms)
    return {
        "median": round(statistics.median(times), 2),
        "p95": round(times[int(0.95 * (len(times) - 1))], 2),
        "frames": len(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30, help="CPU measuring time")
    args = parser.parse_args()
    result: dict[str, object] = {}
    for name, size in (("1080p", (1920, 1080)), ("2160p", (3840, 2160))):
        figures = transition_ms(size)
        result[f"frame_ms_{name}"] = figures["median"]
        print(
            f"crossfade frame time {name}: median {figures['median']} ms, "
            f"p95 {figures['p95']} ms over {figures['frames']} frames",
            flush=True,
        )
    result["idle_cpu_percent"] = round(run_cpu(STATIC, args.seconds, "1920x1080"), 3)
    print(
        f"static slide, 1920x1080: {result['idle_cpu_percent']}% of one core "
        f"over {args.seconds:g} s",
        flush=True,
    )
    result["ticker_cpu_percent"] = round(run_cpu(TICKER, args.seconds, "1920x1080"), 2)
    print(
        f"ticker scrolling, 1920x1080: {result['ticker_cpu_percent']}% of one core "
        f"over {args.seconds:g} s",
        flush=True,
    )
    result["cpu_model"] = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
