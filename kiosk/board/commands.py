"""The province's harmless commands (SPEC 1.6), carried by heartbeat replies: sync now, send
a screenshot, restart the player. None of them changes what is shown: content comes only
from signed manifests.

A reply is an unsigned network answer: anything but the documented shape is ignored, and a
command is carried out once by its id even when the province sends it again. What was done
is reported in the next heartbeat (the board sends that one at once), and a restart waits
until that report was taken, so a restarted board is never asked to restart again.

The ids carried out, and when the player was last restarted, are kept on disk: a small file,
written just before each restart, so at most RESTARTS_PER_HOUR times an hour. A province
(or whoever answers for it) repeating restart_player cannot restart the board again after
each restart: at most RESTARTS_PER_HOUR restarts an hour, whatever is asked."""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kiosk.core.fsutil import atomic_write
from kiosk.core.timeutil import parse_rfc3339

log = logging.getLogger(__name__)
TYPES = ("sync_now", "screenshot", "restart_player")
MAX_COMMANDS = 16  # of one reply
REMEMBERED = 256  # ids carried out, so a repeated one is not carried out twice
RESTARTS_PER_HOUR = 3
SCREENSHOT_GAP_S = 300.0  # at most one screenshot taken in this long, however many are asked
MAX_STATE_FILE = 64 * 1024
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")


def commands_of(reply: bytes) -> list[tuple[str, str]]:
    """(id, type) of each well-formed command of a reply; nothing for anything else."""
    try:
        doc = json.loads(reply) if reply.strip() else {}
    except (UnicodeDecodeError, ValueError, RecursionError):
        return []
    raw = doc.get("commands") if isinstance(doc, dict) else None
    if not isinstance(raw, list):
        return []
    out = []
    for c in raw[:MAX_COMMANDS]:
        if not isinstance(c, dict):
            continue
        ident, kind = c.get("id"), c.get("type")
        if isinstance(ident, str) and _ID.match(ident) and kind in TYPES:
            out.append((ident, kind))
    return out


class Commands:
    def __init__(
        self,
        sync_now: Callable[[], None],
        screenshot: Callable[[], bytes | None],
        restart: Callable[[], None],
        state_file: Path | None = None,
        now: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sync_now, self.screenshot, self.restart = sync_now, screenshot, restart
        self.state_file, self.now, self.monotonic = state_file, now, monotonic
        self._shot_at = -float("inf")  # when the last screenshot was taken (monotonic)
        self._lock = threading.Lock()
        self._seen: deque[str] = deque(maxlen=REMEMBERED)
        self._restarts: list[datetime] = []  # when the player was restarted, the last hour's
        self._done: list[str] = []
        self._jpeg: bytes | None = None
        self._restart_after: set[str] = set()
        self._load()

    def _load(self) -> None:
        """What earlier runs carried out; a missing or damaged file is a fresh start."""
        if self.state_file is None:
            return
        try:
            with self.state_file.open("rb") as f:
                doc = json.loads(f.read(MAX_STATE_FILE))
            seen = [i for i in doc.get("seen", []) if isinstance(i, str) and _ID.match(i)]
            restarts = [parse_rfc3339(t) for t in doc.get("restarts", [])][-RESTARTS_PER_HOUR:]
        except FileNotFoundError:
            return
        except (OSError, ValueError, TypeError, AttributeError, RecursionError) as exc:
            log.warning("%s: not used (%s)", self.state_file, type(exc).__name__)
            return
        self._seen.extend(seen[-REMEMBERED:])
        self._restarts = restarts

    def _save(self) -> None:
        """Called with the lock held, just before a restart: what this run carried out must
        outlive it."""
        if self.state_file is None:
            return
        doc = {"seen": list(self._seen),
               "restarts": [t.isoformat() for t in self._restarts]}  # fmt: skip
        try:
            atomic_write(self.state_file, json.dumps(doc).encode(), mode=0o640)
        except OSError as exc:
            log.warning("%s: cannot be written (%s)", self.state_file, exc)

    def _may_restart(self) -> bool:
        """At most RESTARTS_PER_HOUR in the last hour; noted when allowed."""
        if self.now is None:
            return True
        now = self.now()
        self._restarts = [t for t in self._restarts if now - t < timedelta(hours=1)]
        if len(self._restarts) >= RESTARTS_PER_HOUR:
            return False
        self._restarts.append(now)
        return True

    def take(self, reply: bytes) -> bool:
        """Carry out the reply's new commands. True when a report of them is waiting."""
        tried_shot = False  # one screenshot tried a reply at most: each may wait 2 s
        for ident, kind in commands_of(reply):
            with self._lock:
                if ident in self._seen:
                    continue
                self._seen.append(ident)
            log.info("the province asks for %s (%s)", kind, ident)
            if kind == "sync_now":
                self.sync_now()
            elif kind == "screenshot":
                # A screenshot costs a 4G SIM up to 200 KiB: one in SCREENSHOT_GAP_S at most;
                # a command within it is reported done, and the last one stands
                if not tried_shot and self.monotonic() - self._shot_at >= SCREENSHOT_GAP_S:
                    tried_shot = True
                    jpeg = self.screenshot()
                    if jpeg is not None:  # a loop too busy to hand a frame over: next time
                        self._shot_at = self.monotonic()
                        with self._lock:
                            self._jpeg = jpeg
            else:
                with self._lock:
                    self._restart_after.add(ident)
            with self._lock:
                self._done.append(ident)
        return self.waiting()

    def waiting(self) -> bool:
        with self._lock:
            return bool(self._done)

    def body(self) -> dict[str, Any]:
        """What the next heartbeat adds: the ids done, and the screenshot asked for."""
        with self._lock:
            extra: dict[str, Any] = {}
            if self._done:
                extra["done"] = list(self._done)
            if self._jpeg is not None:
                extra["screenshot"] = base64.b64encode(self._jpeg).decode("ascii")
            return extra

    def taken(self, body: dict[str, Any]) -> None:
        """The heartbeat that carried body got a 2xx: its report is delivered."""
        with self._lock:
            sent = set(body.get("done", ()))
            self._done = [i for i in self._done if i not in sent]
            if "screenshot" in body:
                self._jpeg = None
            restart = bool(self._restart_after & sent)
            self._restart_after -= sent
            if restart and not self._may_restart():
                log.warning("restart_player not done: %d restarts in the last hour already",
                            RESTARTS_PER_HOUR)  # fmt: skip
                restart = False
            elif restart:
                self._save()
        if restart:
            log.warning("restarting the player, as the province asked")
            self.restart()
