"""The soak: a board through weeks of rotation in minutes, watched for leaks.

The kiosk's own parts (app.build_board: cache, sync, player, health, proof of play) run
against a province on 127.0.0.1 whose content changes every few hours: new notices, photos
that come and go, tickers, an emergency now and then. Time is simulated: the wall clock and
the monotonic clock move only when the driver moves them, so a 30-day run takes minutes and
every hour of it happens (slides, schedule changes, syncs, heartbeats, the cache's clean-up
after 24 h, the screen going dark at night). The health server and the site server are real
threads on real sockets; a technician's client asks for /health, /metrics, / and
/screenshot.png every simulated hour.

Every simulated hour it samples RSS, open file descriptors, threads, the cache and the play
journal. It fails when any of them grows past set bounds after the first day.

    .venv/bin/python -m bench.soak --days 30          # the long form (documented figures)
    .venv/bin/python -m bench.soak --days 3 --size 960x540 --json  # the short form (CI)
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests

from bench import procstat
from bench.content import photo
from kiosk.board.app import Board, build_board, start_health
from kiosk.board.clock import SourceClock
from kiosk.board.display import PygameDisplay
from kiosk.board.store import GRACE_S
from kiosk.core.config import load_config
from kiosk.core.health import rfc3339
from tests.countingsource import CountingSite, Province, board_config

HOUR = 3600.0
DAY = 24 * HOUR
START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # 07:00 in Vietnam
POLL_S = 300
HEARTBEAT_S = 300

# Bounds on the days after the first two (check() says why two).
# RSS moves with how many whole frames and slide-sized images are alive at the moment it is
# read (the image cache holds two), so its bounds are counted partly in frames.
RSS_GROWTH = (16.0, 2)  # MB and frames over the largest RSS of the first two days
RSS_MEDIAN_GROWTH = (4.0, 2)  # MB and frames: the last day's median RSS over the second day's
OBJECTS_GROWTH = 0.05  # Python objects: the last day's most over the second day's
# Allocator blocks a day, from the second day's median to the last day's: about one per
# slide shown. A healthy run grows by some 1,000 a day over 3 days and 360 over 30: the
# soak's own records, and the standard library's bounded caches (urlsplit's, re's) filling.
# A list that keeps one small tuple per slide grows by 10,000.
BLOCKS_PER_DAY = 3000
FDS_GROWTH = 4
THREADS_GROWTH = 3
PLAYS_JOURNAL_BYTES = 2 << 20


class SimClock:
    """Wall and monotonic time that move only when told to."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.elapsed = 0.0

    def wall(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed)

    def mono(self) -> float:
        return 1000.0 + self.elapsed


@dataclass
class Sample:
    hour: int
    rss_mb: float
    objects: int  # that Python's garbage collector tracks: a leak of Python objects shows here
    blocks: int  # memory blocks Python's allocator holds: any Python object, tracked or not
    fds: int
    threads: int
    cache_files: int
    cache_mb: float
    cache_limit: int  # files the cache may hold now: the images of the last 26 h, twice
    plays_journal_bytes: int
    status: str  # of /health at the technician's last visit (an hour before), and its problem codes
    on_screen: str


@dataclass
class SoakResult:
    days: float
    size: str
    seconds: float
    publishes: int = 0
    images_published: int = 0
    emergencies: int = 0  # published
    emergency_shown_s: float = 0.0  # simulated seconds the board showed an emergency
    slides_shown: int = 0
    samples: list[Sample] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        first = self.samples[min(24, len(self.samples) - 1)] if self.samples else None
        last = self.samples[-1] if self.samples else None
        out = {k: v for k, v in asdict(self).items() if k != "samples"}
        if first and last:
            out["rss_mb_day1"] = first.rss_mb
            out["rss_mb_end"] = last.rss_mb
            out["rss_mb_max"] = max(s.rss_mb for s in self.samples)
            out["fds_end"], out["threads_end"] = last.fds, last.threads
            out["objects_day1"], out["objects_end"] = first.objects, last.objects
            out["cache_files_max"] = max(s.cache_files for s in self.samples)
            out["cache_mb_max"] = max(s.cache_mb for s in self.samples)
        return out


