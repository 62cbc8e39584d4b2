"""How many boards the province server holds at one heartbeat a minute, with p99 under
200 ms, on SQLite and on PostgreSQL, on this machine.

    .venv/bin/python bench/heartbeats.py            # both databases, about 20 minutes
    .venv/bin/python bench/heartbeats.py --quick    # a short run, to see that it works
    .venv/bin/python bench/heartbeats.py --database postgresql --boards 10000

Everything is real and on loopback: `kiosk province serve` (gunicorn, Django) on SQLite or a
PostgreSQL of our own, N registered boards, and N simulated boards, each a real HTTP client
with its own token sending a full /health document and its plays once a minute, at its own
moment of the minute (an open loop: a slow server does not slow the boards down, and each
latency counts from when the board meant to send). Beside them, as in production, the
housekeeping runs each minute: it sums the minute's plays over boards and expires raw plays
older than plays_raw_days (100 a board are written four days old for it to expire). A step
passes when p99 < 200 ms and no heartbeat failed. The disk's fsync latency is printed too,
so a slow disk is told apart from slow code. Prints a line per step, then one JSON object
as the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.provinceserver import ProvinceServer, inventory_row
from tests.services import postgres_cluster

P99_LIMIT_MS = 200.0
PLAYS_PER_BEAT = 4  # a slide every 15 s
CLIENT_THREADS = 128


def health(device_id: str, n: int) -> dict:
    """A full /health document as a board sends it (SPEC 3.2), about 1.5 KB."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return {
        "status": "ok",
        "problems": [],
        "device": {
            "id": device_id,
            "name": f"Bảng tin UBND xã Số {n}",
            "unit_name": f"UBND xã Số {n}",
            "unit_kind": "xa",
            "province_code": "08",
            "commune_code": f"{n:05d}",
        },
        "version": "0.1.0",
        "time": now,
        "uptime_s": 86400,
        "display": {
            "state": "on",
            "width": 1920,
            "height": 1080,
            "current_item": {"channel": "tinh-08", "id": "tb-2024-0412", "title": "Thông báo"},
            "last_frame_at": now,
        },
        "sync": {
            "last_attempt_at": now,
            "last_success_at": now,
            "consecutive_failures": 0,
            "channels": {
                "tinh-08": {"sequence": 12, "items": 5, "expires_at": now},
                "xa-02263": {"sequence": 3, "items": 2, "expires_at": now},
            },
        },
        "content": {"items_active": 7, "emergency_active": False},
        "system": {
            "cpu_temp_c": 52.1,
            "load_1m": 0.21,
            "mem_available_mb": 612,
            "disk_free_mb": 20480,
            "clock_skew_s": 0.4,
        },
        "heartbeat": {"last_success_at": now, "queued_plays": PLAYS_PER_BEAT},
    }


class Board:
    def __init__(self, device_id: str, token: str, n: int) -> None:
        self.device_id, self.token, self.n = device_id, token, n
        self.beat = 0
        # a day ago: inside the window of plays the server stores (SPEC 7.4)
        self.epoch = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)

    def body(self) -> bytes:
        start = self.epoch + timedelta(minutes=self.beat)
        self.beat += 1
        plays = [
            {
                "channel": "tinh-08",
                "item": f"item-{k}",
                "started_at": (start + timedelta(seconds=15 * k)).isoformat(),
                "duration_s": 15.0,
            }
            for k in range(PLAYS_PER_BEAT)
        ]
        doc = {
            "device_id": self.device_id,
            "sent_at": datetime.now(UTC).isoformat(),
            "health": health(self.device_id, self.n),
            "plays": plays,
        }
        return json.dumps(doc).encode()


