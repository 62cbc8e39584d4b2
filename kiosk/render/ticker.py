"""The ticker band: active ticker lines joined by a separator, scrolling right to left.

The strip is measured once and drawn in short chunks rendered only while they are on
screen (a small cache), so a long ticker at 4K never needs one huge surface.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pygame

from kiosk.render.cache import BoundedCache
from kiosk.render.fonts import Fonts

SEPARATOR = "   •   "
FACE = "bold"
CHUNK_CHARS = 24
SPEED_EM_PER_S = 4.0  # about eight characters a second: readable in passing


@dataclass(frozen=True)
class _Chunk:
    text: str
    x: int
    width: int


class TickerStrip:
    def __init__(self, texts: tuple[str, ...], fonts: Fonts, band_height: int) -> None:
        self.fonts = fonts
        self.size = max(8, round(band_height * 0.52))
        self.font = fonts.get(FACE, self.size)
        self.speed = SPEED_EM_PER_S * self.size  # pixels a second
        self.texts = texts
        self._chunks: list[_Chunk] = []
        x = 0
        for text in texts:
            for piece in [*self._split(text), SEPARATOR]:
                width = self.font.size(piece)[0]
                self._chunks.append(_Chunk(piece, x, width))
                x += width
        self.length = max(1, x)  # one cycle of the strip, in pixels
        self._rendered: BoundedCache[tuple[str, tuple[int, int, int]], pygame.Surface] = (
            BoundedCache(64)
        )

    @staticmethod
    def _split(text: str) -> list[str]:
        words = text.split()
        out, current = [], ""
        for word in words:
            current = f"{current}{word} "
            if len(current) >= CHUNK_CHARS:
                out.append(current)
                current = ""
        if current:
            out.append(current.rstrip())
        return out

    def _surface(self, text: str, colour: tuple[int, int, int]) -> pygame.Surface:
        return self._rendered.get((text, colour), lambda: self.font.render(text, True, colour))

    def draw(
        self,
        surface: pygame.Surface,
        band: pygame.Rect,
        scrolled: float,
        background: tuple[int, int, int],
        colour: tuple[int, int, int],
    ) -> None:
        """The band after `scrolled` pixels of movement; at 0 the strip enters from the right,
        at band.width it starts at the left edge."""
        surface.fill(background, band)
        if not self._chunks:
            return
        position = int(scrolled) - band.width  # strip x at the band's left edge
        top = band.y + (band.height - self.font.get_height()) // 2
        clip = surface.get_clip()
        surface.set_clip(band)
        try:
            # the first pass enters from the right; later ones follow each other, looping
            base = -position if position < 0 else -(position % self.length)
            while base < band.width:
                for chunk in self._chunks:
                    x = base + chunk.x
                    if x + chunk.width <= 0:
                        continue
                    if x >= band.width:
                        break
                    img = self._surface(chunk.text, colour)
                    rise = img.get_height() - self.font.get_height()
                    surface.blit(img, (band.x + x, top - rise))
                base += self.length
        finally:
            surface.set_clip(clip)


class Scrolling:
    """The strip of the active tickers, kept (and scrolling on) across slide changes: made
    again only when the tickers change."""

    def __init__(self) -> None:
        self.strip: TickerStrip | None = None
        self._texts: tuple[str, ...] = ()
        self._t0 = 0.0

    def strip_for(
        self, texts: tuple[str, ...], make: Callable[[tuple[str, ...]], TickerStrip | None],
        mono: float,
    ) -> TickerStrip | None:  # fmt: skip
        if texts != self._texts or (texts and self.strip is None):
            self._texts, self.strip, self._t0 = texts, make(texts), mono
        return self.strip

    def scrolled(self, mono: float) -> float:
        """Pixels moved since the strip was made (0: it enters from the right)."""
        return (mono - self._t0) * self.strip.speed if self.strip else 0.0
