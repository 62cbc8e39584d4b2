"""Rotation done by the kiosk itself: an upright (logical) frame onto the panel (physical).

`rotation` is the clockwise turn applied to the picture, for a panel mounted turned the
other way: a landscape 1920x1080 panel hung in portrait with rotation 90 shows an upright
1080x1920 picture.
"""

from __future__ import annotations

import pygame


class Orientation:
    def __init__(self, physical: tuple[int, int], rotation: int) -> None:
        if rotation not in (0, 90, 180, 270):
            raise ValueError(f"rotation must be 0, 90, 180 or 270, got {rotation}")
        self.physical = physical
        self.rotation = rotation
        w, h = physical
        self.logical = (h, w) if rotation in (90, 270) else (w, h)

    def to_physical(self, upright: pygame.Surface) -> pygame.Surface:
        if self.rotation == 0:
            return upright
        return pygame.transform.rotate(upright, -self.rotation)  # pygame turns anticlockwise

    def map_rect(self, rect: pygame.Rect) -> pygame.Rect:
        """Where a logical rectangle lands on the panel."""
        lw, lh = self.logical
        x, y, w, h = rect
        if self.rotation == 90:
            return pygame.Rect(lh - (y + h), x, h, w)
        if self.rotation == 180:
            return pygame.Rect(lw - (x + w), lh - (y + h), w, h)
        if self.rotation == 270:
            return pygame.Rect(y, lw - (x + w), h, w)
        return pygame.Rect(rect)
