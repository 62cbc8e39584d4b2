"""The sync thread of `kiosk run` with the real player: new content without a restart, an
emergency on screen within a second of its sync, and retries spread out by jitter."""

from __future__ import annotations

import random
import threading
import time
from zoneinfo import ZoneInfo

import pytest

from kiosk.board.content import Content, ContentBox
from kiosk.board.display import PygameDisplay
from kiosk.board.frameloop import run_frames
from kiosk.board.player import Player
from kiosk.board.syncloop import SyncLoop, next_delay
from kiosk.render.screen import Orientation
from tests.province import text
from tests.test_sync import CH, make_board

VN = ZoneInfo("Asia/Ho_Chi_Minh")


class TimedBox(ContentBox):
    """The real hand-over, noting when each content was published."""

    def __init__(self, initial: Content) -> None:
        super().__init__(initial)
        self.published: list[float] = []

    def publish(self, content: Content) -> None:
        super().publish(content)
        self.published.append(time.monotonic())


def test_an_emergency_is_on_screen_within_a_second_of_its_sync(tmp_path, province):
    board = make_board(tmp_path / "board", province)
    province.publish(CH, [text("a", duration=600)])
    box = TimedBox(board.content())
    loop = SyncLoop(board.syncer, board.store, box, 3600, board.clock.now)
    display = PygameDisplay((480, 270), headless=True)
    shown: list[tuple[float, tuple[str, str] | None, bool]] = []
    player = Player(
        box,
        display,
        Orientation((480, 270), 0),
        VN,
        "UBND xã Tân Trào",
        clock=board.clock.now,
        on_slide=lambda _f: shown.append(
            (time.monotonic(), player.state.current, player.state.emergency)
        ),
    )

    def province_side() -> None:
        while not any(s[1] == (CH, "a") for s in shown):
            time.sleep(0.02)
        province.publish(CH, [text("a", duration=600), text("flood", priority="emergency")])
        loop.sync_now()

    threading.Thread(target=province_side, daemon=True).start()
    loop.start()
    deadline = time.monotonic() + 20
    try:
        run_frames(player, lambda: time.monotonic() > deadline or any(s[2] for s in shown))
    finally:
        loop.stop()
        display.close()
    assert [s[1] for s in shown][:1] in ([None], [(CH, "a")])  # idle or content, then...
    assert (CH, "a") in [s[1] for s in shown]  # ...the first sync's content, no restart
    emergency = next(s for s in shown if s[2])
    assert emergency[1] == (CH, "flood")
    delay = emergency[0] - box.published[-1]
    print(f"emergency on screen {delay * 1000:.0f} ms after its sync (crossfade included)")
    assert delay < 1.0, f"the emergency took {delay:.2f} s after its sync"
    assert loop.status.consecutive_failures == 0 and loop.status.last_success_at is not None


def test_a_failing_sync_is_counted_and_the_loop_goes_on(tmp_path, province):
    board = make_board(tmp_path / "board", province)
    province.publish(CH, [text("a")])
    box = ContentBox(board.content())
    loop = SyncLoop(board.syncer, board.store, box, 300, board.clock.now, random.Random(1))
    assert loop.run_once() == pytest.approx(300, rel=0.1)
    assert [i.id for i in box.current()[0].channels[0].items] == ["a"]
    province.server.faults[f"/channels/{CH}/manifest.json"] = ["500", "500"]
    first, second = loop.run_once(), loop.run_once()
    assert loop.status.consecutive_failures == 2
    assert 5 <= first <= 15 and 10 <= second <= 30  # 10 s, then 20 s, each jittered
    assert loop.run_once() == pytest.approx(300, rel=0.1)
    assert loop.status.consecutive_failures == 0
    assert [i.id for i in box.current()[0].channels[0].items] == ["a"]


def test_retries_back_off_up_to_the_poll_interval():
    rng = random.Random(7)
    bases = [10, 20, 40, 80, 160, 300, 300]
    for failures, base in enumerate(bases, start=1):
        samples = [next_delay(300, failures, rng) for _ in range(200)]
        assert base * 0.5 <= min(samples) and max(samples) <= base * 1.5


def test_a_thousand_boards_that_failed_together_do_not_return_together():
    delays = sorted(next_delay(300, 4, random.Random(board)) for board in range(1000))
    per_second = max(sum(1 for d in delays if start <= d < start + 1) for start in range(0, 130))
    assert delays[-1] - delays[0] > 70  # spread over more than a minute
    assert per_second < 40  # no second sees more than 4% of them
