"""What a board will show for a bulletin, drawn by the board's own renderer (the code of
kiosk render, kiosk.render.preview) on a landscape or a portrait panel: every page of a long
text, as one PNG an officer's browser shows before anything is published."""

from __future__ import annotations

import dataclasses
import io
import os
from datetime import datetime

from kiosk.core.authoring import parse_playlist
from kiosk.province.bulletins.bulletin import authored
from kiosk.province.bulletins.models import Bulletin
from kiosk.province.bulletins.uploads import uploads_dir

PANELS = {"landscape": (1920, 1080), "portrait": (1080, 1920)}
SHOWN_WIDTH = {"landscape": 960, "portrait": 540}  # one page; a sheet of pages is wider


class PreviewError(Exception):
    pass


def preview_png(b: Bulletin, orientation: str, unit_name: str, tz: str, now: datetime) -> bytes:
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame

    from kiosk.core.config import default_config
    from kiosk.render.preview import Previewer, contact_sheet

    playlist = parse_playlist({"channel": "preview", "items": [authored(b)]},
                              uploads_dir() / "console.toml")  # fmt: skip
    if playlist.errors:
        raise PreviewError("; ".join(playlist.errors))
    base = default_config()
    config = dataclasses.replace(
        base, device=dataclasses.replace(base.device, unit_name=unit_name, timezone=tz)
    )
    previewer = Previewer(config, PANELS[orientation], 0, playlist.assets)
    shots, problems = previewer.item_shots(playlist.items, now)
    if problems or not shots:
        raise PreviewError("; ".join(problems) or "nothing to show")
    if len(shots) == 1:
        frame = shots[0].image
        width = SHOWN_WIDTH[orientation]
        height = round(frame.get_height() * width / frame.get_width())
        image = pygame.transform.smoothscale(frame, (width, height))
    else:
        image = contact_sheet(shots, previewer.painter.fonts)
    out = io.BytesIO()
    pygame.image.save(image, out, "preview.png")
    return out.getvalue()
