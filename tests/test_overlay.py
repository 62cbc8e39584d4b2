"""The service overlay's drawing: a QR code whose squares are the code's modules, and text a
technician (and Tesseract) can read."""

from __future__ import annotations

import pygame
from PIL import Image

from kiosk.board.statuspage import overlay_text
from kiosk.render.overlay import draw_overlay, draw_qr, qr_modules
from tests.test_ocr import normalise, read_back, tesseract_vie

URL = "http://192.0.2.2:8080/"


def test_the_qr_code_is_drawn_module_for_module():
    surface = pygame.Surface((400, 400))
    area = draw_qr(surface, URL, pygame.Rect(10, 10, 300, 300))
    modules = qr_modules(URL)
    cell = area.width // len(modules)
    assert cell >= 2 and area.width == cell * len(modules)
    for y, row in enumerate(modules):
        for x, dark in enumerate(row):
            centre = (area.x + x * cell + cell // 2, area.y + y * cell + cell // 2)
            assert surface.get_at(centre)[:3] == ((0, 0, 0) if dark else (255, 255, 255))


def test_the_overlay_reads_back(tmp_path, fonts):
    tesseract = tesseract_vie()
    doc = {
        "status": "degraded",
        "problems": [{"code": "overheating", "message": "hot", "since": None}],
        "device": {"id": "08-02263-01", "unit_name": "UBND xã Tân Trào"},
        "sync": {"last_success_at": "2026-11-23T08:30:00+07:00"},
        "version": "0.1.0",
    }
    title, lines, page = overlay_text(doc, [("eth0", "192.0.2.2")], 8080)
    assert page == URL
    surface = pygame.Surface((1280, 720))
    draw_overlay(surface, fonts, title, lines, page)
    picture = Image.frombytes("RGB", (1280, 720), pygame.image.tobytes(surface, "RGB"))
    read = normalise(read_back(tesseract, picture, tmp_path))
    for words in ("08-02263-01", "Trạng thái: Có vấn đề", "overheating", "192.0.2.2"):
        assert words in read, read