def send(url: str, board: Board, body: bytes) -> bool:
    req = urllib.request.Request(
        f"{url}/devices/{board.device_id}/heartbeat",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {board.token}"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as answer:
            answer.read()
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def step(url: str, boards: list[Board], seconds: float) -> dict:
    """Every board beats once per minute, spread evenly, for `seconds`; latencies in ms
    from each beat's planned moment."""
    rate = len(boards) / 60.0
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    total = int(rate * seconds)
    start = time.monotonic() + 0.5

    def one(k: int) -> None:
        board = boards[k % len(boards)]
        planned = start + k / rate
        body = board.body()
        delay = planned - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        ok = send(url, board, body)
        took = (time.monotonic() - planned) * 1000
        with lock:
            latencies.append(took)
            failures[0] += not ok

    with ThreadPoolExecutor(CLIENT_THREADS) as pool:
        for k in range(total):
            wait = start + k / rate - time.monotonic() - 0.2
            if wait > 0:
                time.sleep(wait)
            pool.submit(one, k)
    latencies.sort()
    n = len(latencies)
    return {
        "boards": len(boards),
        "per_second": round(rate, 1),
        "sent": n,
        "failed": failures[0],
        "p50_ms": round(latencies[n // 2], 1),
        "p99_ms": round(latencies[min(n - 1, int(n * 0.99))], 1),
        "max_ms": round(latencies[-1], 1),
        "mean_ms": round(statistics.fmean(latencies), 1),
    }


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU seconds of these processes so far."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def server_pids(server: ProvinceServer) -> list[int]:
    assert server.proc is not None
    return [server.proc.pid, *server.workers()]


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().startswith("postgres"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def fsync_ms(folder: Path, times: int = 200) -> dict:
    """How long this disk takes to make 4 KiB durable (a write and an fsync), as a
    commit's WAL write does: p50 and p99 in ms. A slow disk shows here, not as slow code."""
    path = folder / "fsync-probe"
    took = []
    with open(path, "wb") as f:
        for _ in range(times):
            began = time.perf_counter()
            f.write(os.urandom(4096))
            f.flush()
            os.fsync(f.fileno())
            took.append((time.perf_counter() - began) * 1000)
    path.unlink()
    took.sort()
    return {
        "p50_ms": round(took[len(took) // 2], 2),
        "p99_ms": round(took[int(0.99 * len(took))], 2),
    }


class Housekeeping(threading.Thread):
    """`kiosk province housekeeping` each minute, as its systemd timer runs it: the rollup
    of the minute's plays and the expiry of old raw plays run beside the heartbeats."""

    def __init__(self, server: ProvinceServer) -> None:
        super().__init__(daemon=True)
        self.server, self.stopping, self.runs = server, threading.Event(), []

    def run(self) -> None:
        while not self.stopping.wait(60 if self.runs else 5):
            began = time.monotonic()
            done = self.server.kiosk(
                "province", "housekeeping", "--config", str(self.server.config)
            )
            self.runs.append((round(time.monotonic() - began, 1), done.returncode))
            if done.returncode:
                print(f"  housekeeping failed: {done.stderr[-2000:]}", flush=True)


def stale_plays(server: ProvinceServer, rows: list[dict], per_board: int = 100) -> int:
    """Raw plays four days old (past plays_raw_days), for the housekeeping to expire while
    the heartbeats come."""
    old = datetime.now(UTC) - timedelta(days=4)
    plays = [(r["device_id"], "tinh-08", "old", old + timedelta(seconds=k), 10.0)
             for r in rows for k in range(per_board)]  # fmt: skip
    if server.database.startswith("postgresql"):
        import psycopg

        copy_in = "COPY fleet_play (board_id, channel, item, started_at, duration_s) FROM STDIN"
        with (
            psycopg.connect(server.database) as conn,
            conn.cursor() as cursor,
            cursor.copy(copy_in) as copy,
        ):
            for p in plays:
                copy.write_row(p)
    else:
        import sqlite3

        with sqlite3.connect(server.database.removeprefix("sqlite:///")) as conn:
            conn.executemany(
                "INSERT INTO fleet_play (board_id, channel, item, started_at, duration_s) "
                "VALUES (?, ?, ?, ?, ?)",
                [(*p[:3], p[3].replace(tzinfo=None).isoformat(" "), p[4]) for p in plays],
            )
    return len(plays)


def measure(database: str, root: Path, steps: list[int], seconds: float, workers: int,
            housekeeping: bool = True) -> dict:  # fmt: skip
    most = max(steps)
    rows = [inventory_row(n) for n in range(1, most + 1)]
    server = ProvinceServer(root, database, rows, workers=workers)
    print(f"{database.split(':')[0]}: registering {most} boards", flush=True)
    tokens = server.register()
    # The fleet has been up for a while: each board's "online" is already in its history, so
    # a heartbeat that changes nothing writes nothing but itself (as every minute of a day).
    server.execute(
        "UPDATE fleet_board SET online_noted = %s, status = 'ok'"
        % ("true" if server.database.startswith("postgresql") else "1")
    )
    stale = stale_plays(server, rows) if housekeeping else 0
    server.start()
    boards = [Board(r["device_id"], tokens[r["device_id"]], n) for n, r in enumerate(rows, 1)]
    results, held = [], 0
    chores = Housekeeping(server)
    if housekeeping:
        chores.start()
    try:
        step(server.url, boards[: steps[0]], 5)  # warm-up: workers' first connections
        for count in steps:
            groups = {"server": server_pids(server)}
            if not database.startswith("sqlite"):
                groups["postgres"] = postgres_pids()
            before = {k: cpu_seconds(v) for k, v in groups.items()}
            own, started = time.process_time(), time.monotonic()
            result = step(server.url, boards[:count], seconds)
            wall = time.monotonic() - started
            result["cores"] = {
                k: round((cpu_seconds(groups[k]) - before[k]) / wall, 2) for k in groups
            } | {"boards_simulated": round((time.process_time() - own) / wall, 2)}
            result["ok"] = result["failed"] == 0 and result["p99_ms"] < P99_LIMIT_MS
            print(f"  {json.dumps(result)}", flush=True)
            results.append(result)
            if not result["ok"]:
                break
            held = count
        stored = int(server.sql("SELECT sum(plays_stored) FROM fleet_board")[0][0] or 0)
    finally:
        chores.stopping.set()
        if chores.is_alive():  # a run under way finishes and is counted (runs take seconds)
            chores.join(timeout=300)
        server.stop()
        errors = [line for line in (server.root / "serve.log").read_text(errors="replace")
                  .splitlines() if "ERROR" in line or "Error" in line]  # fmt: skip
        for line in errors[:5]:
            print(f"  server log: {line[:300]}", flush=True)
    return {"held_boards": held, "steps": results, "plays_stored": stored, "workers": workers,
            "housekeeping_runs_s": [took for took, _code in chores.runs],
            "housekeeping_failed": sum(code != 0 for _took, code in chores.runs),
            "stale_raw_plays": stale}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short steps, few boards")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--boards", type=int, action="append", help="the steps (repeatable)")
    parser.add_argument("--seconds", type=float, help="seconds of each step")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--no-housekeeping", action="store_true",
                        help="no rollup and expiry each minute beside the heartbeats")  # fmt: skip
    args = parser.parse_args()
    seconds = args.seconds or (10 if args.quick else 60)
    figures: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "mode": "quick" if args.quick else "full",
            "step_seconds": seconds,
        }
    }
    keep = not args.no_housekeeping
    with tempfile.TemporaryDirectory(prefix="kiosk-heartbeats-") as tmp:
        if args.database in ("sqlite", "both"):
            steps = args.boards or (
                [300, 600] if args.quick else [2000, 5000, 10000, 15000, 20000, 25000, 30000]
            )
            figures["sqlite"] = measure(
                "sqlite", Path(tmp) / "sqlite", steps, seconds, args.workers, keep
            )
        if args.database in ("postgresql", "both"):
            steps = args.boards or (
                [300, 600] if args.quick else [2000, 5000, 10000, 12500, 15000, 17500, 20000]
            )
            with postgres_cluster() as pg:
                figures["postgresql"] = measure(
                    pg.database(), Path(tmp) / "postgresql", steps, seconds, args.workers, keep
                )
        figures["machine"]["fsync"] = fsync_ms(Path(tmp))
        print(f"this disk: 4 KiB written and fsynced in {json.dumps(figures['machine']['fsync'])}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
