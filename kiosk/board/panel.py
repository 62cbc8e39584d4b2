"""The panel as the player draws on it: upright pictures, as the public reads them, turned
for the panel as it hangs, shown whole, in parts, or through a crossfade.

The player decides what to show; this knows how it reaches the glass. Kept apart so the
player's loop reads as a schedule, not as blits."""

from __future__ import annotations

import time

import pygame

from kiosk.board.display import Display
from kiosk.render.screen import Orientation

TIMINGS_KEPT = 120  # the last crossfade frames' times, for /health


class Panel:
    def __init__(self, display: Display, orientation: Orientation, crossfade_s: float) -> None:
        self.display, self.orientation, self.crossfade_s = display, orientation, crossfade_s

    def show(self, upright: pygame.Surface) -> None:
        """A whole picture at once (no crossfade)."""
        self.display.surface.blit(self.orientation.to_physical(upright), (0, 0))
        self.display.present()

    def show_part(self, upright: pygame.Surface, rect: pygame.Rect) -> None:
        """One region of the picture (the clock, the ticker band): only it is presented."""
        part = self.orientation.to_physical(upright.subsurface(rect))
        target = self.orientation.map_rect(rect)
        self.display.surface.blit(part, target)
        self.display.present([target])

    def crossfade(self, upright: pygame.Surface, timings: list[float]) -> None:
        """From the picture on the panel to this one over crossfade_s; each frame's time
        in ms is appended to timings (the last TIMINGS_KEPT kept)."""
        new = self.orientation.to_physical(upright)
        screen = self.display.surface
        if self.crossfade_s > 0:
            old = screen.copy()
            start = time.monotonic()
            while (elapsed := time.monotonic() - start) < self.crossfade_s:
                t0 = time.perf_counter()
                screen.blit(old, (0, 0))
                new.set_alpha(round(255 * elapsed / self.crossfade_s))
                screen.blit(new, (0, 0))
                self.display.present()
                timings.append((time.perf_counter() - t0) * 1000)
                del timings[:-TIMINGS_KEPT]
                self.display.pump()
            new.set_alpha(None)
        screen.blit(new, (0, 0))
        self.display.present()

    def black(self) -> pygame.Surface:
        """The panel black (off by display.on_hours); returns the black upright picture."""
        self.display.surface.fill((0, 0, 0))
        self.display.present()
        return pygame.Surface(self.orientation.logical)
