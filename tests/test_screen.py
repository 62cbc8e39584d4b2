"""Rotation done by the kiosk: the panel's picture is the upright frame turned clockwise."""

from __future__ import annotations

import random

import pygame
import pytest

from kiosk.render.screen import Orientation


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_map_rect_matches_the_rotated_picture(rotation):
    o = Orientation((320, 180), rotation)
    rng = random.Random(rotation)
    for _ in range(20):
        lw, lh = o.logical
        w, h = rng.randint(1, lw // 2), rng.randint(1, lh // 2)
        rect = pygame.Rect(rng.randint(0, lw - w), rng.randint(0, lh - h), w, h)
        upright = pygame.Surface(o.logical)
        upright.fill((0, 0, 0))
        upright.fill((255, 0, 0), rect)
        panel = o.to_physical(upright)
        assert panel.get_size() == (320, 180)
        red = pygame.mask.from_threshold(panel, (255, 0, 0), (1, 1, 1, 255))
        assert red.get_bounding_rects() == [o.map_rect(rect)]


def test_rotation_90_turns_clockwise():
    o = Orientation((1920, 1080), 90)
    assert o.logical == (1080, 1920)
    upright = pygame.Surface(o.logical)
    upright.fill((0, 0, 0))
    upright.fill((255, 0, 0), (0, 0, 1080, 100))  # the header, along the top
    panel = o.to_physical(upright)
    # turned clockwise, the top of the picture lies along the panel's right edge
    assert panel.get_at((1919, 540))[:3] == (255, 0, 0)
    assert panel.get_at((0, 540))[:3] == (0, 0, 0)


def test_bad_rotation():
    with pytest.raises(ValueError):
        Orientation((100, 100), 45)
