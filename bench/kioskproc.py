"""`kiosk run` and `kiosk sync --once` as child processes, measured from outside: when the
first frame is on screen (READY=1 on a notify socket of ours, as systemd hears it), CPU and
memory from /proc, and what a sync wrote to disk."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench import procstat

ROOT = Path(__file__).resolve().parents[1]


def _env(work: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "XDG_CACHE_HOME": str(work), **extra}
    env.pop("WATCHDOG_USEC", None)
    return env


class Kiosk:
    """`kiosk run --headless --config CONFIG` until the with-block ends; `tree` is the
    checkout whose kiosk runs (another release's, from git), this one by default."""

    def __init__(self, config: Path, work: Path, tree: Path = ROOT) -> None:
        self.config, self.work, self.tree = config, work, tree
        self.first_frame_s = 0.0

    def __enter__(self) -> Kiosk:
        path = self.work / "notify.sock"
        path.unlink(missing_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(60)
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "run", "--headless", "--config", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_env(self.work, NOTIFY_SOCKET=str(path)),
            cwd=self.tree,  # `-m kiosk` finds the tree's package before the installed one
        )
        try:
            while b"READY=1" not in self.sock.recv(4096):
                pass
        except TimeoutError:
            self.__exit__()
            raise SystemExit("the kiosk did not show its first frame within 60 s") from None
        self.first_frame_s = time.monotonic() - started
        return self

    def cpu_percent(self, seconds: float) -> float:
        return procstat.cpu_percent(lambda: [self.proc.pid], seconds)

    def __exit__(self, *_exc: object) -> None:
        procstat.stop(self.proc)
        self.sock.close()


def files(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Every file under folder: (inode, size, mtime in ns). Two of these tell what changed."""
    out = {}
    for path in folder.rglob("*"):
        if path.is_file():
            st = path.stat()
            out[str(path.relative_to(folder))] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return out


def changed_files(before: dict, after: dict) -> int:
    """Files created, rewritten or removed between two readings of files()."""
    return sum(before.get(k) != v for k, v in after.items()) + len(before.keys() - after.keys())


def sync_once(config: Path, work: Path) -> dict[str, float]:
    """One `kiosk sync --once`: seconds, exit code, and bytes its process wrote to storage
    (the kernel's count of blocks it dirtied)."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "sync", "--once", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(work),
        cwd=ROOT,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "seconds": time.monotonic() - started,
        "exit": proc.returncode,
        "write_bytes": usage.ru_oublock * 512,
    }