class SoakProvince:
    """Two channels that change every two to four hours: the province's notices and
    photos (new ones in, old ones out), a ticker that comes and goes, an emergency on some
    days; the commune's schedule once a day."""

    def __init__(self, province: Province, clock: SimClock, rng: random.Random) -> None:
        self.province, self.clock, self.rng = province, clock, rng
        self.photos: list[str] = []
        self.seed = 0
        self.published_at: list[tuple[float, set[str]]] = []  # (elapsed, photo names)
        self.publishes = self.emergencies = 0

    def _new_photo(self) -> str:
        self.seed += 1
        name = f"p{self.seed:05d}.jpg"
        (self.province.authoring / name).write_bytes(photo(self.seed, (2400, 1800)))
        return name

    def publish(self) -> None:
        now = self.clock.wall()
        stamp = f"{now:%d%H%M}"
        for _ in range(self.rng.randint(1, 2)):
            self.photos.append(self._new_photo())
        while len(self.photos) > 5:
            gone = self.photos.pop(0)
            (self.province.authoring / gone).unlink()
        items: list[dict] = [
            {
                "id": f"tb-{stamp}-{n}",
                "type": "text",
                "priority": "priority" if n == 0 else "normal",
                "title": f"Thông báo số {self.publishes}/{n} về lịch tiếp công dân",
                "body": "Ủy ban nhân dân xã đề nghị các thôn phổ biến rộng rãi. " * (1 + 3 * n),
                "duration": self.rng.choice([10, 15, 20]),
            }
            for n in range(self.rng.randint(3, 6))
        ]
        items += [
            {"id": f"anh-{name[1:6]}", "type": "image", "file": name, "fit": "cover"}
            for name in self.photos
        ]
        if self.rng.random() < 0.5:
            items.append({"id": f"chay-{stamp}", "type": "ticker", "text": "Lịch cắt điện " * 4})
        if self.rng.random() < 0.1:
            self.emergencies += 1
            items.append(
                {
                    "id": f"khan-{stamp}",
                    "type": "text",
                    "priority": "emergency",
                    "title": "Cảnh báo lũ quét",
                    "body": "Người dân vùng trũng khẩn trương di chuyển đến nơi an toàn.",
                    "valid_until": rfc3339(now + timedelta(hours=1)),
                }
            )
        self.province.publish("tinh-08", items, now, days=7)
        if self.publishes % 8 == 0:
            self.province.publish(
                "xa-02263",
                [
                    {
                        "id": f"lich-{stamp}",
                        "type": "text",
                        "title": "Lịch tiếp công dân",
                        "body": "Thứ Hai đến Thứ Sáu, sáng 7:30 - 11:30",
                        "hours": ["06:00-18:00"],
                    }
                ],
                now,
                days=7,
            )
        self.publishes += 1
        self.published_at.append((self.clock.elapsed, set(self.photos)))

    def photos_since(self, elapsed: float) -> set[str]:
        """Every photo some manifest named after `elapsed` (or the last one before it)."""
        keep: set[str] = set()
        for n, (_at, names) in enumerate(self.published_at):
            later = self.published_at[n + 1][0] if n + 1 < len(self.published_at) else 1e18
            if later >= elapsed:
                keep |= names
        return keep


class Technician:
    """A client on another thread asking for every page of the health server."""

    PATHS = ("/health", "/metrics", "/", "/screenshot.png")

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.trust_env = False
        self.thread: threading.Thread | None = None
        self.status = "none"
        self.errors: list[str] = []

    def ask(self) -> None:
        if self.thread is not None and self.thread.is_alive():
            return  # one visit at a time
        self.thread = threading.Thread(target=self._visit, name="technician", daemon=True)
        self.thread.start()

    def _visit(self) -> None:
        for path in self.PATHS:
            try:
                answer = self.session.get(self.base + path, timeout=10)
                if path == "/health":
                    doc = answer.json()
                    codes = sorted({p["code"] for p in doc["problems"]})
                    self.status = " ".join([doc["status"], *codes])
                elif answer.status_code != 200:
                    self.errors.append(f"{path}: HTTP {answer.status_code}")
            except (requests.RequestException, ValueError, KeyError) as exc:
                self.errors.append(f"{path}: {exc!r}")

    def close(self) -> None:
        if self.thread is not None:
            self.thread.join(15)
        self.session.close()


