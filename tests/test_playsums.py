"""Which plays of a heartbeat are new (kiosk/province/fleet/playsums.py), pure."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from kiosk.province.fleet.heartbeatdoc import Play
from kiosk.province.fleet.playsums import day_sums, latest, sort_arrival

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
RAW_FROM = NOW - timedelta(days=3)


def play(at: datetime, item: str = "a", seconds: float = 10.0) -> Play:
    return Play("tinh-08", item, at, seconds)


def test_recent_plays_go_raw_whatever_the_board_delivered_before():
    recent = [play(NOW - timedelta(hours=1)), play(RAW_FROM)]
    arrival = sort_arrival(recent, RAW_FROM, through=NOW)
    assert arrival.recent == recent and arrival.unseen == [] and arrival.resent == 0


def test_an_older_play_is_new_only_when_later_than_what_the_board_delivered():
    before, after = play(NOW - timedelta(days=10)), play(NOW - timedelta(days=5))
    through = NOW - timedelta(days=7)
    arrival = sort_arrival([before, after], RAW_FROM, through)
    assert arrival.unseen == [after] and arrival.resent == 1
    exactly = sort_arrival([play(through)], RAW_FROM, through)
    assert exactly.unseen == [] and exactly.resent == 1  # the latest delivered, again
    first = sort_arrival([before, after], RAW_FROM, through=None)  # a board's first plays
    assert first.unseen == [before, after]


def test_a_play_twice_in_one_batch_is_one_play():
    p = play(NOW - timedelta(days=5))
    arrival = sort_arrival([p, p, play(NOW), play(NOW)], RAW_FROM, None)
    assert arrival.unseen == [p] and arrival.recent == [play(NOW)]


def test_the_latest_delivered_moves_forward_only():
    assert latest(None, []) is None
    assert latest(None, [play(NOW), play(RAW_FROM)]) == NOW
    assert latest(NOW, [play(RAW_FROM)]) == NOW


def test_day_sums_follow_the_province_clock_across_midnight():
    vietnam = ZoneInfo("Asia/Ho_Chi_Minh")
    evening = datetime(2026, 12, 1, 16, 55, tzinfo=UTC)  # 23:55 there
    plays = [play(evening + timedelta(minutes=m), item, 15.0) for m in (0, 4, 6) for item in "ab"]
    assert day_sums(plays, vietnam) == {
        ("tinh-08", "a", date(2026, 12, 1)): (2, 30.0),
        ("tinh-08", "b", date(2026, 12, 1)): (2, 30.0),
        ("tinh-08", "a", date(2026, 12, 2)): (1, 15.0),
        ("tinh-08", "b", date(2026, 12, 2)): (1, 15.0),
    }
