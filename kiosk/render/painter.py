"""A whole frame, upright: header, optional label band, slide, ticker band (SPEC 2.2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pygame

from kiosk.core.model import Item
from kiosk.core.vietnamese import header_text
from kiosk.render.fonts import Fonts
from kiosk.render.slides import AssetLookup, Sizes, SlidePainter
from kiosk.render.theme import Theme
from kiosk.render.ticker import TickerStrip


@dataclass(frozen=True)
class View:
    """What the slide area shows: an item's page, or the idle slide when item is None."""

    theme: Theme
    item: Item | None = None
    page: int = 0
    emergency: bool = False


@dataclass(frozen=True)
class Regions:
    header: pygame.Rect
    label: pygame.Rect | None
    slide: pygame.Rect  # inside the frame, if the theme has one
    framed: pygame.Rect  # the slide area with its frame
    ticker: pygame.Rect | None


class FramePainter:
    def __init__(
        self, logical: tuple[int, int], fonts: Fonts, assets: AssetLookup, unit_name: str
    ) -> None:
        self.logical = logical
        self.fonts = fonts
        self.sizes = Sizes(logical)
        self.slides = SlidePainter(fonts, assets, self.sizes)
        self.unit_name = unit_name

    def regions(self, theme: Theme, with_ticker: bool) -> Regions:
        w, h = self.logical
        u = self.sizes.unit
        header_h = round(u * 0.1)
        ticker_h = round(u * 0.1) if with_ticker else 0
        label_h = round(u * 0.08) if theme.label else 0
        header = pygame.Rect(0, 0, w, header_h)
        label = pygame.Rect(0, header_h, w, label_h) if label_h else None
        framed = pygame.Rect(0, header_h + label_h, w, h - header_h - label_h - ticker_h)
        inset = self.sizes.frame if theme.frame else 0
        slide = framed.inflate(-2 * inset, -2 * inset)
        ticker = pygame.Rect(0, h - ticker_h, w, ticker_h) if ticker_h else None
        return Regions(header, label, slide, framed, ticker)

    def header(self, surface: pygame.Surface, rect: pygame.Rect, theme: Theme, local: datetime):
        surface.fill(theme.header_bg, rect)
        pad = self.sizes.pad // 2
        when = header_text(local)
        size = round(rect.height * 0.42)
        while size > 8:
            name_w = self.fonts.get("bold", size).size(self.unit_name)[0]
            when_w = self.fonts.get("regular", size).size(when)[0]
            if name_w + when_w + 3 * pad <= rect.width:
                break
            size -= 1
        y = rect.y + (rect.height - self.fonts.get("regular", size).get_height()) // 2
        self.fonts.draw(surface, self.unit_name, "bold", size, theme.header_text, (pad, y))
        x = rect.right - pad - self.fonts.get("regular", size).size(when)[0]
        self.fonts.draw(surface, when, "regular", size, theme.header_text, (x, y))

    def label(self, surface: pygame.Surface, rect: pygame.Rect, theme: Theme) -> None:
        """The priority or emergency label, with warning signs on both sides in an emergency."""
        surface.fill(theme.header_bg, rect)
        size = round(rect.height * 0.6)
        font = self.fonts.get("bold", size)
        width = font.size(theme.label)[0]
        x = rect.centerx - width // 2
        y = rect.y + (rect.height - font.get_height()) // 2
        self.fonts.draw(surface, theme.label, "bold", size, theme.header_text, (x, y))
        if theme.name == "emergency":
            side = round(rect.height * 0.7)
            for cx in (x - side, x + width + side):
                self._warning_sign(surface, (cx, rect.centery), side, theme)

    @staticmethod
    def _warning_sign(surface: pygame.Surface, centre: tuple[int, int], side: int, theme: Theme):
        cx, cy = centre
        half = side // 2
        points = [(cx, cy - half), (cx + half, cy + half), (cx - half, cy + half)]
        pygame.draw.polygon(surface, theme.header_text, points)
        bar = max(2, side // 9)
        pygame.draw.rect(surface, theme.header_bg, (cx - bar // 2, cy - half // 3, bar, half // 2))
        pygame.draw.rect(surface, theme.header_bg, (cx - bar // 2, cy + half // 3, bar, bar))

    def slide(self, surface: pygame.Surface, regions: Regions, view: View, local: datetime) -> None:
        """The slide area and its frame. Raises ImageError for an image that cannot be shown."""
        theme = view.theme
        if theme.frame:
            surface.fill(theme.frame, regions.framed)
        if view.item is None:
            self.slides.draw_idle(
                surface, regions.slide, theme, local, self.unit_name, view.emergency
            )
        else:
            self.slides.draw(surface, regions.slide, view.item, view.page, theme)

    def paint(
        self,
        surface: pygame.Surface,
        view: View,
        local: datetime,
        ticker: TickerStrip | None = None,
        scrolled: float = 0.0,
    ) -> Regions:
        """The whole frame. Raises ImageError for an image that cannot be shown, leaving the
        surface partly drawn: paint into a scratch surface."""
        regions = self.regions(view.theme, ticker is not None)
        self.slide(surface, regions, view, local)
        self.header(surface, regions.header, view.theme, local)
        if regions.label is not None:
            self.label(surface, regions.label, view.theme)
        if ticker is not None and regions.ticker is not None:
            ticker.draw(
                surface, regions.ticker, scrolled, view.theme.ticker_bg, view.theme.ticker_text
            )
        return regions

    def ticker_strip(self, texts: tuple[str, ...]) -> TickerStrip | None:
        if not texts:
            return None
        return TickerStrip(texts, self.fonts, round(self.sizes.unit * 0.1))
