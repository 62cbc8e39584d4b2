"""Issue 27: every list of the console holds at a province's real size, a page at a time,
filtered in the database: bulletins, the fleet, proof of play and the report; the bulletin
form finds a commune by typing. In process, on the console's SQLite (test_console.py's
fixture), with the figures checked against the plays delivered."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from tests.delivered import deliver_plays
from tests.test_console import OTHER, TAN_TRAO, client, console  # noqa: F401 (the fixture)

pytestmark = pytest.mark.usefixtures("console")


def _bulletins(n: int, channel: str, title: str):
    from kiosk.province.bulletins.models import Bulletin

    now = timezone.now()
    made = []
    for k in range(n):
        b = Bulletin(kind="text", priority="normal", title=f"{title} {k}", body="…",
                     channels=[channel], created_at=now,
                     updated_at=now - timedelta(minutes=k))  # fmt: skip
        b.save()
        made.append(b)
    return made


def _count(page: str, element: str = "count") -> str:
    return re.search(rf'id="{element}"[^>]*>(.*?)</p>', page, re.S).group(1)


def test_the_bulletin_list_is_paged_searched_and_shows_an_officer_only_theirs():
    _bulletins(60, TAN_TRAO, "Lịch tiêm chủng đợt")
    _bulletins(3, OTHER, "Họp dân khu phố")
    admin = client("quan-tri")
    first = admin.get("/bulletins/").content.decode()
    assert "63 bản tin" in _count(first)
    assert first.count('id="bulletin-') == 50 and 'id="next"' in first
    second = admin.get("/bulletins/?page=2").content.decode()
    assert second.count('id="bulletin-') == 13 and 'id="prev"' in second
    assert 'id="next"' not in second
    # words without marks or case find the titles with them; the filter stays on the pages
    found = admin.get("/bulletins/?q=LICH+TIEM+chung").content.decode()
    assert "60 bản tin" in _count(found) and "page=2" in found and "q=LICH" in found
    assert "3 bản tin" in _count(admin.get("/bulletins/?q=hop+dan").content.decode())
    # an author of one commune sees that commune's, counted in the database
    mine = client("tac-gia-khac").get("/bulletins/").content.decode()
    assert "3 bản tin" in _count(mine) and "Lịch tiêm chủng đợt" not in mine


def test_the_form_finds_a_commune_by_typing_and_offers_no_commune_it_was_not_asked():
    author = client("tac-gia")
    page = author.get("/bulletins/new").content.decode()
    assert 'id="commune-search"' in page
    assert f'value="{TAN_TRAO}"' not in page  # communes are found, not listed
    assert author.get("/bulletins/targets?q=tan+trao").json() == {
        "targets": [{"key": TAN_TRAO, "label": "UBND xã Tân Trào (Sơn Dương)"}]
    }
    # an author limited to Tân Trào is not offered another commune, typed however
    assert author.get("/bulletins/targets?q=khac").json() == {"targets": []}
    admin = client("quan-tri")
    assert [t["key"] for t in admin.get("/bulletins/targets?q=02500").json()["targets"]] == [
        OTHER]  # fmt: skip
    # a chosen commune stays on the form when it comes back with an error
    again = author.post("/bulletins/new", {"kind": "text", "priority": "normal", "title": "",
                                           "duration": "10", "fit": "contain",
                                           "targets": [TAN_TRAO]}).content.decode()  # fmt: skip
    assert f'value="{TAN_TRAO}"' in again and "checked" in again


def test_the_fleet_page_is_paged_counted_and_filtered_in_the_database():
    from kiosk.province.fleet.models import Board

    now = timezone.now()
    for n in range(150):
        Board.objects.create(device_id=f"08-{30000 + n}-01", unit_name=f"UBND phường Số {n}",
                             unit_kind="phuong", province_code="08", commune_code=f"{30000 + n}",
                             district="Yên Sơn",
                             last_heartbeat_at=now - timedelta(minutes=10 if n % 2 else 1),
                             status="ok")  # fmt: skip
    tech = client("ky-thuat")
    page = tech.get("/boards/").content.decode()
    assert page.count('<tr id="board-') == 100 and 'id="next"' in page
    counts = _count(page, "counts")
    assert "Tất cả</a> 153" in counts
    assert re.search(r"Mất kết nối</span></a> 75", counts), counts
    offline = tech.get("/boards/?state=offline").content.decode()
    assert offline.count('<tr id="board-') == 75
    # offline boards come first on the whole list: the worst first
    assert page.index("Số 1<") < page.index("Số 0<")
    found = tech.get("/boards/?q=phuong+so+14").content.decode()  # no marks
    ids = re.findall(r'<tr id="board-([^"]+)"', found)
    assert sorted(ids) == ["08-30014-01", *(f"08-{30140 + k}-01" for k in range(10))]
    area = tech.get("/boards/?area=S%C6%A1n+D%C6%B0%C6%A1ng").content.decode()
    assert area.count('<tr id="board-') == 2


def test_proof_of_play_pages_filter_by_area_and_words_with_the_figures_delivered():
    from kiosk.province.fleet.models import ItemTitle
    from kiosk.province.fleet.rollup import roll_up

    now = datetime.now(UTC)
    for device, item, n in (("08-02263-01", "bt-1", 3), ("08-02410-01", "bt-1", 2),
                            ("08-02500-01", "bt-1", 4), ("08-02500-01", "bt-2", 5)):  # fmt: skip
        deliver_plays(device, [("tinh-08", item, now - timedelta(minutes=m), 10.0)
                               for m in range(1, n + 1)], now)  # fmt: skip
    for item, title in (("bt-1", "Bão số 3 đổ bộ"), ("bt-2", "Lịch tiếp công dân")):
        ItemTitle.objects.update_or_create(channel="tinh-08", item=item, defaults={
            "title": title, "title_key": title, "seen_at": now})  # fmt: skip
    from kiosk.core.vietnamese import search_key

    for t in ItemTitle.objects.all():
        ItemTitle.objects.filter(pk=t.pk).update(title_key=search_key(t.title))
    roll_up()
    officer = client("tac-gia")
    everything = officer.get("/plays/").content.decode()
    assert "2 bản tin" in _count(everything)
    rows = re.findall(r"<td>(\d+)</td><td>(\d+)</td>", everything)
    assert ("3", "9") in rows and ("1", "5") in rows  # bt-1: 3 boards, 9 plays in all
    storm = officer.get("/plays/?q=bao+so+3").content.decode()
    assert "1 bản tin" in _count(storm) and "Bão số 3" in storm and "Lịch tiếp" not in storm
    yen_son = officer.get("/plays/?area=Y%C3%AAn+S%C6%A1n").content.decode()
    assert "2 bản tin" in _count(yen_son)
    assert ("1", "4") in re.findall(r"<td>(\d+)</td><td>(\d+)</td>", yen_son)  # that area's
    csv_text = officer.get("/plays.csv?area=Y%C3%AAn+S%C6%A1n").getvalue().decode("utf-8-sig")
    assert csv_text.splitlines()[1:] == [
        "tinh-08,bt-1,Bão số 3 đổ bộ,Yên Sơn,1,4,40",
        "tinh-08,bt-2,Lịch tiếp công dân,Yên Sơn,1,5,50",
    ]
