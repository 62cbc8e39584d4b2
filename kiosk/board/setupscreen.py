"""`kiosk setup-screen`: what a board without a usable configuration shows, so an installer
standing at it knows what to do, instead of a black panel.

kiosk-setup.service runs it while /etc/kiosk/kiosk.toml is missing; kiosk firstboot
restarts it after refusing a file. It redraws every few seconds (the board may get an
address meanwhile) until stopped: kiosk firstboot stops it before it starts kiosk.service.
"""

from __future__ import annotations

import argparse
import signal
import socket
import threading
from pathlib import Path

import pygame

from kiosk import __version__
from kiosk.board.display import PygameDisplay
from kiosk.board.firstboot import refusal_reasons
from kiosk.board.netinfo import ipv4_addresses
from kiosk.paths import SYSTEM_CONFIG
from kiosk.render.fonts import Fonts
from kiosk.render.overlay import draw_overlay

REFRESH_S = 5.0
TITLE = "Bảng tin chưa được cài đặt"


def setup_lines(
    refused: list[str], addresses: list[tuple[str, str]], hostname: str
) -> tuple[str, list[str]]:
    """The title and lines: why, what to do, and how to reach the board."""
    if refused:
        why = ["Tệp cấu hình mới bị từ chối:", *refused]
    else:
        why = ["Thẻ nhớ chưa có tệp cấu hình kiosk.toml."]
    return TITLE, [
        *why,
        "",
        "Cách làm: tắt máy, cắm thẻ nhớ vào máy tính, chạy lệnh kiosk provision,",
        "rồi cắm lại thẻ và bật máy (xem Hướng dẫn lắp đặt).",
        "",
        f"Tên máy: {hostname}",
        "Địa chỉ IP: " + (", ".join(f"{ip} ({name})" for name, ip in addresses) or "không có"),
        f"Phiên bản: {__version__}",
    ]


def setup_screen_command(args: argparse.Namespace) -> int:
    folder = Path(args.config).parent if args.config else SYSTEM_CONFIG.parent
    display = PygameDisplay(None, args.headless)
    fonts = Fonts()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        while not stop.is_set() and display.pump():
            title, lines = setup_lines(
                refusal_reasons(folder, 10), ipv4_addresses(), socket.gethostname()
            )
            display.surface.fill((0, 0, 0))
            draw_overlay(display.surface, fonts, title, lines, None)
            display.present()
            if args.snapshot:
                pygame.image.save(display.surface, args.snapshot)
            if args.once:
                break
            stop.wait(REFRESH_S)
    finally:
        display.close()
    return 0
