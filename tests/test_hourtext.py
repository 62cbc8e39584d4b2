"""Hour windows as officers type them (issue 26, 9): "7:00-11:30", "7h-11h30", a space
between windows, an en dash pasted from Word; what is not a window is named as typed."""

from __future__ import annotations

import pytest

from kiosk.province.bulletins.hourtext import HoursError, read_windows


@pytest.mark.parametrize(
    ("typed", "windows"),
    [
        ("07:00-11:30", ["07:00-11:30"]),
        ("7:00-11:30", ["07:00-11:30"]),
        ("7h-11h30", ["07:00-11:30"]),
        ("7H30 - 11H", ["07:30-11:00"]),
        ("7g30-11g, 13g30-17g", ["07:30-11:00", "13:30-17:00"]),
        ("07:00–11:30 13:00—17:00", ["07:00-11:30", "13:00-17:00"]),
        ("7:00-11:30;14h-16h\n19h-21h", ["07:00-11:30", "14:00-16:00", "19:00-21:00"]),
        ("7 đến 11", ["07:00-11:00"]),
        ("22:00-02:00", ["22:00-02:00"]),
        ("08:00-24:00", ["08:00-24:00"]),
        ("", []),
        ("  ,  ", []),
    ],
)
def test_what_officers_type_is_read(typed, windows):
    assert read_windows(typed) == windows


@pytest.mark.parametrize(
    ("typed", "named"),
    [
        ("7:00-11:30 sáng", "“sáng”"),
        ("sáng thứ Hai", "“sáng thứ Hai”"),
        ("7:00-11:30abc", "“7:00-11:30abc”"),
        ("25:00-26:00", "“25:00-26:00”"),
        ("08:00-08:00", "“08:00-08:00”"),
        ("7:61-9:00", "“7:61-9:00”"),
        ("x" * 200, "“" + "x" * 30 + "…”"),
    ],
)
def test_what_is_not_a_window_is_named_as_typed(typed, named):
    with pytest.raises(HoursError) as refused:
        read_windows(typed)
    assert str(refused.value).startswith(named)
