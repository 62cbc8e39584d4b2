"""The kiosk's figures, and a browser kiosk's beside them, measured in one run.

    .venv/bin/python bench/run.py --quick   # under 5 minutes on 2 cores
    .venv/bin/python bench/run.py           # the full run: longer windows, more starts, and
                                            # a real-time pass through the 200 photos

Prints a line per figure as it goes, then one JSON object as the last line. Everything runs
on this machine: a province (signed playlists, a static site on 127.0.0.1 that counts the
bytes it exchanges), boards (`kiosk run` and `kiosk sync --once` as child processes, each
with a kiosk.toml and cache of its own), and Debian's Chromium showing the same slide.
docs/performance.md explains each figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import browser, kioskproc, procstat
from bench.content import TEXT_ITEM, TICKER_ITEM, make_photos, photo_items
from kiosk import __version__
from tests.countingsource import CountingSite, Province, board_config

ROOT = Path(__file__).resolve().parents[1]
SIZE = "1920x1080"


def say(text: str) -> None:
    print(text, flush=True)


def transition_ms(size: tuple[int, int], fades: int = 4) -> dict[str, float]:
    """Frame time of the crossfade between two full text slides, in process, off-screen:
    each frame blends the old picture with the new over the whole panel."""
    from kiosk.board.content import Content, ContentBox
    from kiosk.board.display import PygameDisplay
    from kiosk.board.player import Player
    from kiosk.core.authoring import FileAssets
    from kiosk.core.model import parse_item
    from kiosk.core.schedule import ChannelContent
    from kiosk.render.screen import Orientation

    items = tuple(parse_item(dict(TEXT_ITEM, id=f"s{n}", duration=3)) for n in range(2))
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


class Bench:
    """The province, its site and the boards of one run, in a scratch folder."""

    def __init__(self, work: Path, quick: bool) -> None:
        self.work, self.quick = work, quick
        self.seconds = 10.0 if quick else 60.0  # CPU windows
        self.starts = 3 if quick else 7
        (work / "site").mkdir()
        (work / "authoring").mkdir()
        self.province = Province(work / "site", work / "authoring")
        self.site = CountingSite(self.province.site)
        self.site.start()

    def board(self, name: str, channel: str, items: list[dict]) -> Path:
        """A channel published with items, and a board of its own subscribed to it."""
        self.province.publish(channel, items)
        return board_config(
            self.work / name, self.site.url, self.province.public_key, SIZE, channels=(channel,)
        )

    def synced(self, config: Path) -> Path:
        run = kioskproc.sync_once(config, self.work)
        if run["exit"] != 0:
            raise SystemExit(f"kiosk sync --once failed for {config}")
        return config

    def close(self) -> None:
        self.site.stop()


def kiosk_figures(bench: Bench, out: dict) -> None:
    static = bench.synced(bench.board("board-static", "tinh-08", [TEXT_ITEM]))
    firsts = []
    with kioskproc.Kiosk(static, bench.work) as kiosk:
        firsts.append(kiosk.first_frame_s)
        time.sleep(1.0)  # past start-up
        out["idle_cpu_percent"] = round(kiosk.cpu_percent(bench.seconds), 3)
        memory = procstat.memory_mb([kiosk.proc.pid])
        out["static_rss_mb"], out["static_pss_mb"] = memory["rss_mb"], memory["pss_mb"]
    say(
        f"static slide, {SIZE}: {out['idle_cpu_percent']}% of one core over "
        f"{bench.seconds:g} s; RSS {out['static_rss_mb']} MB, PSS {out['static_pss_mb']} MB"
    )
    for _ in range(bench.starts - 1):
        with kioskproc.Kiosk(static, bench.work) as kiosk:
            firsts.append(kiosk.first_frame_s)
    out["start_to_first_frame_s"] = round(statistics.median(firsts), 3)
    say(
        f"process start to first frame, warm cache: median {out['start_to_first_frame_s']} s "
        f"of {len(firsts)} starts ({', '.join(f'{f:.2f}' for f in sorted(firsts))})"
    )
    ticker = bench.synced(bench.board("board-ticker", "bang-chay", [TEXT_ITEM, TICKER_ITEM]))
    with kioskproc.Kiosk(ticker, bench.work) as kiosk:
        time.sleep(1.0)
        out["ticker_cpu_percent"] = round(kiosk.cpu_percent(bench.seconds), 2)
    say(f"ticker scrolling, {SIZE}: {out['ticker_cpu_percent']}% of one core")


def sync_figures(bench: Bench, photos: list[str], out: dict) -> None:
    config = bench.board("board-sync", "dong-bo", photo_items(photos[:100]))
    cache = bench.work / "board-sync" / "cache"
    bench.site.bytes = 0
    run = kioskproc.sync_once(config, bench.work)
    out["initial_sync_s"] = round(run["seconds"], 2)
    out["initial_sync_bytes"] = bench.site.bytes
    say(
        f"initial sync, 100 photos (12 MP JPEG) from 127.0.0.1: {out['initial_sync_s']} s, "
        f"{bench.site.bytes / 2**20:.1f} MiB over HTTP"
    )
    before, bench.site.bytes = kioskproc.files(cache), 0
    run = kioskproc.sync_once(config, bench.work)
    out["nochange_sync_bytes"] = bench.site.bytes
    out["nochange_sync_disk_writes"] = kioskproc.changed_files(before, kioskproc.files(cache))
    out["nochange_sync_write_bytes"] = run["write_bytes"]
    say(
        f"sync with nothing new: {out['nochange_sync_bytes']} bytes over HTTP, "
        f"{out['nochange_sync_disk_writes']} files written, {run['write_bytes']} bytes "
        f"written to disk, {run['seconds']:.2f} s"
    )
    changed = photo_items(photos[:100])
    changed[0]["file"] = photos[100]  # one photo replaced
    bench.province.publish("dong-bo", changed)
    bench.site.bytes = 0
    run = kioskproc.sync_once(config, bench.work)
    out["one_change_sync_bytes"] = bench.site.bytes
    out["one_change_photo_bytes"] = (bench.province.authoring / photos[100]).stat().st_size
    say(
        f"sync with one photo replaced: {out['one_change_sync_bytes']} bytes over HTTP "
        f"(the new photo is {out['one_change_photo_bytes']}), {run['seconds']:.2f} s"
    )


def memory_figures(bench: Bench, photos: list[str], out: dict) -> None:
    config = bench.board("board-photos", "anh-200", photo_items(photos[:200]))
    child = subprocess.run(
        [sys.executable, "-m", "bench.showall", str(config)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "XDG_CACHE_HOME": str(bench.work)},
        timeout=1800,
    )
    if child.returncode != 0:
        raise SystemExit(f"bench.showall failed: {child.stdout}{child.stderr[-2000:]}")
    shown = json.loads(child.stdout.splitlines()[-1])
    out["rss_peak_mb"] = shown["rss_peak_mb"]
    say(
        f"200 photos: synced in {shown['sync_s']} s and each shown once; peak RSS "
        f"{shown['rss_peak_mb']} MB (at the end {shown['rss_end_mb']} MB)"
    )
    if bench.quick:
        return
    with kioskproc.Kiosk(config, bench.work) as kiosk:  # the same cache, now warm
        time.sleep(200 * 3 + 30)  # each slide 3 s, and the crossfades
        out["rss_peak_mb_realtime"] = round(
            (procstat.status_kb(kiosk.proc.pid, "VmHWM") or 0) / 1024, 1
        )
    say(f"200 photos in real time through `kiosk run`: peak RSS {out['rss_peak_mb_realtime']} MB")


def chromium_figures(bench: Bench, out: dict) -> None:
    figures = browser.measure(bench.work, bench.seconds, bench.starts, bench.seconds)
    out["chromium"] = figures
    say(
        f"chromium, the same slide: start to first frame {figures['start_to_first_frame_s']} s; "
        f"RSS {figures['rss_mb']} MB, PSS {figures['pss_mb']} MB (all its processes); "
        f"{figures['idle_cpu_percent']}% of one core static, "
        f"{figures['ticker_cpu_percent']}% with the ticker"
    )


def schedule_ms() -> float:
    """The worst content for the schedule within the rules (SPEC 1.4): 500 items of 24 hour
    windows each, flipping at 499 different minutes while an emergency holds the screen, so
    that no flip changes what is shown. The player computes next_change at each change."""
    from kiosk.core.model import parse_items
    from kiosk.core.schedule import ChannelContent, next_change

    raws = [{"id": "alarm", "type": "text", "title": "Khẩn cấp", "priority": "emergency"}]
    for n in range(1, 500):
        hours = [f"{(n + h) % 24:02d}:{n % 59:02d}-{(n + h) % 24:02d}:59" for h in range(24)]
        raws.append({"id": f"n{n}", "type": "text", "title": "x", "hours": hours})
    items, errors = parse_items(raws)  # as a sync reads a manifest
    assert not errors, errors
    channels = [ChannelContent("tinh-08", items)]
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    times = []
    for minute in range(0, 7 * 24 * 60, 24 * 60 + 7):
        now = datetime(2026, 11, 23, tzinfo=tz) + timedelta(minutes=minute)
        t0 = time.perf_counter()
        next_change(channels, now, tz)
        times.append((time.perf_counter() - t0) * 1000)
    return round(max(times), 1)


def main() -> int:
    parser = argparse.ArgumentParser(description="The kiosk's figures beside a browser's.")
    parser.add_argument("--quick", action="store_true", help="shorter windows, fewer starts")
    args = parser.parse_args()
    if browser.chromium() is None:
        raise SystemExit("chromium is not installed (Debian: sudo apt install chromium)")
    started = time.monotonic()
    out: dict[str, object] = {}
    for name, size in (("1080p", (1920, 1080)), ("2160p", (3840, 2160))):
        figures = transition_ms(size)
        out[f"frame_ms_{name}"] = figures["median"]
        say(
            f"crossfade frame time {name}: median {figures['median']} ms, "
            f"p95 {figures['p95']} ms over {figures['frames']} frames"
        )
    out["next_change_worst_ms"] = schedule_ms()
    say(f"next schedule change, worst content: {out['next_change_worst_ms']} ms")
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as tmp:
        bench = Bench(Path(tmp), args.quick)
        try:
            kiosk_figures(bench, out)
            t0 = time.monotonic()
            photos = make_photos(bench.province.authoring, 201)
            say(f"made 201 photos of 12 MP in {time.monotonic() - t0:.0f} s")
            sync_figures(bench, photos, out)
            memory_figures(bench, photos, out)
            chromium_figures(bench, out)
        finally:
            bench.close()
    out["machine"] = {
        "cpu": procstat.cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "chromium": browser.version(),
        "kiosk": __version__,
        "date": datetime.now(UTC).date().isoformat(),
        "mode": "quick" if args.quick else "full",
        "seconds": round(time.monotonic() - started),
    }
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