class Tracebacks(logging.Handler):
    """Counts log records that carry a traceback: each one is a bug the board survived."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.found: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and len(self.found) < 20:
            self.found.append(self.format(record))


def cache_files(folder: Path) -> tuple[int, int]:
    count = size = 0
    for sub in ("assets", "derived", "partial"):
        for path in (folder / sub).glob("*"):
            count += 1
            size += path.stat().st_size
    return count, size


def run_soak(
    days: float,
    work: Path,
    size: str = "1920x1080",
    seed: int = 1,
    quantum_s: float = 2.0,
    progress: bool = False,
) -> SoakResult:
    """Drive a board through `days` simulated days; the result holds the hourly samples and
    every bound that was broken."""
    started = time.monotonic()
    rng = random.Random(seed)
    clock = SimClock(START)
    (work / "site").mkdir(parents=True)
    (work / "authoring").mkdir()
    province = Province(work / "site", work / "authoring")
    source = SoakProvince(province, clock, rng)
    source.publish()
    site = CountingSite(province.site, wall=clock.wall)
    site.start()
    config = load_config(
        board_config(
            work / "board",
            site.url,
            province.public_key,
            size=size,
            poll_seconds=POLL_S,
            on_hours="06:00-22:00",
            channels=("tinh-08", "xa-02263"),
            heartbeat_seconds=HEARTBEAT_S,
        )
    )
    display = PygameDisplay(config.display.size, headless=True)
    board = build_board(
        config, display, SourceClock(wall=clock.wall), mono=clock.mono, crossfade_s=0.001
    )
    health = start_health(config, board.reporter, board.screenshots)
    technician = Technician(f"http://127.0.0.1:{config.listen[1]}")
    tracebacks = Tracebacks()
    logging.getLogger().addHandler(tracebacks)
    result = SoakResult(days, size, 0.0)
    try:
        _drive(board, clock, source, technician, days, quantum_s, result, progress)
    finally:
        technician.close()
        if health is not None:
            health.stop()
        site.stop()
        display.close()
        logging.getLogger().removeHandler(tracebacks)
    result.seconds = round(time.monotonic() - started, 1)
    result.publishes, result.emergencies = source.publishes, source.emergencies
    result.images_published = source.seed
    result.failures = check(result) + [f"technician: {e}" for e in technician.errors[:5]]
    result.failures += [f"traceback logged: {t}" for t in tracebacks.found]
    return result


def _drive(
    board: Board,
    clock: SimClock,
    source: SoakProvince,
    technician: Technician,
    days: float,
    quantum_s: float,
    result: SoakResult,
    progress: bool,
) -> None:
    """The event loop: the player's turns, syncs, heartbeats, publications and samples, in
    the order their simulated times come."""
    assert board.loop is not None and board.heartbeat is not None
    end = days * DAY
    rng = random.Random(2)
    next_sync = next_beat = next_sample = 0.0
    next_publish = rng.uniform(2, 4) * HOUR
    shown = None
    storage = board.config.storage_dir
    while clock.elapsed < end:
        pause = board.player.step()
        board.after_turn(board.player.state)
        if board.player.state.current != shown:
            shown = board.player.state.current
            result.slides_shown += shown is not None
        now = clock.elapsed
        if board.player.state.emergency:
            result.emergency_shown_s += max(pause, quantum_s)
        if now >= next_publish:
            source.publish()
            next_publish = now + rng.uniform(2, 4) * HOUR
        if now >= next_sync:
            next_sync = now + board.loop.run_once()
        if now >= next_beat:
            board.heartbeat.beat()
            next_beat = now + HEARTBEAT_S
        if now >= next_sample:
            result.samples.append(_sample(board, source, storage, technician, now))
            technician.ask()
            next_sample = now + HOUR
            if progress and len(result.samples) % 24 == 1:
                s = result.samples[-1]
                print(
                    f"day {now / DAY:5.1f}: rss {s.rss_mb} MB, fds {s.fds}, threads {s.threads}, "
                    f"cache {s.cache_files} files / {s.cache_mb} MB (limit {s.cache_limit}), "
                    f"health {s.status}",
                    flush=True,
                )
        wait = max(pause, quantum_s)
        clock.elapsed = min(now + wait, next_sync, next_beat, next_sample, next_publish, end)
        if clock.elapsed <= now:
            clock.elapsed = now + quantum_s
        if technician.thread is not None and technician.thread.is_alive():
            time.sleep(0.001)  # let the technician's thread have the player's handover


def _sample(
    board: Board, source: SoakProvince, storage: Path, technician: Technician, now: float
) -> Sample:
    files, size = cache_files(storage)
    plays = storage / "plays.jsonl"
    current = board.player.state.current
    # What the cache may hold: each image a manifest named in the last 26 h and two polls,
    # as its original and its pre-scaled copy. An image dropped by a sync is first seen
    # unreferenced at the next hourly clean-up, and removed at the first one 24 h later.
    recent = source.photos_since(now - GRACE_S - 2 * HOUR - 2 * POLL_S)
    return Sample(
        hour=round(now / HOUR),
        rss_mb=round((procstat.status_kb("self", "VmRSS") or 0) / 1024, 1),
        objects=len(gc.get_objects()),
        blocks=sys.getallocatedblocks(),
        fds=procstat.open_fds(),
        threads=procstat.status_kb("self", "Threads") or 0,
        cache_files=files,
        cache_mb=round(size / 2**20, 1),
        cache_limit=2 * len(recent) + 2,
        plays_journal_bytes=plays.stat().st_size if plays.exists() else 0,
        status=technician.status,
        on_screen="/".join(current) if current else board.player.state.display_state,
    )


def check(result: SoakResult) -> list[str]:
    """Every bound the run broke, in words."""
    samples = result.samples
    failures = []
    if len(samples) < 72:
        return [f"only {len(samples)} hourly samples: run at least three days"]
    # The first day warms up (fonts, text layouts, images, the allocator's arenas); the
    # second is the baseline; every hour after it is held to it.
    first_two, day2, later, last_day = samples[:48], samples[24:48], samples[48:], samples[-24:]
    w, h = (int(n) for n in result.size.split("x"))
    frame_mb = w * h * 4 / 2**20
    rss_growth = RSS_GROWTH[0] + RSS_GROWTH[1] * frame_mb
    median_growth = RSS_MEDIAN_GROWTH[0] + RSS_MEDIAN_GROWTH[1] * frame_mb
    base_rss = max(s.rss_mb for s in first_two)
    median_day2 = statistics.median(s.rss_mb for s in day2)
    median_last = statistics.median(s.rss_mb for s in last_day)
    if median_last > median_day2 + median_growth:
        failures.append(
            f"the last day's median RSS is {median_last} MB, the second day's {median_day2} MB "
            f"(bound +{median_growth:.1f} MB)"
        )
    days_after = (len(samples) - 48) / 24
    median_blocks_day2 = statistics.median(s.blocks for s in day2)
    rate = (statistics.median(s.blocks for s in last_day) - median_blocks_day2) / days_after
    if rate > BLOCKS_PER_DAY:
        failures.append(
            f"Python's allocator held {rate:.0f} more blocks each day after the second "
            f"(from {median_blocks_day2:.0f}); bound {BLOCKS_PER_DAY}"
        )
    objects_day2 = max(s.objects for s in day2)
    objects_last = max(s.objects for s in last_day)
    if objects_last > objects_day2 * (1 + OBJECTS_GROWTH):
        failures.append(
            f"Python objects grew from {objects_day2} on the second day to {objects_last} "
            "on the last"
        )
    base_fds = max(s.fds for s in first_two)
    base_threads = max(s.threads for s in first_two)
    for s in later:
        if s.rss_mb > base_rss + rss_growth:
            failures.append(
                f"hour {s.hour}: RSS {s.rss_mb} MB, over the first two days' {base_rss} MB "
                f"+ {rss_growth:.1f} MB"
            )
        if s.fds > base_fds + FDS_GROWTH:
            failures.append(f"hour {s.hour}: {s.fds} open files, first two days {base_fds}")
        if s.threads > base_threads + THREADS_GROWTH:
            failures.append(f"hour {s.hour}: {s.threads} threads, first two days {base_threads}")
    for s in samples:
        if s.cache_files > s.cache_limit:
            failures.append(
                f"hour {s.hour}: the cache holds {s.cache_files} files, more than the "
                f"{s.cache_limit} of the images named in the last 26 h"
            )
        if s.plays_journal_bytes > PLAYS_JOURNAL_BYTES:
            failures.append(f"hour {s.hour}: the play journal is {s.plays_journal_bytes} bytes")
    if samples[-1].status != "ok":
        failures.append(f"the last /health said {samples[-1].status!r}, not 'ok'")
    return failures[:20]


def main() -> int:
    parser = argparse.ArgumentParser(description="The kiosk through simulated days.")
    parser.add_argument("--days", type=float, default=30)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="the samples too, as JSON")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="kiosk-soak-") as tmp:
        result = run_soak(args.days, Path(tmp), args.size, args.seed, progress=True)
    for failure in result.failures:
        print("FAIL:", failure, flush=True)
    out = result.summary()
    if args.json:
        out["samples"] = [asdict(s) for s in result.samples]
    print(json.dumps(out, ensure_ascii=False))
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
