"""The bounded cache behind fonts, layouts, images and ticker chunks."""

import pytest

from kiosk.render.cache import BoundedCache


def test_makes_once_and_drops_the_least_recently_used():
    made = []
    cache: BoundedCache[str, str] = BoundedCache(2)

    def maker(key):
        return lambda: made.append(key) or key.upper()

    assert cache.get("a", maker("a")) == "A"
    assert cache.get("b", maker("b")) == "B"
    assert cache.get("a", maker("a")) == "A"  # a is now the most recent
    assert cache.get("c", maker("c")) == "C"  # drops b
    assert len(cache) == 2
    assert cache.get("a", maker("a")) == "A"
    assert cache.get("b", maker("b")) == "B"  # made again
    assert made == ["a", "b", "c", "b"]


def test_a_failing_maker_stores_nothing():
    cache: BoundedCache[str, int] = BoundedCache(2)

    def fail():
        raise ValueError("bad image")

    for _ in range(2):
        with pytest.raises(ValueError):
            cache.get("x", fail)
    assert len(cache) == 0
