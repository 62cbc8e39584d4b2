"""The screen, behind a small interface: a desktop window, the console (KMS/DRM), or none.

Only pygame's display and font are initialised: a board has no sound device, and
pygame.init() would try to open one.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol

import pygame

log = logging.getLogger(__name__)
HEADLESS_SIZE = (1920, 1080)


class Display(Protocol):
    surface: pygame.Surface  # the panel's pixels (physical orientation)
    mode: str  # "window", "console" or "headless"

    def present(self, rects: list[pygame.Rect] | None = None) -> None:
        """Show what was drawn: the whole surface, or only these rectangles."""

    def pump(self) -> bool:
        """Handle window events; False once the window was closed."""

    def close(self) -> None: ...


def has_desktop() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def has_console_screen() -> bool:
    return any(Path("/dev/dri").glob("card*"))


class PygameDisplay:
    def __init__(self, size: tuple[int, int] | None, headless: bool) -> None:
        """size None is the screen's own size. Without a desktop or a usable console screen
        the kiosk runs headless (off-screen) rather than not at all."""
        self.mode = "headless"
        if not headless and has_desktop():
            self.mode = "window"
        elif not headless and has_console_screen():
            self.mode = "console"
        if self.mode == "headless":
            os.environ["SDL_VIDEODRIVER"] = "dummy"
        try:
            self.surface = self._open(size)
        except pygame.error as exc:
            if self.mode == "headless":
                raise
            log.error("cannot open the %s screen (%s); running headless", self.mode, exc)
            pygame.display.quit()
            os.environ["SDL_VIDEODRIVER"] = "dummy"
            self.mode = "headless"
            self.surface = self._open(size)
        log.info("display: %s, %dx%d", self.mode, *self.surface.get_size())

    def _open(self, size: tuple[int, int] | None) -> pygame.Surface:
        pygame.display.init()
        pygame.font.init()
        if self.mode == "window":
            pygame.display.set_caption("Bảng tin điện tử")
            return pygame.display.set_mode(size or HEADLESS_SIZE, pygame.SCALED | pygame.RESIZABLE)
        if self.mode == "console":
            pygame.mouse.set_visible(False)
            return pygame.display.set_mode(size or (0, 0), pygame.FULLSCREEN)
        return pygame.display.set_mode(size or HEADLESS_SIZE)

    def present(self, rects: list[pygame.Rect] | None = None) -> None:
        if rects is None:
            pygame.display.flip()
        else:
            pygame.display.update(rects)

    def pump(self) -> bool:
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                return False
            if event.type == pygame.KEYDOWN and event.key in (pygame.K_ESCAPE, pygame.K_q):
                return self.mode == "console"  # a window closes; the board's keyboard may not
        return True

    def close(self) -> None:
        pygame.display.quit()
