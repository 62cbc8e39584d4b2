"""What the province server does each minute (kiosk/province/server/housekeeping.py), in
process against a real SQLite database and with the time pinned: old plays fold into daily
sums without changing any total, a board gone dark is noted once, the history stays bounded,
and bulletins keep their titles after they leave the site."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.province import Province, text

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam


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


def test_old_plays_fold_into_daily_sums_and_no_total_changes(board):
    from kiosk.province.fleet.fleetdata import play_sums
    from kiosk.province.fleet.models import Play, PlayDay
    from kiosk.province.server.housekeeping import fold_old_plays

    old = NOW - timedelta(days=100)
    # 16:30 to 17:30 UTC crosses midnight in Vietnam: two days there
    for n in range(12):
        Play.objects.create(board=board, channel="tinh-08", item="bao-so-3",
                            started_at=old.replace(hour=16, minute=30) + timedelta(minutes=5 * n),
                            duration_s=20.0)  # fmt: skip
    for n in range(5):
        Play.objects.create(board=board, channel="tinh-08", item="bao-so-3",
                            started_at=NOW - timedelta(hours=n), duration_s=20.0)  # fmt: skip
    days = (date(2026, 8, 1), date(2026, 12, 2))
    before = play_sums(*days)
    assert fold_old_plays(NOW, 90) == 12
    assert Play.objects.count() == 5
    assert sorted(PlayDay.objects.values_list("day", "plays")) == [
        (date(2026, 8, 24), 6),
        (date(2026, 8, 25), 6),
    ]
    assert play_sums(*days) == before == [
        {"channel": "tinh-08", "item": "bao-so-3", "device_id": board.device_id,
         "plays": 17, "seconds": 340.0}
    ]  # fmt: skip
    assert fold_old_plays(NOW, 90) == 0
    # a late replay of old plays is folded into the same day's sum
    Play.objects.create(board=board, channel="tinh-08", item="bao-so-3",
                        started_at=old.replace(hour=17, minute=59), duration_s=10.0)  # fmt: skip
    assert fold_old_plays(NOW, 90) == 1
    assert PlayDay.objects.get(day=date(2026, 8, 25)).plays == 7


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
