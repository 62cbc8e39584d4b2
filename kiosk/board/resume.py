"""Where the rotation was when the kiosk last stopped (player.json under storage.dir), so a
restart goes on from that item instead of the first one again."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from kiosk.core.fsutil import atomic_write

log = logging.getLogger(__name__)

RESUME_FILE = "player.json"


def read_resume(folder: Path) -> tuple[str, str] | None:
    """The item on screen when the last run stopped, from the file stop wrote; None when
    there is none or it is not what stop writes."""
    try:
        with (folder / RESUME_FILE).open("rb") as f:
            key = json.loads(f.read(4096)).get("current")
    except (OSError, ValueError, AttributeError, RecursionError):
        return None
    ok = isinstance(key, list) and len(key) == 2 and all(isinstance(k, str) for k in key)
    return (key[0], key[1]) if ok else None


def write_resume(folder: Path, current: tuple[str, str] | None) -> None:
    """At a stop (a restart the province asked for, an update, a reboot): one small write."""
    try:
        atomic_write(folder / RESUME_FILE, json.dumps({"current": current}).encode(), 0o640)
    except OSError as exc:
        log.warning("%s: cannot be written (%s)", folder / RESUME_FILE, exc)
