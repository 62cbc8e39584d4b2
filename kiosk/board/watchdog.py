"""systemd's notify protocol (sd_notify): READY=1 once the first frame is on screen,
WATCHDOG=1 from the frame loop itself, and a one-line STATUS=.

Fed from the player's loop, never from a thread of its own: if the loop hangs, the pings
stop and systemd restarts the kiosk (WatchdogSec in kiosk.service). Outside systemd
(no NOTIFY_SOCKET) every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

from kiosk.board.player import PlayerState

log = logging.getLogger(__name__)
STATUS_EVERY_S = 30.0


class Notifier:
    """Datagrams to $NOTIFY_SOCKET (a path, or an abstract name starting with @)."""

    def __init__(self, env: Mapping[str, str] = os.environ) -> None:
        path = env.get("NOTIFY_SOCKET", "")
        self.address = "\0" + path[1:] if path.startswith("@") else path
        self._sock: socket.socket | None = None
        if self.address:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def send(self, message: str) -> None:
        if self._sock is None:
            return
        try:
            self._sock.sendto(message.encode("utf-8", "replace"), self.address)
        except OSError as exc:  # systemd gone or the socket full: the kiosk goes on
            log.debug("sd_notify failed: %s", exc)


class Watchdog:
    """Called after each turn of the frame loop with the player's state."""

    def __init__(
        self,
        notifier: Notifier,
        status: Callable[[], str],
        env: Mapping[str, str] = os.environ,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.notifier, self.status, self.monotonic = notifier, status, monotonic
        usec = env.get("WATCHDOG_USEC", "")
        self.interval = int(usec) / 1e6 / 2 if usec.isdigit() and int(usec) > 0 else None
        self.ready = False
        self._last_ping = -float("inf")
        self._last_status = -float("inf")

    def __call__(self, state: PlayerState) -> None:
        if not self.notifier.enabled or state.frames == 0:
            return
        now = self.monotonic()
        lines = []
        if not self.ready:
            self.ready = True
            lines.append("READY=1")
        if self.interval is not None and now - self._last_ping >= self.interval:
            self._last_ping = now
            lines.append("WATCHDOG=1")
        if now - self._last_status >= STATUS_EVERY_S:
            self._last_status = now
            lines.append("STATUS=" + self.status().replace("\n", " ")[:200])
        if lines:
            self.notifier.send("\n".join(lines))
