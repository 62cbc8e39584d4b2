"""Draws the sample playlists' images with Pillow (no downloads): run it to remake them.

.venv/bin/python tools/make_sample_images.py
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "playlists" / "images"
BOLD = str(ROOT / "kiosk" / "fonts" / "NotoSans-Bold.ttf")
W, H = 1600, 900


def gradient(top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    img = Image.new("RGB", (W, H))
    draw = ImageDraw.Draw(img)
    for y in range(H):
        t = y / (H - 1)
        draw.line(
            [(0, y), (W, y)],
            fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    return img


def mountains(draw: ImageDraw.ImageDraw, base: int, colour, rng: random.Random, peaks: int):
    points = [(0, H)]
    for n in range(peaks + 1):
        x = n * W / peaks
        points.append((x, base - rng.randint(60, 260)))
    points.append((W, H))
    draw.polygon(points, fill=colour)


def festival() -> Image.Image:
    """Lễ hội Thành Tuyên: lanterns at night over the town."""
    rng = random.Random(1)
    img = gradient((18, 10, 60), (120, 40, 90))
    draw = ImageDraw.Draw(img)
    mountains(draw, 760, (40, 20, 60), rng, 6)
    for _ in range(40):
        x, y = rng.randint(40, W - 40), rng.randint(60, 600)
        r = rng.randint(22, 48)
        colour = rng.choice([(255, 90, 40), (255, 200, 40), (240, 40, 60), (255, 140, 0)])
        draw.ellipse([x - r, y - r * 1.3, x + r, y + r * 1.3], fill=colour)
        draw.line([(x, y - r * 1.3 - 40), (x, y - r * 1.3)], fill=(90, 70, 40), width=3)
    draw.rectangle([0, 820, W, H], fill=(30, 15, 30))
    font = ImageFont.truetype(BOLD, 92)
    draw.text((W // 2, 260), "LỄ HỘI THÀNH TUYÊN", font=font, fill=(255, 236, 180), anchor="mm")
    return img


def flood_map() -> Image.Image:
    """A simple map of the commune with the low-lying hamlets at risk of flooding."""
    rng = random.Random(2)
    img = Image.new("RGB", (W, H), (236, 230, 210))
    draw = ImageDraw.Draw(img)
    river = [(x, 450 + 140 * math.sin(x / 230)) for x in range(0, W + 20, 20)]
    for off, colour, width in ((0, (120, 170, 230), 120), (0, (60, 120, 200), 40)):
        draw.line([(x, y + off) for x, y in river], fill=colour, width=width)
    font = ImageFont.truetype(BOLD, 40)
    hamlets = [
        ("Thôn Tân Lập", 260, 300, True),
        ("Thôn Mỏ Chè", 700, 640, True),
        ("Thôn Cả", 1100, 250, False),
        ("Thôn Bòng", 1350, 620, True),
        ("UBND xã", 880, 180, False),
    ]
    for name, x, y, risk in hamlets:
        if risk:
            draw.ellipse(
                [x - 110, y - 80, x + 110, y + 80], fill=(230, 80, 70), outline=(150, 0, 0), width=6
            )
        draw.rectangle([x - 14, y - 14, x + 14, y + 14], fill=(40, 40, 40))
        draw.text((x, y + 50), name, font=font, fill=(20, 20, 20), anchor="mm")
    for _ in range(60):
        x, y = rng.randint(0, W), rng.randint(0, H)
        draw.ellipse([x - 6, y - 6, x + 6, y + 6], fill=(70, 140, 70))
    draw.rectangle([0, 0, W, 90], fill=(150, 0, 12))
    title = ImageFont.truetype(BOLD, 56)
    draw.text((W // 2, 45), "KHU VỰC NGUY CƠ NGẬP LỤT", font=title, fill=(255, 236, 0), anchor="mm")
    return img


def vaccination() -> Image.Image:
    """A clinic poster: a syringe and a shield, in health-service green."""
    img = gradient((220, 245, 235), (150, 215, 190))
    draw = ImageDraw.Draw(img)
    draw.polygon(
        [(1100, 180), (1380, 260), (1350, 560), (1100, 720), (850, 560), (820, 260)],
        fill=(20, 140, 100),
    )
    draw.line([(1100, 300), (1100, 600)], fill=(255, 255, 255), width=60)
    draw.line([(950, 450), (1250, 450)], fill=(255, 255, 255), width=60)
    draw.rounded_rectangle(
        [180, 400, 640, 480], 20, fill=(255, 255, 255), outline=(60, 60, 60), width=6
    )
    draw.rectangle([640, 425, 760, 455], fill=(160, 160, 160))
    draw.rectangle([120, 380, 180, 500], fill=(60, 60, 60))
    font = ImageFont.truetype(BOLD, 80)
    draw.text((420, 200), "TIÊM CHỦNG", font=font, fill=(10, 90, 60), anchor="mm")
    draw.text((420, 640), "MỞ RỘNG", font=font, fill=(10, 90, 60), anchor="mm")
    return img


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    festival().save(OUT / "le-hoi-thanh-tuyen.jpg", quality=85, optimize=True)
    flood_map().save(OUT / "ban-do-ngap-lut.png", optimize=True)
    vaccination().save(OUT / "tiem-chung.jpg", quality=85, optimize=True)
    for path in sorted(OUT.iterdir()):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
