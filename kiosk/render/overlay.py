"""The diagnostic overlay of the service button: what a technician on site needs, with a QR
code of the status page's address for a phone. Pure drawing onto a pygame surface.
"""

from __future__ import annotations

import pygame
import segno

from kiosk.render.fonts import Fonts

PANEL = (10, 18, 40)
TEXT = (255, 255, 255)
TITLE = (255, 214, 0)


def qr_modules(text: str) -> list[list[bool]]:
    """The QR code's modules (True is dark), with its quiet zone of four modules."""
    matrix = [[bool(v) for v in row] for row in segno.make(text, error="m").matrix]
    size = len(matrix) + 8
    blank = [False] * size
    return [blank] * 4 + [[False] * 4 + row + [False] * 4 for row in matrix] + [blank] * 4


def draw_qr(surface: pygame.Surface, text: str, rect: pygame.Rect) -> pygame.Rect:
    """The code as large as fits in rect, whole modules only (a phone reads sharp squares)."""
    modules = qr_modules(text)
    cell = max(1, min(rect.width, rect.height) // len(modules))
    side = cell * len(modules)
    area = pygame.Rect(rect.x, rect.y, side, side)
    surface.fill((255, 255, 255), area)
    for y, row in enumerate(modules):
        for x, dark in enumerate(row):
            if dark:
                surface.fill((0, 0, 0), (area.x + x * cell, area.y + y * cell, cell, cell))
    return area


def draw_overlay(
    surface: pygame.Surface, fonts: Fonts, title: str, lines: list[str], qr_text: str | None
) -> None:
    """A panel over the picture: the title, the lines, and the QR code (if any) to the
    right (below, on a portrait screen)."""
    w, h = surface.get_size()
    margin = max(8, min(w, h) // 30)
    panel = pygame.Rect(margin, margin, w - 2 * margin, h - 2 * margin)
    surface.fill(PANEL, panel)
    size = max(12, min(w, h) // 28)
    pitch = fonts.pitch("regular", size)
    landscape = w >= h
    qr_side = min(panel.height, panel.width) // 2 if landscape else panel.width // 2
    qr_side = qr_side if qr_text else 0
    if landscape:
        qr_box = pygame.Rect(panel.right - margin - qr_side, panel.y + margin, qr_side, qr_side)
    else:
        qr_box = pygame.Rect(panel.x + margin, panel.bottom - margin - qr_side, qr_side, qr_side)
    if qr_text:
        draw_qr(surface, qr_text, qr_box)
    x, y = panel.x + margin, panel.y + margin
    fonts.draw(surface, title, "bold", int(size * 1.2), TITLE, (x, y))
    y += int(pitch * 1.5)
    limit = (qr_box.x - margin) if landscape else panel.right - margin
    bottom = panel.bottom if landscape else qr_box.y
    for line in lines:
        if y + pitch > bottom:
            break
        font = fonts.get("regular", size)
        while line and font.size(line)[0] > limit - x:
            line = line[:-2] + "…"
        fonts.draw(surface, line, "regular", size, TEXT, (x, y))
        y += pitch
