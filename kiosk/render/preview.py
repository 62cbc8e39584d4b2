"""`kiosk render`: an item or a playlist to PNG, without a screen, for content authors.

A playlist renders every slide (each page of a long text), whatever its schedule, so an
author sees all of them; the ticker band carries the tickers active at --at.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pygame

from kiosk.core.authoring import FileAssets, PlaylistError, authored_item, load_playlist
from kiosk.core.config import Config, default_config, load_config
from kiosk.core.errors import UsageError
from kiosk.core.model import Item, ItemError
from kiosk.core.schedule import ChannelContent, rotation_at
from kiosk.core.timeutil import parse_rfc3339
from kiosk.render.fonts import Fonts
from kiosk.render.images import ImageError
from kiosk.render.painter import FramePainter, View
from kiosk.render.screen import Orientation
from kiosk.render.theme import theme_for


@dataclass(frozen=True)
class Shot:
    name: str
    image: pygame.Surface


class Previewer:
    """Renders views into physical (rotated) frames as the panel would receive them."""

    def __init__(self, config: Config, size: tuple[int, int], rotation: int, assets) -> None:
        self.orientation = Orientation(size, rotation)
        self.tz = config.device.tz
        self.painter = FramePainter(
            self.orientation.logical, Fonts(), assets, config.device.unit_name
        )

    def frame(self, view: View, at: datetime, tickers: tuple[str, ...]) -> pygame.Surface:
        surface = pygame.Surface(self.orientation.logical)
        strip = self.painter.ticker_strip(tickers)
        # scrolled by one band width: the ticker text starts at the left edge
        self.painter.paint(surface, view, at.astimezone(self.tz), strip, scrolled=surface.width)
        return self.orientation.to_physical(surface)

    def item_shots(self, items: tuple[Item, ...], at: datetime) -> tuple[list[Shot], list[str]]:
        """A frame for every page of every slide item, and the problems met."""
        every = rotation_at([ChannelContent("preview", items)], at, self.tz).tickers
        tickers = [e.item for e in every]  # in the player's order: priority first
        slides = [i for i in items if not i.is_ticker]
        shots, problems = [], []
        if not slides:
            emergency = any(t.priority == "emergency" for t in tickers)
            texts = tuple(t.text for t in tickers if t.priority == "emergency" or not emergency)
            view = View(theme_for(None, emergency), None, emergency=emergency)
            return [Shot("idle", self.frame(view, at, texts))], problems
        for n, item in enumerate(slides):
            emergency = item.priority == "emergency"
            texts = tuple(t.text for t in tickers if (t.priority == "emergency") == emergency)
            theme = theme_for(item.priority, emergency)
            regions = self.painter.regions(theme, bool(texts))
            for page in range(self.painter.slides.pages(item, regions.slide)):
                name = f"{n + 1:02d}-{item.id}" + (f"-p{page + 1}" if page else "")
                try:
                    shots.append(Shot(name, self.frame(View(theme, item, page), at, texts)))
                except ImageError as exc:
                    problems.append(f"item '{item.id}': {exc.code}: {exc}")
                    break
        return shots, problems


def contact_sheet(shots: list[Shot], fonts: Fonts) -> pygame.Surface:
    """All shots on one sheet, each labelled with its file name."""
    cols = max(1, math.ceil(math.sqrt(len(shots))))
    rows = math.ceil(len(shots) / cols)
    first = shots[0].image
    thumb_w = 640
    thumb_h = round(first.get_height() * thumb_w / first.get_width())
    label_h, gap = 36, 16
    sheet = pygame.Surface((cols * (thumb_w + gap) + gap, rows * (thumb_h + label_h + gap) + gap))
    sheet.fill((60, 60, 60))
    for n, shot in enumerate(shots):
        x = gap + (n % cols) * (thumb_w + gap)
        y = gap + (n // cols) * (thumb_h + label_h + gap)
        sheet.blit(pygame.transform.smoothscale(shot.image, (thumb_w, thumb_h)), (x, y))
        fonts.draw(sheet, shot.name, "bold", 22, (255, 255, 255), (x, y + thumb_h + 6))
    return sheet


def parse_size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{2,5})x(\d{2,5})", text)
    if not match:
        raise UsageError(f"--size must be WIDTHxHEIGHT, such as 1920x1080, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def _load_item(path: Path) -> tuple[tuple[Item, ...], FileAssets]:
    try:
        raw = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path}: is not valid JSON ({exc})") from None
    assets = FileAssets()
    if isinstance(raw, dict) and isinstance(raw.get("asset"), dict):
        sha = raw["asset"].get("sha256")
        if isinstance(sha, str):  # an item as a manifest carries it: look beside the file
            assets.files[sha] = path.parent / "assets" / sha
    try:
        return (authored_item(raw, 0, path.parent, assets),), assets
    except ItemError as exc:
        raise UsageError(f"{path}: {exc}") from None


def render_command(args: argparse.Namespace) -> int:
    config = load_config(Path(args.config)) if args.config else default_config()
    size = parse_size(args.size) if args.size else (config.display.size or (1920, 1080))
    rotation = config.display.rotation if args.rotation is None else args.rotation
    if rotation not in (0, 90, 180, 270):
        raise UsageError(f"--rotation must be 0, 90, 180 or 270, got {rotation}")
    try:
        at = parse_rfc3339(args.at) if args.at else datetime.now(UTC)
    except ValueError as exc:
        raise UsageError(f"--at: {exc}") from None

    source = Path(args.input)
    problems: list[str] = []
    if source.suffix.lower() == ".toml":
        try:
            playlist = load_playlist(source)
        except PlaylistError as exc:
            raise UsageError(str(exc)) from None
        items, assets, problems = playlist.items, playlist.assets, list(playlist.errors)
    elif source.suffix.lower() == ".json":
        items, assets = _load_item(source)
    else:
        raise UsageError(f"{source}: give an item (.json) or a playlist (.toml)")

    previewer = Previewer(config, size, rotation, assets)
    shots, shot_problems = previewer.item_shots(items, at)
    problems += shot_problems
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    if not shots:
        print("nothing written: no item could be drawn", file=sys.stderr)
        return 2
    out = Path(args.out)
    if out.suffix.lower() == ".png":
        out.parent.mkdir(parents=True, exist_ok=True)
        single = len(shots) == 1
        image = shots[0].image if single else contact_sheet(shots, previewer.painter.fonts)
        pygame.image.save(image, str(out))
        written = [out]
    else:
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for shot in shots:
            written.append(out / f"{shot.name}.png")
            pygame.image.save(shot.image, str(written[-1]))
    print(
        f"wrote {len(written)} file(s): {', '.join(str(p) for p in written[:5])}"
        + (" …" if len(written) > 5 else "")
    )
    return 2 if problems else 0
