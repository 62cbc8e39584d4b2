"""The bundled faces (Noto Sans, SIL OFL 1.1) through pygame.font (SDL_ttf with HarfBuzz).

Never pygame.freetype: it misplaces decomposed marks.
"""

from __future__ import annotations

import io

import pygame

from kiosk.paths import FONTS_DIR
from kiosk.render.cache import BoundedCache

FACES = {
    "regular": "NotoSans-Regular.ttf",
    "bold": "NotoSans-Bold.ttf",
}
# Capitals with stacked marks reach above the font's ascent; SDL_ttf then grows the line
# surface upward. We measure how far once, and reserve that room above a text box's first line.
_TALLEST = "ẤẦẨẪẬẮẰẲẴẶẾỀỂỄỆỐỒỔỖỘỚỜỞỠỢỨỪỬỮỰǺ"


class Fonts:
    """Fonts by face and pixel size, created on demand and kept in a bounded cache."""

    def __init__(self, max_cached: int = 48) -> None:
        if not pygame.font.get_init():
            pygame.font.init()
        self._data = {face: (FONTS_DIR / name).read_bytes() for face, name in FACES.items()}
        self._cache: BoundedCache[tuple[str, int], pygame.font.Font] = BoundedCache(max_cached)
        self._headroom: dict[str, float] = {}

    def get(self, face: str, size: int) -> pygame.font.Font:
        px = max(4, int(size))
        return self._cache.get(
            (face, px), lambda: pygame.font.Font(io.BytesIO(self._data[face]), px)
        )

    def headroom(self, face: str, size: int) -> int:
        """Pixels that stacked diacritics may rise above a line's box at this size."""
        if face not in self._headroom:
            probe = self.get(face, 100)
            extra = max(probe.size(ch)[1] for ch in _TALLEST) - probe.get_height()
            self._headroom[face] = max(0, extra) / 100
        return int(self._headroom[face] * size + 0.999)

    def pitch(self, face: str, size: int) -> int:
        """Distance between baselines: the font's line size with room for stacked marks."""
        return int(self.get(face, size).get_linesize() * 1.12)

    def draw(
        self,
        surface: pygame.Surface,
        text: str,
        face: str,
        size: int,
        colour: tuple[int, int, int],
        top_left: tuple[int, int],
    ) -> pygame.Rect:
        """Draw one line with its line box at top_left, baselines aligned whatever its marks."""
        font = self.get(face, size)
        rendered = font.render(text, True, colour)
        rise = rendered.get_height() - font.get_height()
        return surface.blit(rendered, (top_left[0], top_left[1] - rise))
