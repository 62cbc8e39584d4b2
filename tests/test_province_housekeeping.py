"""What the province server does each minute (kiosk/province/server/housekeeping.py), in
process against a real SQLite database and with the time pinned: plays are summed once as
they arrive, however often a board sends them, and raw plays expire without changing a sum;
a board gone dark is noted once, the history stays bounded, and bulletins keep their titles
after they leave the site."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.delivered import deliver_plays
from tests.province import Province, text

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(scope="module")
def db(django_db):
    return django_db["root"]


@pytest.fixture
def board(db):
    from kiosk.province.fleet.models import Board

    Board.objects.all().delete()
    return Board.objects.create(
        device_id="08-02263-01", unit_name="UBND xã Tân Trào", unit_kind="xa",
        province_code="08", district="Sơn Dương",
    )  # fmt: skip


def _send(board, plays: list[tuple[datetime, float]], now: datetime) -> None:
    deliver_plays(board.device_id, [("tinh-08", "bao-so-3", at, s) for at, s in plays], now)


def _sums() -> list[tuple]:
    from kiosk.province.fleet.models import PlayDay

    return sorted(PlayDay.objects.values_list("item", "day", "plays", "seconds"))


def test_plays_are_summed_as_they_arrive_and_a_resend_is_counted_once(board):
    from kiosk.province.fleet.fleetdata import play_sums
    from kiosk.province.fleet.models import Board, Play

    old = NOW - timedelta(days=20)
    # 16:30 to 17:25 UTC crosses midnight in Vietnam: two days there
    batch = [(old.replace(hour=16, minute=30) + timedelta(minutes=5 * n), 20.0) for n in range(12)]
    batch += [(NOW - timedelta(hours=n), 20.0) for n in range(5)]
    _send(board, batch, NOW)
    expected = [("bao-so-3", date(2026, 11, 12), 6, 120.0),
                ("bao-so-3", date(2026, 11, 13), 6, 120.0),
                ("bao-so-3", date(2026, 12, 2), 5, 100.0)]  # fmt: skip
    assert _sums() == expected
    assert Play.objects.count() == 5  # only the last plays_raw_days (3) are kept raw
    _send(board, batch, NOW + timedelta(minutes=1))  # the reply was lost: sent again
    assert _sums() == expected
    assert Board.objects.get(pk=board.pk).plays_stored == 17
    days = (date(2026, 11, 1), date(2026, 12, 2))
    assert play_sums(*days, [board.device_id]) == [
        {"channel": "tinh-08", "item": "bao-so-3", "device_id": board.device_id,
         "plays": 17, "seconds": 340.0}
    ]  # fmt: skip


def test_a_resend_after_its_raw_plays_expired_is_still_counted_once(board):
    from kiosk.province.fleet.expiry import expire_raw_plays
    from kiosk.province.fleet.models import Board, Play

    batch = [(NOW - timedelta(minutes=n), 10.0) for n in range(30)]
    _send(board, batch, NOW)
    later = NOW + timedelta(days=4)
    assert expire_raw_plays(later, later - timedelta(days=3)) == 30
    assert Play.objects.count() == 0
    _send(board, batch, later)  # the board was offline four days, the batch unacknowledged
    assert _sums() == [("bao-so-3", date(2026, 12, 2), 30, 300.0)]
    # a board offline longer delivers what it showed before, oldest first: new, counted
    _send(board, [(NOW + timedelta(hours=1), 10.0)], later)
    assert _sums() == [("bao-so-3", date(2026, 12, 2), 31, 310.0)]
    assert Board.objects.get(pk=board.pk).plays_stored == 31


def test_sums_equal_the_plays_they_came_from_whatever_the_resends_and_expiry(board):
    """A board's life at random: batches sent in order, some sent again at once or much
    later (a lost reply), expiry between them. The sums always equal the distinct plays."""
    from kiosk.province.fleet.expiry import expire_raw_plays
    from kiosk.province.fleet.fleetdata import province_tz

    rng = random.Random(27)
    shown, batches, now = {}, [], NOW - timedelta(days=30)
    while now < NOW:
        plays = []
        for _ in range(rng.randint(0, 40)):
            now += timedelta(seconds=rng.randint(5, 3600))
            plays.append((now, float(rng.choice((8, 10, 15)))))
        shown |= dict(plays)
        batches.append(plays)
        _send(board, plays, now + timedelta(seconds=1))
        if rng.random() < 0.3:  # sent again: right away, or days later
            again = rng.choice(batches)
            _send(board, again, now + timedelta(seconds=2))
        if rng.random() < 0.2:
            expire_raw_plays(now, now - timedelta(days=3))
    expected: dict[date, list] = {}
    for at, seconds in shown.items():
        day = expected.setdefault(at.astimezone(province_tz()).date(), [0, 0.0])
        day[0] += 1
        day[1] += seconds
    got = {day: [n, round(s, 6)] for _item, day, n, s in _sums()}
    assert got == {day: [n, round(s, 6)] for day, (n, s) in expected.items()}
    assert len(batches) > 50 and sum(n for n, _s in got.values()) == len(shown)


def test_expiry_deletes_in_steps_sized_to_hold_the_write_lock_briefly(board):
    from django.db import connection

    from kiosk.province.fleet.expiry import expire_raw_plays
    from kiosk.province.fleet.models import Play
    from kiosk.province.fleet.steps import STEP_S, next_chunk

    assert next_chunk(500, STEP_S) == 250  # took the whole step: half as many
    assert next_chunk(500, STEP_S / 20) == 1000  # quick: at most twice as many
    assert next_chunk(500, 10.0) == 50  # never fewer than 50
    _send(board, [(NOW - timedelta(seconds=n), 1.0) for n in range(1500)], NOW)
    ticks, limits = iter(range(1000)), []

    def watch(execute, sql, params, many, context):
        if sql.startswith("DELETE FROM fleet_play"):
            limits.append(params[-1])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):  # each step "takes" a tenth of STEP_S
        took = expire_raw_plays(NOW, NOW + timedelta(seconds=1),
                                clock=lambda: next(ticks) * STEP_S / 10)  # fmt: skip
    assert took == 1500 and Play.objects.count() == 0
    assert limits == [500, 1000, 2000]  # quick steps grow
    assert _sums() == [("bao-so-3", date(2026, 12, 2), 1500, 1500.0)]


def test_steps_on_sqlite_rest_between_them_so_waiting_heartbeats_get_the_lock():
    from kiosk.province.fleet.steps import BUDGET_S, REST_S, in_steps, rest_for

    assert rest_for("sqlite") == REST_S >= 0.1  # SQLite's busy handler sleeps up to 100 ms
    assert rest_for("postgresql") == 0  # row locks: nobody waits for the whole table
    left, rests, now = [1200], [], [0.0]

    def step(limit: int) -> tuple[int, float]:
        n = min(limit, left[0])
        left[0] -= n
        now[0] += 0.001
        return n, 0.001

    assert in_steps(step, lambda: now[0], REST_S, rests.append) == 1200
    assert rests == [REST_S]  # 500, rest, then 700 of 1000 asked: done, no rest after
    left[0], rests[:] = 10**9, []  # more than a run's budget: it stops and goes on next run

    def slow(limit: int) -> tuple[int, float]:
        now[0] += BUDGET_S / 4
        return limit, BUDGET_S / 4

    assert in_steps(slow, lambda: now[0], REST_S, rests.append) > 0 and len(rests) == 4


def test_a_board_gone_dark_is_noted_once_and_its_history_stays_bounded(board):
    from kiosk.province.fleet.ingest import note_change
    from kiosk.province.fleet.models import STATUS_HISTORY, Board, StatusChange
    from kiosk.province.server.housekeeping import note_dark_boards

    last = NOW - timedelta(minutes=4)
    Board.objects.filter(pk=board.pk).update(last_heartbeat_at=last, online_noted=True)
    assert note_dark_boards(NOW) == 0  # 4 minutes: still online
    assert note_dark_boards(NOW + timedelta(minutes=2)) == 1
    assert note_dark_boards(NOW + timedelta(minutes=3)) == 0
    change = StatusChange.objects.get(board=board)
    assert change.status == "offline" and change.at == last + timedelta(minutes=5)
    for n in range(STATUS_HISTORY + 50):
        note_change(board.pk, NOW + timedelta(seconds=n), "degraded", "disk_low")
    assert StatusChange.objects.filter(board=board).count() == STATUS_HISTORY
    newest = StatusChange.objects.filter(board=board).first()
    assert newest.at == NOW + timedelta(seconds=STATUS_HISTORY + 49)


def test_bulletins_keep_their_titles_after_they_leave_the_site(db, tmp_path):
    from kiosk.province.fleet.models import ItemTitle
    from kiosk.province.server.housekeeping import remember_titles

    ItemTitle.objects.all().delete()
    site = Province(tmp_path / "site")
    try:
        site.publish("tinh-08", [text("bao-so-3", title="Bão số 3"), text("b", title="")])
        (tmp_path / "site" / "channels" / "xa-1").mkdir(parents=True)
        (tmp_path / "site" / "channels" / "xa-1" / "manifest.json").write_text("{broken")
        assert remember_titles(tmp_path / "site", NOW) == 2
        assert remember_titles(tmp_path / "site", NOW) == 0  # nothing new: nothing written
        site.publish("tinh-08", [text("c", title="Lịch tiêm chủng")])
        assert remember_titles(tmp_path / "site", NOW) == 1
        titles = dict(ItemTitle.objects.values_list("item", "title"))
        assert titles == {"bao-so-3": "Bão số 3", "b": "Nội dung b", "c": "Lịch tiêm chủng"}
    finally:
        site.server.server_close()


@pytest.fixture
def boards(db):
    """Three boards in two districts and one of a reformed commune (no district)."""
    from kiosk.province.fleet.models import Board, ItemDay, ItemTotal

    Board.objects.all().delete()
    ItemDay.objects.all().delete()
    ItemTotal.objects.all().delete()
    made = [("08-02263-01", "Sơn Dương"), ("08-02264-01", "Sơn Dương"), ("08-02410-01", "Yên Sơn"),
            ("08-09999-01", "")]  # fmt: skip
    return [Board.objects.create(device_id=d, unit_name=f"UBND {d}", unit_kind="xa",
                                 province_code="08", district=area)
            for d, area in made]  # fmt: skip


def _figures(start: date, end: date):
    from kiosk.province.fleet import figures

    items = [("tinh-08", "a"), ("tinh-08", "b"), ("xa-02263", "c")]
    found = figures.shown(items, start, end)
    total = {k: (s.total.boards, s.total.plays, s.total.seconds) for k, s in found.items()}
    areas = {k: {a: (f.boards, f.plays, f.seconds) for a, f in s.areas.items()}
             for k, s in found.items()}  # fmt: skip
    return total, areas


def test_figures_are_the_same_before_the_rollup_after_it_and_in_between(boards):
    """Issue 27: pages read the rollup's sums plus what boards added since; a board that
    showed an item on two days is one board; any range of days gives the figures of the
    plays in it, whether the rollup ran never, once, or between two batches."""
    from kiosk.province.fleet.rollup import roll_up

    day1 = datetime(2026, 11, 30, 3, tzinfo=UTC)  # 10:00 in Vietnam
    sent = []  # (device, channel, item, at)

    def send(device, channel, item, at, n=3):
        plays = [(channel, item, at + timedelta(minutes=m), 10.0) for m in range(n)]
        deliver_plays(device, plays, NOW)
        sent.extend((device, channel, item, p[2]) for p in plays)

    ranges = [(date(2026, 11, 30), date(2026, 12, 2)), (date(2026, 12, 1), date(2026, 12, 1)),
              (date(2026, 11, 1), date(2026, 11, 30)),
              (date(2026, 12, 2), date(2026, 12, 31))]  # fmt: skip
    ids = [b.device_id for b in boards]
    for n, device in enumerate(ids):
        send(device, "tinh-08", "a", day1 + timedelta(hours=n))
        send(device, "tinh-08", "a", day1 + timedelta(days=1, hours=n))
    before = [_figures(*r) for r in ranges]
    assert roll_up() == 8
    assert [_figures(*r) for r in ranges] == before
    send(ids[0], "tinh-08", "a", day1 + timedelta(days=2))  # after the rollup: added on read
    send(ids[0], "tinh-08", "b", day1 + timedelta(days=2))
    send(ids[0], "xa-02263", "c", day1 + timedelta(days=2))
    between = [_figures(*r) for r in ranges]
    assert roll_up() == 3 and roll_up() == 0
    assert [_figures(*r) for r in ranges] == between
    whole, areas = between[0]
    assert whole == {("tinh-08", "a"): (4, 27, 270.0), ("tinh-08", "b"): (1, 3, 30.0),
                     ("xa-02263", "c"): (1, 3, 30.0)}  # fmt: skip
    assert areas[("tinh-08", "a")] == {"Sơn Dương": (2, 15, 150.0), "Yên Sơn": (1, 6, 60.0),
                                       "Tỉnh 08": (1, 6, 60.0)}  # fmt: skip
    assert between[1][0] == {("tinh-08", "a"): (4, 12, 120.0)}  # one day: part of a life
    assert between[2][0] == {("tinh-08", "a"): (4, 12, 120.0)}
    assert between[3][0] == {("tinh-08", "a"): (1, 3, 30.0), ("tinh-08", "b"): (1, 3, 30.0),
                             ("xa-02263", "c"): (1, 3, 30.0)}  # fmt: skip
    # every figure is the count of the plays sent in those days
    for (start, end), (total, _areas) in zip(ranges, between, strict=True):
        shown = [s for s in sent if start <= s[3].astimezone(VIETNAM).date() <= end]
        for key, (n_boards, plays, _seconds) in total.items():
            mine = [s for s in shown if (s[1], s[2]) == key]
            assert (n_boards, plays) == (len({s[0] for s in mine}), len(mine))
