"""Sets of boards as bitmaps, pure: how many boards showed a bulletin over some days, without
reading a row per board and day.

"Boards that showed it" cannot be summed day by day (a board that showed it on two days is
one board), so each day's sums carry the set of boards that contributed, and a range of days
is the union of its sets. A board is a bit: Board.number, given once and never reused. A set
is stored as zlib-compressed little-endian bytes: a province-wide bulletin on 10,000 boards
is some tens of bytes, a commune's on one board a dozen.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

BoardSet = int  # bit n set: board number n is in the set


def of(numbers: Iterable[int]) -> BoardSet:
    bits = 0
    for n in numbers:
        bits |= 1 << n
    return bits


def pack(bits: BoardSet) -> bytes:
    return zlib.compress(bits.to_bytes((bits.bit_length() + 7) // 8, "little"))


def unpack(data: bytes | memoryview | None) -> BoardSet:
    """The set stored in data; the empty set for none (a row written before any board)."""
    if not data:
        return 0
    return int.from_bytes(zlib.decompress(bytes(data)), "little")


def count(bits: BoardSet, within: BoardSet | None = None) -> int:
    """How many boards are in the set (of those in `within`, when given: an area's)."""
    return (bits if within is None else bits & within).bit_count()
