"""The service button's overlay (where the board is, its addresses, a QR code to its status
page) over the slide for a while: asked for from any thread, drawn by the player's."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pygame

from kiosk.render.fonts import Fonts
from kiosk.render.overlay import draw_overlay

OVERLAY_S = 30.0


class ServiceOverlay:
    def __init__(self, fonts: Fonts) -> None:
        self.fonts = fonts
        # (title, lines, QR text), set by the program that wires the board
        self.text: Callable[[], tuple[str, list[str], str]] | None = None
        self._wanted = threading.Event()
        self._seconds = OVERLAY_S
        self.until: float | None = None  # monotonic end while shown

    def request(self, seconds: float = OVERLAY_S) -> None:
        """Show it for a while (the service button, a notice; any thread)."""
        self._seconds = seconds
        self._wanted.set()

    def composed(self, frame: pygame.Surface, mono: float) -> pygame.Surface | None:
        """The frame with the overlay drawn over it, when one was asked for since the last
        look (and it starts now), else None. The player's thread only."""
        if not self._wanted.is_set():
            return None
        self._wanted.clear()
        if self.text is None:
            return None
        composed = frame.copy()
        draw_overlay(composed, self.fonts, *self.text())
        self.until = mono + self._seconds
        return composed
