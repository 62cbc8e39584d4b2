"""The rollout's stages and counts (kiosk/core/rolloutplan.py), pure."""

from __future__ import annotations

from kiosk.core.release import bucket
from kiosk.core.rolloutplan import BoardSoftware, count, next_percent, should_halt


def test_the_stages_go_canaries_10_50_100_and_stop():
    assert [next_percent(p) for p in (0, 5, 10, 50, 99, 100)] == [10, 10, 50, 100, 100, None]


def test_a_board_is_counted_once_and_a_roll_back_wins():
    devices = [f"08-{n:05d}-01" for n in range(200)]
    version = "1.2.0"
    boards = [BoardSoftware(d, "1.1.0") for d in devices]
    boards[0] = BoardSoftware(devices[0], "1.1.0", "idle", "", frozenset({version}))
    boards[1] = BoardSoftware(devices[1], version, "trial", version)
    boards[2] = BoardSoftware(devices[2], version)
    boards[3] = BoardSoftware(devices[3], "1.1.0", "downloading", version)
    canaries = frozenset(devices[:4])
    c = count(boards, version, canaries, 10)
    in_ten = {d for d in devices if bucket(d, version) < 10} | canaries
    assert c.chosen == len(in_ten)
    assert (c.rolled_back, c.trial, c.running, c.on_the_way) == (1, 1, 1, 1)
    assert c.waiting == len(in_ten) - 4
    assert count(boards, version, frozenset(), 0).rolled_back == 1  # it tried, chosen or not


def test_the_halt_comes_at_halt_after_failures():
    assert not should_halt(1, 2) and should_halt(2, 2) and should_halt(3, 2)
