"""The schedule of SPEC 2.1: validity, weekdays, hour windows, priority, emergency takeover."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.core.model import MAX_WINDOWS, parse_item
from kiosk.core.schedule import (
    ChannelContent,
    Entry,
    Followed,
    Rotation,
    follow,
    is_active,
    next_change,
    next_showing,
    rotation_at,
)
from kiosk.core.timeutil import in_windows, parse_window, week_mask

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def at(text: str) -> datetime:
    """A Vietnam local time, 'YYYY-MM-DD HH:MM:SS'. 2024-04-15 is a Monday."""
    return datetime.fromisoformat(text).replace(tzinfo=VN)


def item(ident: str, **fields):
    raw = {"id": ident, "type": "text", "title": ident, **fields}
    return parse_item(raw)


def ticker(ident: str, **fields):
    return parse_item({"id": ident, "type": "ticker", "text": ident, **fields})


def keys(rotation):
    return [e.item.id for e in rotation.slides]


class TestWindows:
    def test_plain_window_boundaries_to_the_second(self):
        it = item("a", hours=["08:00-17:30"])
        assert not is_active(it, at("2024-04-15 07:59:59"), VN)
        assert is_active(it, at("2024-04-15 08:00:00"), VN)
        assert is_active(it, at("2024-04-15 17:29:59"), VN)
        assert not is_active(it, at("2024-04-15 17:30:00"), VN)

    def test_window_crossing_midnight(self):
        it = item("a", hours=["22:00-02:00"])
        assert not is_active(it, at("2024-04-15 21:59:59"), VN)
        assert is_active(it, at("2024-04-15 22:00:00"), VN)
        assert is_active(it, at("2024-04-15 23:59:59"), VN)
        assert is_active(it, at("2024-04-16 00:00:00"), VN)
        assert is_active(it, at("2024-04-16 01:59:59"), VN)
        assert not is_active(it, at("2024-04-16 02:00:00"), VN)
        assert not is_active(it, at("2024-04-16 12:00:00"), VN)

    def test_crossing_window_belongs_to_the_day_it_starts(self):
        friday_night = item("a", days=[5], hours=["22:00-02:00"])
        assert not is_active(friday_night, at("2024-04-19 01:00:00"), VN)  # Friday 01:00
        assert is_active(friday_night, at("2024-04-19 22:30:00"), VN)  # Friday 22:30
        assert is_active(friday_night, at("2024-04-20 01:00:00"), VN)  # Saturday 01:00
        assert not is_active(friday_night, at("2024-04-20 22:30:00"), VN)  # Saturday night

    def test_whole_day_and_to_midnight(self):
        whole = item("a", hours=["00:00-24:00"])
        evening = item("b", hours=["18:00-24:00"])
        for t in ("2024-04-15 00:00:00", "2024-04-15 12:00:00", "2024-04-15 23:59:59"):
            assert is_active(whole, at(t), VN)
        assert is_active(evening, at("2024-04-15 23:59:59"), VN)
        assert not is_active(evening, at("2024-04-16 00:00:00"), VN)
        assert not is_active(evening, at("2024-04-15 17:59:59"), VN)

    def test_several_windows(self):
        it = item("a", hours=["07:00-11:00", "13:30-17:00"])
        assert is_active(it, at("2024-04-15 10:59:59"), VN)
        assert not is_active(it, at("2024-04-15 12:00:00"), VN)
        assert is_active(it, at("2024-04-15 13:30:00"), VN)

    def test_weekdays_iso_monday_is_1(self):
        weekdays = item("a", days=[1, 2, 3, 4, 5])
        assert is_active(weekdays, at("2024-04-15 09:00:00"), VN)  # Monday
        assert is_active(weekdays, at("2024-04-19 23:59:59"), VN)  # Friday
        assert not is_active(weekdays, at("2024-04-20 00:00:00"), VN)  # Saturday
        assert not is_active(weekdays, at("2024-04-21 09:00:00"), VN)  # Sunday

    def test_weekday_is_taken_in_the_device_time_zone(self):
        monday = item("a", days=[1])
        # 2024-04-14T20:00Z is Sunday in UTC but Monday 03:00 in Vietnam
        utc_sunday = datetime(2024, 4, 14, 20, 0, tzinfo=UTC)
        assert is_active(monday, utc_sunday, VN)
        assert not is_active(monday, utc_sunday, UTC)


class TestValidity:
    def test_valid_from_inclusive_valid_until_exclusive(self):
        it = item(
            "a",
            valid_from="2024-04-16T08:00:00+07:00",
            valid_until="2024-04-17T00:00:00+07:00",
        )
        assert not is_active(it, at("2024-04-16 07:59:59"), VN)
        assert is_active(it, at("2024-04-16 08:00:00"), VN)
        assert is_active(it, at("2024-04-16 23:59:59"), VN)
        assert not is_active(it, at("2024-04-17 00:00:00"), VN)

    def test_validity_in_another_offset_is_the_same_instant(self):
        it = item("a", valid_until="2024-04-16T01:00:00Z")  # 08:00 in Vietnam
        assert is_active(it, at("2024-04-16 07:59:59"), VN)
        assert not is_active(it, at("2024-04-16 08:00:00"), VN)


class TestRotation:
    def test_channels_in_order_items_in_order_priority_first(self):
        tinh = ChannelContent("tinh", (item("t1"), item("t2", priority="priority"), item("t3")))
        xa = ChannelContent("xa", (item("x1", priority="priority"), item("x2")))
        r = rotation_at([tinh, xa], at("2024-04-15 09:00:00"), VN)
        assert keys(r) == ["t2", "x1", "t1", "t3", "x2"]
        assert [e.channel for e in r.slides] == ["tinh", "xa", "tinh", "tinh", "xa"]
        assert not r.emergency

    def test_tickers_are_kept_apart_from_slides(self):
        ch = ChannelContent("xa", (item("s"), ticker("k1"), ticker("k2", priority="priority")))
        r = rotation_at([ch], at("2024-04-15 09:00:00"), VN)
        assert keys(r) == ["s"]
        assert [e.item.id for e in r.tickers] == ["k2", "k1"]

    def test_emergency_takes_over_and_releases(self):
        flood = item(
            "lu",
            priority="emergency",
            valid_from="2024-04-15T10:00:00+07:00",
            valid_until="2024-04-15T12:00:00+07:00",
        )
        ch = ChannelContent("xa", (item("a"), item("b", priority="priority"), ticker("k"), flood))
        before = rotation_at([ch], at("2024-04-15 09:59:59"), VN)
        during = rotation_at([ch], at("2024-04-15 10:00:00"), VN)
        after = rotation_at([ch], at("2024-04-15 12:00:00"), VN)
        assert keys(before) == ["b", "a"] and not before.emergency
        assert keys(during) == ["lu"] and during.emergency and during.tickers == ()
        assert keys(after) == ["b", "a"] and not after.emergency
        assert next_change([ch], at("2024-04-15 09:00:00"), VN) == at("2024-04-15 10:00:00")
        assert next_change([ch], at("2024-04-15 10:30:00"), VN) == at("2024-04-15 12:00:00")

    def test_emergency_ticker_alone_is_an_emergency(self):
        ch = ChannelContent("xa", (item("a"), ticker("k", priority="emergency")))
        r = rotation_at([ch], at("2024-04-15 09:00:00"), VN)
        assert r.emergency and r.slides == () and [e.item.id for e in r.tickers] == ["k"]

    def test_emergencies_of_every_channel_show(self):
        a = ChannelContent("tinh", (item("e1", priority="emergency"), item("n")))
        b = ChannelContent("xa", (item("e2", priority="emergency"),))
        assert keys(rotation_at([a, b], at("2024-04-15 09:00:00"), VN)) == ["e1", "e2"]

    def test_expired_manifest_stops_emergencies_only(self):
        expires = datetime.fromisoformat("2024-04-15T12:00:00+07:00")
        ch = ChannelContent("xa", (item("e", priority="emergency"), item("n")), expires)
        assert keys(rotation_at([ch], at("2024-04-15 11:59:59"), VN)) == ["e"]
        assert keys(rotation_at([ch], at("2024-04-15 12:00:00"), VN)) == ["n"]
        assert next_change([ch], at("2024-04-15 11:00:00"), VN) == at("2024-04-15 12:00:00")

    def test_nothing_active_is_empty(self):
        ch = ChannelContent("xa", (item("a", hours=["08:00-09:00"]),))
        r = rotation_at([ch], at("2024-04-15 10:00:00"), VN)
        assert r.empty and not r.emergency
        assert rotation_at([], at("2024-04-15 10:00:00"), VN).empty


class TestNextChange:
    def test_nothing_scheduled_never_changes(self):
        ch = ChannelContent("xa", (item("a"), item("b", days=[1, 2, 3, 4, 5, 6, 7])))
        assert next_change([ch], at("2024-04-15 10:00:00"), VN) is None

    def test_window_start_and_end(self):
        ch = ChannelContent("xa", (item("a", hours=["22:00-02:00"]),))
        assert next_change([ch], at("2024-04-15 12:00:00"), VN) == at("2024-04-15 22:00:00")
        assert next_change([ch], at("2024-04-15 22:00:00"), VN) == at("2024-04-16 02:00:00")

    def test_overlapping_windows_change_only_when_the_union_does(self):
        ch = ChannelContent("xa", (item("a", hours=["08:00-12:00", "11:00-14:00"]),))
        assert next_change([ch], at("2024-04-15 09:00:00"), VN) == at("2024-04-15 14:00:00")

    def test_weekday_item_starting_after_the_horizon(self):
        # valid from a Wednesday three weeks ahead, shown on Mondays only
        it = item("a", days=[1], valid_from="2024-05-08T00:00:00+07:00")
        ch = ChannelContent("xa", (it,))
        assert next_change([ch], at("2024-04-15 10:00:00"), VN) == at("2024-05-13 00:00:00")


def _random_item(rng: random.Random, n: int):
    fields: dict = {}
    if rng.random() < 0.6:
        windows = []
        for _ in range(rng.randint(1, 2)):
            a, b = rng.randrange(0, 1440, 30), rng.randrange(0, 1440, 30)
            if a == b:
                b = (b + 90) % 1440
            windows.append(f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}")
        fields["hours"] = windows
    if rng.random() < 0.5:
        fields["days"] = rng.sample(range(1, 8), rng.randint(1, 6))
    if rng.random() < 0.4:
        start = at("2024-04-15 00:00:00") + timedelta(minutes=rng.randrange(0, 7 * 1440, 15))
        fields["valid_from"] = start.isoformat()
        if rng.random() < 0.7:
            end = start + timedelta(minutes=rng.randrange(15, 3 * 1440, 15))
            fields["valid_until"] = end.isoformat()
    fields["priority"] = rng.choice(["normal", "normal", "priority", "emergency"])
    maker = ticker if rng.random() < 0.2 else item
    return maker(f"i{n}", **fields)


@pytest.mark.parametrize("seed", range(12))
def test_next_change_agrees_with_a_minute_by_minute_scan(seed):
    """Exhaustive check against a brute-force oracle over a week and a half, minute by minute:
    the rotation never changes before next_change says, and does change at that moment."""
    rng = random.Random(seed)
    expires = at("2024-04-20 06:00:00") if seed % 2 else None
    channels = [
        ChannelContent("tinh", tuple(_random_item(rng, n) for n in range(4)), expires),
        ChannelContent("xa", tuple(_random_item(rng, n) for n in range(4, 8))),
    ]
    t = at("2024-04-14 23:00:00")
    end = at("2024-04-25 00:00:00")
    while t < end:
        current = rotation_at(channels, t, VN)
        change = next_change(channels, t, VN)
        probe = t + timedelta(minutes=1)
        stop = min(change or end, end)
        while probe < stop:
            assert rotation_at(channels, probe, VN) == current, f"changed before {change}"
            probe += timedelta(minutes=1)
        if change is None or change >= end:
            break
        assert rotation_at(channels, change, VN) != current
        assert rotation_at(channels, change - timedelta(seconds=1), VN) == current
        t = change


# -- the week mask: the same answers as in_windows, at a cost that does not grow ---------------

_minutes = st.integers(0, 1439)


@st.composite
def _windows(draw):
    out = []
    for _ in range(draw(st.integers(1, MAX_WINDOWS))):
        a, b = draw(_minutes), draw(_minutes)
        end = "24:00" if b == a else f"{b // 60:02d}:{b % 60:02d}"
        out.append(parse_window(f"{a // 60:02d}:{a % 60:02d}-{end}"))
    return tuple(out)


@given(
    windows=st.none() | _windows(),
    days=st.none() | st.frozensets(st.integers(1, 7), min_size=1),
    offsets=st.lists(st.integers(0, 14 * 1440 - 1), min_size=1, max_size=20),
)
def test_the_week_mask_answers_as_in_windows_and_finds_each_flip(windows, days, offsets):
    mask = week_mask(windows, days)
    start = at("2024-04-14 00:00:00")
    for offset in offsets:
        local = start + timedelta(minutes=offset)
        assert mask.contains(local) == in_windows(windows, days, local)
        edge = mask.next_edge(local)
        if edge is None:  # on or off for good: every minute of the week agrees
            assert all(
                in_windows(windows, days, local + timedelta(minutes=m)) == mask.contains(local)
                for m in range(0, 7 * 1440, 7)
            )
            continue
        assert local < edge <= local + timedelta(days=7)
        assert in_windows(windows, days, edge) != in_windows(windows, days, local)
        assert in_windows(windows, days, edge - timedelta(seconds=1)) == mask.contains(local)


# -- the rotation carried across a change (follow) --------------------------------------------


def _rotation(*slides: Entry, tickers: tuple[Entry, ...] = (), emergency: bool = False):
    return Rotation(tuple(slides), tickers, emergency)


A, B, C = (Entry("xa", item(i)) for i in "abc")


class TestFollow:
    def test_the_slide_on_screen_stays_and_the_rotation_goes_on_after_it(self):
        got = follow(_rotation(A, B, C), _rotation(A, C, B), B)
        assert (got.index, got.action) == (2, None)

    def test_an_edited_slide_on_screen_is_shown_again_at_once(self):
        edited = Entry("xa", item("b", title="Lịch mới"))
        got = follow(_rotation(A, B), _rotation(A, edited), B)
        assert (got.index, got.action) == (0, "restart")  # the slide before it: it comes next

    def test_a_slide_gone_from_the_rotation_gives_way_to_the_first(self):
        assert follow(_rotation(A, B), _rotation(A, C), B) == Followed(-1, "restart")

    def test_only_the_tickers_changed_repaints(self):
        k = Entry("xa", ticker("k"))
        assert follow(_rotation(A), _rotation(A, tickers=(k,)), A) == Followed(0, "repaint")

    def test_an_idle_screen_starts_at_once_when_slides_arrive(self):
        assert follow(_rotation(), _rotation(A), None) == Followed(None, "restart")
        assert follow(_rotation(A), _rotation(A), None) == Followed(None, None)

    def test_an_emergency_arriving_on_an_idle_screen_restarts(self):
        got = follow(_rotation(A), _rotation(A, emergency=True), None)
        assert got.action == "restart"

    def test_a_restart_resumes_at_the_item_it_stopped_on_once(self):
        got = follow(_rotation(), _rotation(A, B, C), None, resume_at=("xa", "b"))
        assert got == Followed(0, "restart", resumed=True)  # b is next
        missing = follow(_rotation(), _rotation(A, C), None, resume_at=("xa", "b"))
        assert missing == Followed(None, "restart")  # gone: from the first, nothing used up


class TestNextShowing:
    """When an item first shows from a moment: what the province says of a bulletin
    ("Đang phát", "phát từ …", "đã hết lịch phát"), issue 26, 5."""

    def test_an_item_showing_now_shows_now(self):
        now = at("2024-04-15 09:00:00")
        assert next_showing(item("a", hours=["08:00-17:00"]), now, VN) == now

    def test_later_today_tomorrow_and_next_week(self):
        now = at("2024-04-15 18:00:00")  # Monday evening
        assert next_showing(item("a", hours=["19:00-20:00"]), now, VN) == at("2024-04-15 19:00:00")
        assert next_showing(item("a", hours=["07:00-08:00"]), now, VN) == at("2024-04-16 07:00:00")
        monday = item("a", days=[1], hours=["07:00-08:00"])
        assert next_showing(monday, now, VN) == at("2024-04-22 07:00:00")

    def test_a_start_in_the_future_waits_for_its_window(self):
        it = item("a", valid_from="2024-04-20T00:00:00+07:00", hours=["07:30-08:00"], days=[1])
        assert next_showing(it, at("2024-04-15 07:45:00"), VN) == at("2024-04-22 07:30:00")

    def test_a_schedule_that_has_passed_never_shows(self):
        gone = item("a", valid_until="2024-04-15T08:00:00+07:00")
        assert next_showing(gone, at("2024-04-15 08:00:00"), VN) is None
        # still valid a little longer, but no window of its days falls before it ends
        sunday_only = item("a", days=[7], valid_until="2024-04-20T00:00:00+07:00")
        assert next_showing(sunday_only, at("2024-04-15 09:00:00"), VN) is None
        window_after = item("a", hours=["20:00-21:00"], valid_until="2024-04-15T19:00:00+07:00")
        assert next_showing(window_after, at("2024-04-15 09:00:00"), VN) is None

    def test_a_window_across_midnight(self):
        night = item("a", hours=["22:00-02:00"])
        assert next_showing(night, at("2024-04-15 01:00:00"), VN) == at("2024-04-15 01:00:00")
        assert next_showing(night, at("2024-04-15 03:00:00"), VN) == at("2024-04-15 22:00:00")
