"""Fitting a title and a body into a box: the largest size that fits, never overflowing.

Below a minimum size (what is legible across a street) the text is paginated, not shrunk.
Paragraphs (separated by a blank line) and single line breaks are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kiosk.render.fonts import Fonts

TITLE_SCALE = 1.3  # title size relative to the body's
TITLE_FACE, BODY_FACE = "bold", "regular"


@dataclass(frozen=True)
class Line:
    text: str
    face: str
    size: int
    y: int  # top of the line box, from the top of the text box


@dataclass(frozen=True)
class TextLayout:
    pages: tuple[tuple[Line, ...], ...]
    body_size: int
    height: int  # of the tallest page, stacked marks included


@dataclass(frozen=True)
class _Block:
    text: str
    face: str
    size: int
    gap: int  # extra space above, dropped at the top of a page


def wrap(text: str, fonts: Fonts, face: str, size: int, width: int) -> list[str]:
    """Greedy word wrap by measured width; a word wider than the line is cut by characters."""
    font = fonts.get(face, size)
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if font.size(candidate)[0] <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while font.size(word)[0] > width and len(word) > 1:
            low, high = 1, len(word) - 1  # longest prefix that fits, at least one character
            while low < high:
                mid = (low + high + 1) // 2
                if font.size(word[:mid])[0] <= width:
                    low = mid
                else:
                    high = mid - 1
            lines.append(word[:low])
            word = word[low:]
        current = word
    if current:
        lines.append(current)
    return lines


def paragraphs(body: str) -> list[list[str]]:
    """Paragraphs split at blank lines, each a list of its hard lines."""
    return [
        [line for line in para.split("\n") if line.strip()]
        for para in re.split(r"\n[ \t]*\n", body.strip())
        if para.strip()
    ]


def _blocks(title: str, body: str, size: int, width: int, fonts: Fonts) -> list[_Block]:
    title_size = round(size * TITLE_SCALE)
    out = [
        _Block(line, TITLE_FACE, title_size, 0)
        for line in wrap(title, fonts, TITLE_FACE, title_size, width)
    ]
    for para in paragraphs(body):
        first_in_para = True
        for hard_line in para:
            for line in wrap(hard_line, fonts, BODY_FACE, size, width):
                # half a line of space above a paragraph, unless it opens the slide
                gap = size // 2 if first_in_para and out else 0
                out.append(_Block(line, BODY_FACE, size, gap))
                first_in_para = False
    return out


def _place(blocks: list[_Block], height: int, fonts: Fonts) -> tuple[list[Line], int]:
    """Lines of one page from blocks, as many as fit in height; and the height used."""
    lines: list[Line] = []
    y = used = 0
    for block in blocks:
        font = fonts.get(block.face, block.size)
        if not lines:
            y = fonts.headroom(block.face, block.size)
        else:
            prev = lines[-1]
            y += fonts.pitch(prev.face, prev.size) + block.gap
        bottom = y + font.get_height()
        if bottom > height:
            break
        lines.append(Line(block.text, block.face, block.size, y))
        used = bottom
    return lines, used


def fit_text(
    title: str,
    body: str,
    width: int,
    height: int,
    fonts: Fonts,
    min_size: int,
    max_size: int,
    page_footer: int = 0,
) -> TextLayout:
    """The largest body size in [min_size, max_size] at which everything fits on one page,
    centred vertically; else pages at min_size, each within height - page_footer."""
    low, high, best = min_size, max(min_size, max_size), None
    while low <= high:
        size = (low + high) // 2
        blocks = _blocks(title, body, size, width, fonts)
        lines, used = _place(blocks, height, fonts)
        if lines and len(lines) == len(blocks):
            best = (size, lines, used)
            low = size + 1
        else:
            high = size - 1
    if best is not None:
        size, lines, used = best
        shift = (height - used) // 2
        centred = tuple(Line(ln.text, ln.face, ln.size, ln.y + shift) for ln in lines)
        return TextLayout((centred,), size, used)
    return _paginate(title, body, width, height - page_footer, fonts, min_size)


def _paginate(
    title: str, body: str, width: int, height: int, fonts: Fonts, size: int
) -> TextLayout:
    blocks = _blocks(title, body, size, width, fonts)
    n_title = sum(1 for b in blocks if b.face == TITLE_FACE)
    title_lines, title_used = _place(blocks[:n_title], height, fonts)
    repeat_title = 0 < n_title == len(title_lines) and title_used <= height // 3
    pages: list[tuple[Line, ...]] = []
    tallest = 0
    start = 0
    while start < len(blocks):
        prefix = blocks[:n_title] if pages and repeat_title else []
        lines, used = _place(prefix + blocks[start:], height, fonts)
        taken = len(lines) - len(prefix)
        if taken <= 0 and prefix:
            lines, used = _place(blocks[start:], height, fonts)
            taken = len(lines)
        if taken <= 0:  # a line taller than the whole box: it cannot be shown without overflow
            break
        start += taken
        pages.append(tuple(lines))
        tallest = max(tallest, used)
    return TextLayout(tuple(pages), size, tallest)
