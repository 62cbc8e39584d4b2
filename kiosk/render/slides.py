"""Drawing the slide area: text slides, image slides, and the idle slide."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Protocol

import pygame

from kiosk.core.model import ImageItem, Item, TextItem
from kiosk.core.vietnamese import date_text, time_text
from kiosk.render.cache import BoundedCache
from kiosk.render.fonts import Fonts
from kiosk.render.images import ImageError, load_fitted
from kiosk.render.textlayout import TextLayout, fit_text
from kiosk.render.theme import Theme


class AssetLookup(Protocol):
    """Where a verified asset's bytes are; None when it is not (yet) stored."""

    def path(self, sha256: str) -> Path | None: ...


class Sizes:
    """Every size on screen, from the shorter side of the logical screen."""

    def __init__(self, logical: tuple[int, int]) -> None:
        self.unit = unit = min(logical)
        self.pad = round(unit * 0.04)
        self.min_text = round(unit * 0.045)  # legible across a street; smaller is paginated
        self.max_text = round(unit * 0.11)
        self.footer = round(unit * 0.05)
        self.frame = max(2, round(unit * 0.012))


class SlidePainter:
    def __init__(self, fonts: Fonts, assets: AssetLookup, sizes: Sizes) -> None:
        self.fonts, self.assets, self.sizes = fonts, assets, sizes
        self._layouts: BoundedCache[tuple[TextItem, int, int], TextLayout] = BoundedCache(32)
        # the slide on screen and the next: a 4K frame is 33 MB
        self._images: BoundedCache[tuple[str, tuple[int, int], str], pygame.Surface] = BoundedCache(
            2
        )

    def text_box(self, area: pygame.Rect) -> pygame.Rect:
        return area.inflate(-2 * self.sizes.pad, -2 * self.sizes.pad)

    def layout(self, item: TextItem, area: pygame.Rect) -> TextLayout:
        box = self.text_box(area)
        s = self.sizes
        return self._layouts.get(
            (item, box.width, box.height),
            lambda: fit_text(
                item.title,
                item.body,
                box.width,
                box.height,
                self.fonts,
                s.min_text,
                s.max_text,
                page_footer=s.footer,
            ),
        )

    def pages(self, item: Item, area: pygame.Rect) -> int:
        return len(self.layout(item, area).pages) if isinstance(item, TextItem) else 1

    def draw(
        self, surface: pygame.Surface, area: pygame.Rect, item: Item, page: int, theme: Theme
    ) -> None:
        """Raises ImageError when an image cannot be shown; the caller skips the item."""
        if isinstance(item, ImageItem):
            self._draw_image(surface, area, item, theme)
        elif isinstance(item, TextItem):
            self._draw_text(surface, area, item, page, theme)

    def _draw_text(
        self, surface: pygame.Surface, area: pygame.Rect, item: TextItem, page: int, theme: Theme
    ) -> None:
        surface.fill(theme.background, area)
        layout = self.layout(item, area)
        box = self.text_box(area)
        page = min(page, len(layout.pages) - 1)
        for line in layout.pages[page]:
            colour = theme.title if line.face == "bold" else theme.text
            self.fonts.draw(
                surface, line.text, line.face, line.size, colour, (box.x, box.y + line.y)
            )
        if len(layout.pages) > 1:
            size = round(self.sizes.footer * 0.6)
            label = f"Trang {page + 1}/{len(layout.pages)}"
            width = self.fonts.get("bold", size).size(label)[0]
            y = box.bottom - self.sizes.footer + (self.sizes.footer - size) // 2
            self.fonts.draw(surface, label, "bold", size, theme.title, (box.right - width, y))

    def _image(self, item: ImageItem, box: tuple[int, int]) -> pygame.Surface:
        def load() -> pygame.Surface:
            path = self.assets.path(item.asset.sha256)
            if path is None:
                raise ImageError(f"asset {item.asset.sha256[:12]}… is not stored")
            return load_fitted(path, box, item.fit)

        return self._images.get((item.asset.sha256, box, item.fit), load)

    def _draw_image(
        self, surface: pygame.Surface, area: pygame.Rect, item: ImageItem, theme: Theme
    ) -> None:
        image = self._image(item, area.size)
        surface.fill(item.background or theme.background, area)
        surface.blit(image, image.get_rect(center=area.center))
        if item.caption:
            self._draw_caption(surface, area, item.caption)

    def _draw_caption(self, surface: pygame.Surface, area: pygame.Rect, caption: str) -> None:
        s = self.sizes
        inner = s.pad // 2
        layout = fit_text(
            "",
            caption,
            area.width - 2 * s.pad,
            area.height // 3,
            self.fonts,
            round(s.unit * 0.035),
            round(s.unit * 0.05),
        )
        height = layout.height + 2 * inner
        band = pygame.Rect(area.x, area.bottom - height, area.width, height)
        shade = pygame.Surface(band.size, pygame.SRCALPHA)
        shade.fill((0, 0, 0, 200))
        surface.blit(shade, band)
        lines = layout.pages[0]
        centring = lines[0].y - self.fonts.headroom(lines[0].face, lines[0].size)
        for line in lines:
            top_left = (area.x + s.pad, band.y + inner + line.y - centring)
            self.fonts.draw(surface, line.text, line.face, line.size, (255, 255, 255), top_left)

    def draw_idle(
        self,
        surface: pygame.Surface,
        area: pygame.Rect,
        theme: Theme,
        local_now: datetime,
        unit_name: str,
        emergency: bool,
    ) -> None:
        """Never a black screen: the unit's name, the date and a large clock (or, during an
        emergency carried by tickers alone, the warning itself)."""
        surface.fill(theme.background, area)
        u = self.sizes.unit
        if emergency:
            rows = [
                (theme.label, "bold", round(u * 0.1), theme.title),
                (unit_name, "bold", round(u * 0.06), theme.text),
            ]
        else:
            rows = [
                (unit_name, "bold", round(u * 0.07), theme.text),
                (time_text(local_now), "bold", round(u * 0.2), theme.title),
                (date_text(local_now), "regular", round(u * 0.06), theme.text),
            ]
        width = area.width - 2 * self.sizes.pad
        fitted = []
        for text, face, size, colour in rows:
            while size > 8 and self.fonts.get(face, size).size(text)[0] > width:
                size -= max(1, size // 20)
            fitted.append((text, face, size, colour))
        pitches = [self.fonts.pitch(face, size) for _, face, size, _ in fitted]
        y = area.centery - sum(pitches) // 2
        for (text, face, size, colour), pitch in zip(fitted, pitches, strict=True):
            w = self.fonts.get(face, size).size(text)[0]
            self.fonts.draw(surface, text, face, size, colour, (area.centerx - w // 2, y))
            y += pitch
