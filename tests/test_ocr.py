"""A Vietnamese notice rendered by `kiosk render` reads back through Tesseract (vie) with at
most 2% character error, diacritics included, at every screen size and when rotated."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from tests.conftest import require_tool

NOTICE = {
    "id": "tb-2024-0412",
    "type": "text",
    "title": "Thông báo về việc thiết lập bảng tin điện tử công cộng",
    "body": (
        "Mỗi huyện, thành phố có ít nhất 01 phường, thị trấn thiết lập bảng tin điện tử "
        "công cộng.\n\nỦy ban nhân dân xã đề nghị các thôn, tổ dân phố phổ biến thông tin "
        "thiết yếu đến người dân bằng chữ viết và hình ảnh."
    ),
}
HEADER = "UBND xã Tân Trào Thứ Ba, 16/4/2024 · 08:30"  # the embedded default's unit name
AT = "2024-04-16T08:30:00+07:00"


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def tesseract_vie() -> str:
    """The tesseract command, with its Vietnamese data (a skip on a laptop, a failure in CI)."""
    tesseract = require_tool("tesseract", "tesseract-ocr and tesseract-ocr-vie")
    langs = subprocess.run([tesseract, "--list-langs"], capture_output=True, text=True).stdout
    if "vie" not in langs.split():
        require_tool("tesseract-has-no-vie", "tesseract-ocr-vie")
    return tesseract


def read_back(tesseract: str, image: Image.Image, workdir: Path) -> str:
    """What Tesseract reads on an upright picture: grey, dark text on light, as it prefers."""
    page = workdir / "ocr.png"
    ImageOps.invert(image.convert("L")).save(page)
    return subprocess.run(
        [tesseract, str(page), "-", "-l", "vie", "--psm", "3"],
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout


def test_edit_distance():
    assert edit_distance("thông", "thông") == 0
    assert edit_distance("thông", "thong") == 1
    assert edit_distance("", "abc") == 3


@pytest.mark.parametrize(
    ("size", "rotation"),
    [("1920x1080", 0), ("1080x1920", 0), ("1280x720", 0), ("3840x2160", 0), ("1920x1080", 90)],
)
def test_notice_reads_back(tmp_path: Path, size: str, rotation: int):
    tesseract = tesseract_vie()
    item = tmp_path / "notice.json"
    item.write_text(json.dumps(NOTICE, ensure_ascii=False), "utf-8")
    png = tmp_path / "notice.png"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "kiosk",
            "render",
            str(item),
            "--out",
            str(png),
            "--size",
            size,
            "--rotation",
            str(rotation),
            "--at",
            AT,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    image = Image.open(png)
    assert image.size == tuple(int(n) for n in size.split("x"))
    # The reader's side: turn the panel's picture upright (PIL turns anticlockwise).
    upright = image.rotate(rotation, expand=True) if rotation else image
    read = read_back(tesseract, upright, tmp_path)
    expected = normalise(f"{HEADER} {NOTICE['title']} {NOTICE['body']}")
    error = edit_distance(expected, normalise(read)) / len(expected)
    print(f"{size} rotation {rotation}: character error {error:.2%}")
    assert error <= 0.02, f"character error {error:.2%}; Tesseract read: {normalise(read)}"
