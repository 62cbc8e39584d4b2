"""The three themes (thông thường, ưu tiên, khẩn cấp), told apart at a glance from afar.

Normal is calm navy; priority keeps navy but wears an amber header and frame with a label;
emergency turns the whole screen red with a yellow header and a warning sign. Every pair of
text and background colours has a contrast ratio of at least 7:1 (WCAG AAA).
"""

from __future__ import annotations

from dataclasses import dataclass

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Theme:
    name: str
    background: RGB
    text: RGB
    title: RGB
    header_bg: RGB
    header_text: RGB
    ticker_bg: RGB
    ticker_text: RGB
    frame: RGB | None  # a border around the slide area, or None
    label: str  # shown in the header, in Vietnamese; "" for none


NORMAL = Theme(
    name="normal",
    background=(10, 35, 66),
    text=(255, 255, 255),
    title=(255, 214, 102),
    header_bg=(4, 22, 44),
    header_text=(255, 255, 255),
    ticker_bg=(242, 242, 242),
    ticker_text=(10, 35, 66),
    frame=None,
    label="",
)
PRIORITY = Theme(
    name="priority",
    background=(10, 35, 66),
    text=(255, 255, 255),
    title=(255, 193, 7),
    header_bg=(255, 176, 0),
    header_text=(0, 0, 0),
    ticker_bg=(242, 242, 242),
    ticker_text=(10, 35, 66),
    frame=(255, 176, 0),
    label="THÔNG BÁO QUAN TRỌNG",
)
EMERGENCY = Theme(
    name="emergency",
    background=(150, 0, 12),
    text=(255, 255, 255),
    title=(255, 236, 0),
    header_bg=(255, 221, 0),
    header_text=(0, 0, 0),
    ticker_bg=(0, 0, 0),
    ticker_text=(255, 221, 0),
    frame=(255, 221, 0),
    label="CẢNH BÁO KHẨN CẤP",
)
THEMES = {t.name: t for t in (NORMAL, PRIORITY, EMERGENCY)}


def contrast(a: RGB, b: RGB) -> float:
    """WCAG contrast ratio of two sRGB colours."""

    def luminance(c: RGB) -> float:
        def ch(v: int) -> float:
            x = v / 255
            return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4

        return 0.2126 * ch(c[0]) + 0.7152 * ch(c[1]) + 0.0722 * ch(c[2])

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def theme_for(priority: str | None, emergency: bool) -> Theme:
    """The theme of a slide of this priority (None: the idle slide); an emergency anywhere
    puts the whole screen in the emergency theme."""
    if emergency or priority == "emergency":
        return EMERGENCY
    return PRIORITY if priority == "priority" else NORMAL
