"""Figures of a process and its children, read from /proc (Linux): what `top` and `ps` show,
summed over a process tree, so a one-process kiosk and a many-process browser are measured
the same way."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None  # gone


def tree(pid: int) -> list[int]:
    """The process and all its living descendants."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(parents.get(p, ()))
    return found


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User and system CPU seconds of each process still alive."""
    out = {}
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            out[pid] = (int(fields[11]) + int(fields[12])) / TICK
    return out


def cpu_percent(pids: Callable[[], list[int]], seconds: float) -> float:
    """Percent of one core used over the next `seconds` by the processes pids() names, asked
    at both ends (a process that appears in between counts from zero)."""
    before = cpu_seconds(pids())
    t0 = time.monotonic()
    time.sleep(seconds)
    after = cpu_seconds(pids())
    used = sum(t - before.get(pid, 0.0) for pid, t in after.items())
    return 100 * used / (time.monotonic() - t0)


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after 15 s."""
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def memory_mb(pids: list[int]) -> dict[str, float]:
    """RSS and PSS summed over processes. PSS shares each shared page among its users, so
    a browser's many processes are not counted several times over."""
    rss = pss = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("Rss:"):
                rss += int(line.split()[1])
            elif line.startswith("Pss:"):
                pss += int(line.split()[1])
    return {"rss_mb": round(rss / 1024, 1), "pss_mb": round(pss / 1024, 1)}


def status_kb(pid: int | str, field: str) -> int | None:
    """A figure of /proc/PID/status in kB (VmRSS, VmHWM) or a count (Threads)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def open_fds(pid: int | str = "self") -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def is_root() -> bool:
    return os.geteuid() == 0
