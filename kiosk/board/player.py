"""The player loop: what the schedule says, on the screen, drawing only what changes.

It sleeps until the next thing that can change the picture (the slide's end, the schedule's
next change, the clock's next minute, the ticker's next frame) or until new content is
published, so a static slide costs almost nothing and an emergency shows at once.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

import pygame

from kiosk.board.content import Content, ContentBox
from kiosk.board.display import Display
from kiosk.board.panel import Panel
from kiosk.board.serviceoverlay import OVERLAY_S, ServiceOverlay
from kiosk.core.schedule import Entry, Rotation, follow, next_change, rotation_at
from kiosk.core.textrules import printable
from kiosk.render.fonts import Fonts
from kiosk.render.images import ImageError
from kiosk.render.painter import FramePainter, Regions, View
from kiosk.render.screen import Orientation
from kiosk.render.theme import NORMAL, theme_for
from kiosk.render.ticker import Scrolling

log = logging.getLogger(__name__)

CROSSFADE_S = 0.5
TICKER_FPS = 30
PUMP_S = 0.25  # window events and the stop flag are looked at this often, at least
MAX_PROBLEMS = 500  # bounded like the manifest's items


@dataclass
class PlayerState:
    """What a health report needs from the player; written by the player thread only."""

    current: tuple[str, str] | None = None  # (channel, item id) on screen, None when idle
    showings: int = 0  # slides begun so far: an item alone on screen begins again each turn
    # (the item's key, its label) read together by other threads: never a mismatched pair
    current_label: tuple[tuple[str, str], str] | None = None
    emergency: bool = False
    items_active: int = 0
    last_tick: float = 0.0  # monotonic time of the last loop iteration
    frames: int = 0
    problems: dict[tuple[str, str], str] = field(default_factory=dict)  # item -> why skipped
    transition_ms: list[float] = field(default_factory=list)  # recent crossfade frame times
    display_state: str = "on"  # "on", or "off_scheduled" while dark by display.on_hours
    failed_turns: int = 0  # turns of the loop that raised (a bug); the loop went on


class Player:
    def __init__(
        self,
        box: ContentBox,
        display: Display,
        orientation: Orientation,
        tz: tzinfo,
        unit_name: str,
        clock: Callable[[], datetime],
        on_slide: Callable[[pygame.Surface], None] | None = None,
        crossfade_s: float = CROSSFADE_S,
        monotonic: Callable[[], float] = time.monotonic,
        screen_on: Callable[[datetime, bool], bool] = lambda _local, _emergency: True,
    ) -> None:
        self.box, self.display, self.orientation = box, display, orientation
        self.panel = Panel(display, orientation, crossfade_s)
        self.tz, self.clock, self.on_slide = tz, clock, on_slide
        self.monotonic = monotonic
        self.screen_on = screen_on  # (local time, emergency active) -> whether to show
        self._dark = False
        self.fonts = Fonts()
        self.overlay = ServiceOverlay(self.fonts)  # its text is set by who wires the board
        self.unit_name = unit_name
        self.state = PlayerState()
        self.frame = pygame.Surface(orientation.logical)  # upright, as the public sees it
        self._content: Content | None = None
        self._version = -1
        self._painter = FramePainter(
            orientation.logical, self.fonts, box.current()[0].assets, unit_name
        )
        self._rotation = Rotation((), (), False)
        self._next_change: datetime | None = None
        self._index = -1
        self._page = 0
        self._entry: Entry | None = None
        self._view = View(NORMAL)
        self._regions: Regions | None = None
        self._slide_end = math.inf
        self._minute = -1
        self._ticker = Scrolling()
        # the item on screen when the last run stopped: the rotation goes on from it
        self.resume_at: tuple[str, str] | None = None

    # -- content and schedule -------------------------------------------------------------

    def _take_content(self) -> bool:
        content, version = self.box.current()
        if version == self._version:
            return False
        self._content, self._version = content, version
        # assets are named by their hash, so cached images stay valid: only the lookup changes
        self._painter.slides.assets = content.assets
        return True

    def _reschedule(self, now: datetime) -> str | None:
        """Recompute the rotation. Returns "restart" when the slide on screen must change now,
        "repaint" when only the tickers changed, None when the picture stays."""
        assert self._content is not None
        channels = self._content.channels
        rotation = rotation_at(channels, now, self.tz)
        self._next_change = next_change(channels, now, self.tz)
        self.state.items_active = len(rotation.slides) + len(rotation.tickers)
        self.state.emergency = rotation.emergency
        keys = {e.key for e in rotation.slides}
        self.state.problems = {k: v for k, v in self.state.problems.items() if k in keys}
        old, self._rotation = self._rotation, rotation
        followed = follow(old, rotation, self._entry, self.resume_at)
        if followed.index is not None:
            self._index = followed.index
        if followed.resumed:
            self.resume_at = None
        return followed.action

    # -- drawing ----------------------------------------------------------------------------

    def _paint(self, view: View, local: datetime, mono: float) -> pygame.Surface:
        """The whole frame for a view, into a scratch surface. Raises ImageError."""
        scratch = pygame.Surface(self.orientation.logical)
        texts = tuple(e.item.text for e in self._rotation.tickers)  # type: ignore[attr-defined]
        strip = self._ticker.strip_for(texts, self._painter.ticker_strip, self.monotonic())
        scrolled = self._ticker.scrolled(mono)
        self._regions = self._painter.paint(scratch, view, local, strip, scrolled)
        return scratch

    def _choose(self, local: datetime, mono: float, restart: bool) -> None:
        """Move to the next page or slide (skipping items that cannot be shown) and show it."""
        slides = self._rotation.slides
        emergency = self._rotation.emergency
        if not restart and self._entry is not None and self._regions is not None:
            pages = self._painter.slides.pages(self._entry.item, self._regions.slide)
            if self._page + 1 < pages and self._entry in slides:
                view = View(self._view.theme, self._entry.item, self._page + 1, emergency)
                self._page += 1
                self._transition(self._paint(view, local, mono), view)
                return
        for _ in range(len(slides)):
            self._index = (self._index + 1) % len(slides)
            entry = slides[self._index]
            view = View(theme_for(entry.item.priority, emergency), entry.item, 0, emergency)
            try:
                frame = self._paint(view, local, mono)
            except Exception as exc:  # an image that will not decode, or any drawing bug:
                # that slide is skipped, the rest of the rotation plays
                code = exc.code if isinstance(exc, ImageError) else "item_invalid"
                why = printable(str(exc)) if isinstance(exc, ImageError) else repr(exc)[:200]
                if entry.key not in self.state.problems:
                    log.warning("skipping %s/%s: %s: %s", *entry.key, code, why)
                if len(self.state.problems) < MAX_PROBLEMS:
                    self.state.problems[entry.key] = f"{code}: {why}"
                continue
            self.state.problems.pop(entry.key, None)
            self._entry, self._page = entry, 0
            self.state.showings += 1
            self._transition(frame, view)
            return
        self._entry, self._index, self._page = None, -1, 0  # nothing showable: the idle slide
        view = View(theme_for(None, emergency), None, 0, emergency)
        self._transition(self._paint(view, local, mono), view)

    def _transition(self, frame: pygame.Surface, view: View) -> None:
        """Crossfade from the picture on screen to the new frame."""
        self._view = view
        self.state.current = self._entry.key if self._entry else None
        self.state.current_label = (
            (self._entry.key, self._entry.item.label) if self._entry else None
        )
        if self.state.frames:
            self.panel.crossfade(frame, self.state.transition_ms)
        else:
            self.panel.show(frame)
        self.frame = frame
        self.state.frames += 1
        if self.state.frames == 1:
            log.info("first frame on screen")
        duration = view.item.duration if view.item is not None else math.inf
        self._slide_end = self.monotonic() + duration
        if self.on_slide is not None:
            self.on_slide(frame)

    def _repaint(self, local: datetime, mono: float) -> None:
        """The same slide drawn again at once (the tickers changed), without a crossfade."""
        try:
            frame = self._paint(self._view, local, mono)
        except Exception:  # the slide cannot be drawn again: _choose skips and names it
            self._choose(local, mono, restart=True)
            return
        self.frame = frame
        self.panel.show(frame)

    def _tick_clock(self, local: datetime) -> None:
        """Each minute: the header's clock, and the idle slide's big clock."""
        minute = local.hour * 60 + local.minute
        if minute == self._minute or self._regions is None:
            return
        first = self._minute == -1
        self._minute = minute
        if first:
            return
        self._painter.header(self.frame, self._regions.header, self._view.theme, local)
        self.panel.show_part(self.frame, self._regions.header)
        if self._view.item is None:
            self._painter.slide(self.frame, self._regions, self._view, local)
            self.panel.show_part(self.frame, self._regions.framed)

    def _tick_ticker(self, mono: float) -> None:
        strip = self._ticker.strip
        if strip is None or self._regions is None or self._regions.ticker is None:
            return
        band, theme = self._regions.ticker, self._view.theme
        strip.draw(
            self.frame, band, self._ticker.scrolled(mono), theme.ticker_bg, theme.ticker_text
        )
        self.panel.show_part(self.frame, band)

    # -- the loop ---------------------------------------------------------------------------

    def step(self) -> float:
        """One turn of the loop; returns how long to sleep before the next."""
        mono = self.monotonic()
        self.state.last_tick = mono
        now = self.clock()
        local = now.astimezone(self.tz)
        changed = self._take_content()
        due = self._next_change is not None and now >= self._next_change
        action = self._reschedule(now) if changed or due else None
        if (composed := self.overlay.composed(self.frame, mono)) is not None:
            self.panel.show(composed)
        if (until := self.overlay.until) is not None:
            if mono < until and action is None:
                return min(PUMP_S, until - mono)
            self.overlay.until = None  # its time is up, or the content changed (an emergency?)
            self.panel.show(self.frame)
        if not self.screen_on(local, self.state.emergency):
            self._go_dark()
            return PUMP_S
        if self._dark:  # on again (the hours began, or an emergency): start the rotation
            self._dark, self.state.display_state = False, "on"
            action = "restart"
        if action == "restart" or self.state.frames == 0:
            self._choose(local, mono, restart=True)
            mono = self.monotonic()
        elif action == "repaint":
            self._repaint(local, mono)
        if mono >= self._slide_end:
            self._choose(local, mono, restart=False)
            mono = self.monotonic()
        self._tick_clock(local)
        self._tick_ticker(mono)
        return self._sleep_for(now, mono)

    def request_overlay(self, seconds: float = OVERLAY_S) -> None:
        """Show the diagnostic overlay for a while (the service button; any thread)."""
        self.overlay.request(seconds)

    def _go_dark(self) -> None:
        """Off by display.on_hours: one black frame, then the loop only watches the clock
        and the content (an emergency turns the screen on at once)."""
        if self._dark:
            return
        self._dark, self.state.display_state = True, "off_scheduled"
        self._entry, self._index, self._page = None, -1, 0
        self._slide_end = math.inf
        self.state.current = self.state.current_label = None
        self.frame = self.panel.black()
        self.state.frames += 1
        if self.on_slide is not None:
            self.on_slide(self.frame)

    def _sleep_for(self, now: datetime, mono: float) -> float:
        waits = [PUMP_S, self._slide_end - mono]
        if self._ticker.strip is not None:
            waits.append(1 / TICKER_FPS)
        next_minute = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        waits.append((next_minute - now).total_seconds())
        if self._next_change is not None:
            waits.append((self._next_change - now).total_seconds())
        return max(0.0, min(waits))
