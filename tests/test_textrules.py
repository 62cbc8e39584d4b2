"""textrules: what text is accepted, and what reaches a message, a terminal or a
spreadsheet. Pure, so tested on any text hypothesis can make."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.core.textrules import printable, shown, spreadsheet_safe, text_problem

anything = st.text(alphabet=st.characters(exclude_categories=[]), max_size=300)  # surrogates too


def _bad(c: str, multiline: bool) -> bool:
    if multiline and c in "\t\n":
        return False
    return unicodedata.category(c) in ("Cc", "Cs")


@given(anything, st.booleans())
def test_text_is_refused_exactly_when_it_holds_a_control_or_a_surrogate(text, multiline):
    problem = text_problem(text, multiline)
    assert (problem is None) == (not any(_bad(c, multiline) for c in text))
    if problem is not None:
        assert "U+" in problem and "position" in problem


@given(anything, st.integers(1, 500))
def test_printable_is_bounded_and_drives_no_terminal(text, limit):
    out = printable(text, limit)
    assert not any(unicodedata.category(c) in ("Cc", "Cs") for c in out)
    assert len(out) <= limit + len("… ( more characters)") + 10


@given(st.one_of(anything, st.integers(), st.lists(st.text(max_size=5), max_size=3)))
def test_shown_is_a_bounded_quotation(value):
    out = shown(value)
    assert len(out) < 140 and not any(unicodedata.category(c) == "Cc" for c in out)


@given(anything)
def test_a_spreadsheet_cell_never_starts_a_formula(text):
    cell = spreadsheet_safe(text)
    assert isinstance(cell, str) and not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    if text and text[0] not in "=+-@" and not any(_bad(c, False) for c in text):
        assert cell == text[:2000] or len(text) > 2000


@pytest.mark.parametrize("number", [-5, 61.5, 0])
def test_numbers_stay_numbers_in_a_spreadsheet(number):
    assert spreadsheet_safe(number) == number
