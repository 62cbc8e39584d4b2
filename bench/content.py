"""What the benchmarks show: a text slide, a ticker, and large photos made here, the same for
the kiosk and for the browser it is compared with."""

from __future__ import annotations

import io
import random
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

CHANNEL = "tinh-08"
UNIT = "UBND xã Tân Trào"
TITLE = "Thiết lập bảng tin điện tử công cộng"
BODY = (
    "Mỗi huyện, thành phố có ít nhất 01 phường, thị trấn và ít nhất 02 xã thiết lập bảng tin "
    "điện tử công cộng. Bảng tin phổ biến thông tin thiết yếu đến người dân bằng chữ viết và "
    "hình ảnh, kết nối với Hệ thống thông tin nguồn cấp tỉnh."
)
TICKER = (
    "Ủy ban nhân dân xã Tân Trào thông báo lịch tiếp công dân: "
    "Thứ Hai đến Thứ Sáu, sáng 7:30 - 11:30."
)
PHOTO_SIZE = (4000, 3000)  # 12 megapixels, a phone's photo

TEXT_ITEM = {"id": "tinh", "type": "text", "title": TITLE, "body": BODY, "duration": 600}
TICKER_ITEM = {"id": "chay", "type": "ticker", "text": TICKER}


def photo_items(names: list[str], duration: int = 3) -> list[dict]:
    """Image items for photo files (relative to the playlist), shown to cover the slide."""
    return [
        {"id": f"anh-{n:03d}", "type": "image", "file": name, "fit": "cover", "duration": duration}
        for n, name in enumerate(names)
    ]


def photo(seed: int, size: tuple[int, int] = PHOTO_SIZE) -> bytes:
    """A JPEG that compresses like a photograph (soft shapes, sensor noise), about 1.5 MB
    at 12 megapixels; each seed gives different bytes."""
    rnd = random.Random(seed)
    small = (size[0] // 8, size[1] // 8)
    top, bottom = (tuple(rnd.randrange(256) for _ in range(3)) for _ in range(2))
    ramp = Image.linear_gradient("L").resize(small)
    img = Image.composite(Image.new("RGB", small, bottom), Image.new("RGB", small, top), ramp)
    draw = ImageDraw.Draw(img)
    for _ in range(40):
        x, y, r = rnd.randrange(small[0]), rnd.randrange(small[1]), rnd.randrange(5, small[0] // 4)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rnd.randrange(256) for _ in range(3)))
    img = img.filter(ImageFilter.GaussianBlur(3)).resize(size, Image.Resampling.BILINEAR)
    tile = Image.effect_noise((500, 500), 24).convert("RGB")
    noise = Image.new("RGB", size)
    for x in range(0, size[0], 500):
        for y in range(0, size[1], 500):
            noise.paste(tile, (x, y))
    out = io.BytesIO()
    Image.blend(img, noise, 0.12).save(out, "JPEG", quality=88)
    return out.getvalue()


def _write_photo(job: tuple[Path, int]) -> str:
    path, seed = job
    path.write_bytes(photo(seed))
    return path.name


def make_photos(folder: Path, count: int, workers: int = 2) -> list[str]:
    """count photos in folder (photo-000.jpg ...), made on `workers` processes."""
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [(folder / f"photo-{n:03d}.jpg", n) for n in range(count)]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_write_photo, jobs))
