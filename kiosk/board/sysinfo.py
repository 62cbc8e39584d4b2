"""The machine's own figures for health: temperature, the firmware's throttling flags, load,
memory and disk. Each is None where this machine cannot say (a laptop has no firmware
flags, a container may have no thermal zone): a health report never guesses.

`root` is "/" on a board; tests point it at a folder laid out like /sys and /proc.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

THERMAL = "sys/class/thermal/thermal_zone0/temp"  # millidegrees Celsius
THROTTLED = "sys/devices/platform/soc/soc:firmware/get_throttled"  # hex flags (Raspberry Pi)
MEMINFO = "proc/meminfo"
LOADAVG = "proc/loadavg"


@dataclass(frozen=True)
class SystemFigures:
    cpu_temp_c: float | None
    throttled: int | None
    load_1m: float | None
    mem_available_mb: float | None
    disk_free_mb: float | None


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def cpu_temp_c(root: Path) -> float | None:
    text = _read(root / THERMAL)
    try:
        return round(int(text) / 1000, 1) if text is not None else None
    except ValueError:
        return None


def throttled(root: Path) -> int | None:
    text = _read(root / THROTTLED)
    try:
        return int(text, 16) if text is not None else None
    except ValueError:
        return None


def load_1m(root: Path) -> float | None:
    text = _read(root / LOADAVG)
    try:
        return float(text.split()[0]) if text else None
    except (ValueError, IndexError):
        return None


def mem_available_mb(root: Path) -> float | None:
    for line in (_read(root / MEMINFO) or "").splitlines():
        if line.startswith("MemAvailable:"):
            try:
                return round(int(line.split()[1]) / 1024, 1)  # the file counts kB
            except (ValueError, IndexError):
                return None
    return None


def disk_free_mb(folder: Path) -> float | None:
    try:
        return round(shutil.disk_usage(folder).free / (1024 * 1024), 1)
    except OSError:
        return None


def read_figures(storage: Path, root: Path = Path("/")) -> SystemFigures:
    return SystemFigures(
        cpu_temp_c=cpu_temp_c(root),
        throttled=throttled(root),
        load_1m=load_1m(root),
        mem_available_mb=mem_available_mb(root),
        disk_free_mb=disk_free_mb(storage),
    )
