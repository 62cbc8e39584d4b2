"""The content the player shows, and the one hand-over point between threads.

A sync thread builds a whole new Content and publishes it; the player picks it up between
frames. Nobody ever sees half a manifest: the swap is of one reference, under a lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from kiosk.core.schedule import ChannelContent
from kiosk.render.slides import AssetLookup


@dataclass(frozen=True)
class Content:
    channels: tuple[ChannelContent, ...]
    assets: AssetLookup


class ContentBox:
    def __init__(self, initial: Content) -> None:
        self._lock = threading.Lock()
        self._content = initial
        self._version = 0
        self._changed = threading.Event()

    def publish(self, content: Content) -> None:
        with self._lock:
            self._content = content
            self._version += 1
        self._changed.set()

    def current(self) -> tuple[Content, int]:
        with self._lock:
            return self._content, self._version

    def wait(self, timeout: float) -> bool:
        """Sleep up to timeout seconds; True at once when new content is published."""
        if self._changed.wait(max(0.0, timeout)):
            self._changed.clear()
            return True
        return False
