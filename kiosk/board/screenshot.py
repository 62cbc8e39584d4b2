"""The frame on screen now, for /screenshot.png, taken safely across threads.

Only the player thread touches its surfaces (a blit into a surface another thread is saving
fails). So the health thread asks, and the player hands over a copy at its next turn
(within 0.25 s). The health thread encodes the PNG from that copy. A loop that hangs hands
nothing over, and the request times out: the screenshot itself shows the stall.

The PNG is encoded by Pillow, not pygame.image.save: pygame-ce 2.5 keeps every file object
it is given to write into (found by the soak: one BytesIO, with the PNG in it, per request).

One PNG serves every request for CACHE_S: a hundred phones (or a script) asking at once
cost one copy and one encode, not a hundred, and /health is not kept waiting behind them.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pygame
from PIL import Image

from kiosk.board.player import PlayerState

log = logging.getLogger(__name__)

MAX_JPEG = 200 * 1024
CACHE_S = 2.0  # a PNG this young is served again, to every request meanwhile


class Screenshots:
    def __init__(
        self, frame: Callable[[], pygame.Surface], monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.frame = frame  # the upright picture, as a passer-by sees it
        self.monotonic = monotonic
        self._lock = threading.Lock()  # one request at a time
        self._wanted = threading.Event()
        self._ready = threading.Event()
        self._copy: pygame.Surface | None = None
        self._png_lock = threading.Lock()  # one encode at a time; the rest take its PNG
        self._png: tuple[float, bytes] | None = None  # (when, the PNG): one, at most

    def __call__(self, _state: PlayerState) -> None:
        """From the player's loop: hand over a copy when one was asked for."""
        if self._wanted.is_set():
            self._copy = self.frame().copy()
            self._wanted.clear()
            self._ready.set()

    def _copy_of_frame(self, timeout: float) -> pygame.Surface | None:
        with self._lock:
            self._ready.clear()
            self._wanted.set()
            if not self._ready.wait(timeout):
                self._wanted.clear()
                return None
            copy, self._copy = self._copy, None
        return copy

    def _picture(self, timeout: float) -> Image.Image | None:
        copy = self._copy_of_frame(timeout)
        if copy is None:
            return None
        return Image.frombytes("RGB", copy.get_size(), pygame.image.tobytes(copy, "RGB"))

    def png(self, timeout: float = 2.0) -> bytes | None:
        """From any other thread: the PNG of the frame on screen (at most CACHE_S old), or
        None if the loop did not turn within timeout."""
        with self._png_lock:
            if self._png is not None and self.monotonic() - self._png[0] < CACHE_S:
                return self._png[1]
            picture = self._picture(timeout)
            if picture is None:
                return None
            out = io.BytesIO()
            picture.save(out, "PNG", compress_level=3)
            self._png = (self.monotonic(), out.getvalue())
            return self._png[1]

    def jpeg(self, max_bytes: int = MAX_JPEG, timeout: float = 2.0) -> bytes | None:
        """The frame on screen as a JPEG of at most max_bytes (SPEC 1.6: 200 KiB), for the
        province: smaller quality first, then a smaller picture, until it fits."""
        picture = self._picture(timeout)
        while picture is not None and min(picture.size) >= 60:
            for quality in (80, 60, 40):
                out = io.BytesIO()
                picture.save(out, "JPEG", quality=quality)
                if out.tell() <= max_bytes:
                    return out.getvalue()
            picture = picture.resize((picture.width // 2, picture.height // 2))
        return None


def save_snapshot(path: Path, frame: pygame.Surface) -> None:
    """The picture as the public sees it, replaced atomically (never a half-written PNG)."""
    fd, tmp = tempfile.mkstemp(prefix=".snapshot-", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        pygame.image.save(frame, tmp)
        os.replace(tmp, path)
    except (OSError, pygame.error) as exc:
        log.warning("cannot write the snapshot %s: %s", path, exc)
        Path(tmp).unlink(missing_ok=True)
