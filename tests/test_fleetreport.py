"""The yearly report's core (kiosk/core/fleet.py): counts and verdicts per area, from boards,
the boards that answered, the targets and the day. Pure, so tested case by case."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.core.config import ConfigError
from kiosk.core.fleet import (
    REFORM_TITLE,
    AreaTotals,
    Targets,
    build_report,
    default_targets,
    parse_targets,
    report_csv,
)
from kiosk.core.inventory import InventoryBoard

DAY = date(2026, 11, 25)


def board(ident: str, kind: str, commune: str | None, district: str | None, **kw):
    return InventoryBoard(
        device_id=ident,
        health_url=f"http://{ident}.local/health",
        unit_name=f"UBND {ident}",
        unit_kind=kind,
        province_code=kw.pop("province", "08"),
        commune_code=commune,
        district=district,
        installed_on=kw.pop("installed_on", date(2024, 4, 16)),
        **kw,
    )


def test_the_default_targets_are_the_plans_one_ward_or_town_and_two_communes():
    boards = [
        board("a", "phuong", "00001", "Yên Sơn"),
        board("b", "xa", "00002", "Yên Sơn"),
        board("c", "xa", "00003", "Yên Sơn"),
        board("d", "thi_tran", "00004", "Hàm Yên"),
        board("e", "xa", "00005", "Hàm Yên"),
    ]
    report = build_report(boards, {"a", "b", "d"}, Targets(), DAY)
    yen_son = next(a for a in report.areas if a.label == "Yên Sơn")
    ham_yen = next(a for a in report.areas if a.label == "Hàm Yên")
    assert yen_son.meets and not ham_yen.meets
    assert (ham_yen.communes_need.have, ham_yen.communes_need.need) == (1, 2)
    assert ham_yen.communes_need.short == 1 and ham_yen.wards_towns_need.met
    assert (report.installed, report.online, report.meeting) == (5, 3, 1)
    assert [b.device_id for b in ham_yen.offline] == ["e"]


def test_units_with_a_board_count_once_however_many_boards_they_have():
    boards = [board(f"x{i}", "xa", "00002", "Yên Sơn") for i in range(3)]
    boards.append(board("w", "phuong", "00001", "Yên Sơn"))
    (area,) = build_report(boards, set(), Targets(), DAY).areas
    assert area.communes == 3  # boards, as SPEC 6 counts them
    assert area.communes_need.have == 1  # communes with a board, as the plan counts them
    assert not area.meets


def test_on_the_online_basis_only_boards_that_answered_count():
    boards = [
        board("w", "phuong", "00001", "Yên Sơn"),
        board("c1", "xa", "00002", "Yên Sơn"),
        board("c2", "xa", "00003", "Yên Sơn"),
    ]
    installed = build_report(boards, {"w", "c1"}, Targets(), DAY).areas[0]
    online = build_report(boards, {"w", "c1"}, Targets(basis="online"), DAY).areas[0]
    assert installed.meets and not online.meets
    assert online.communes_need.have == 1
    assert (online.communes, online.communes_online) == (2, 1)


@pytest.mark.parametrize(
    ("total", "percent", "need"),
    [(10, 70, 7), (3, 70, 3), (2, 70, 2), (1, 70, 1), (0, 70, 0), (7, 100, 7), (20, 33.3, 7)],
)
def test_percentages_round_up_to_whole_units(total, percent, need):
    targets = Targets(
        min_wards_towns=0, min_communes=0, communes_percent=percent,
        areas={"Yên Sơn": AreaTotals(wards_towns=1, communes=total)},
    )  # fmt: skip
    (area,) = build_report([board("w", "phuong", "00001", "Yên Sơn")], set(), targets, DAY).areas
    assert area.communes_need.need == need


def test_a_minimum_is_capped_by_what_an_area_has():
    """ "At least 2 communes" in a district of wards only is met, not impossible."""
    targets = Targets(areas={"Thành phố": AreaTotals(wards_towns=3, communes=0)})
    boards = [board("w", "phuong", "00001", "Thành phố")]
    (area,) = build_report(boards, set(), targets, DAY).areas
    assert area.communes_need.need == 0 and area.meets


def test_targets_that_cannot_be_judged_name_the_area():
    boards = [board(f"c{i}", "xa", f"0000{i}", "Yên Sơn") for i in range(3)]
    with pytest.raises(ConfigError) as caught:
        build_report(boards, set(), Targets(communes_percent=70), DAY)
    assert caught.value.problems == [
        'targets: [areas."Yên Sơn"]: the 70% target needs the number of communes in Yên Sơn'
    ]
    too_few = Targets(areas={"Yên Sơn": AreaTotals(wards_towns=1, communes=2)})
    with pytest.raises(ConfigError) as caught:
        build_report(boards, set(), too_few, DAY)
    assert caught.value.problems == [
        'targets: [areas."Yên Sơn"]: Yên Sơn has boards in 3 communes, but the targets give it 2'
    ]


def test_areas_the_targets_name_appear_even_without_a_board():
    targets = Targets(areas={"Lâm Bình": AreaTotals(1, 8)})
    report = build_report([board("w", "phuong", "00001", "Yên Sơn")], set(), targets, DAY)
    assert [a.label for a in report.areas] == ["Lâm Bình", "Yên Sơn"]
    empty = report.areas[0]
    assert (empty.wards_towns, empty.communes, empty.meets) == (0, 0, False)


def test_boards_not_yet_installed_and_boards_above_communes_are_set_apart():
    boards = [
        board("w", "phuong", "00001", "Yên Sơn"),
        board("later", "xa", "00002", "Yên Sơn", installed_on=date(2026, 12, 1)),
        board("district", "huyen", None, "Yên Sơn"),
        board("other", "huyen", None, "Hàm Yên"),
        board("square", "tinh", None, None),
    ]
    report = build_report(boards, {"district"}, Targets(), DAY)
    (area,) = report.areas
    assert (area.label, area.communes, area.others, area.others_online) == ("Yên Sơn", 0, 1, 1)
    assert [b.device_id for b in report.planned] == ["later"]
    assert sorted(b.device_id for b in report.outside) == ["other", "square"]
    assert report.installed == 4  # "later" is not yet


def test_without_districts_the_province_is_the_area_and_names_repeat_across_provinces():
    boards = [
        board("a", "phuong", "00001", None, province_name="Tuyên Quang"),
        board("b", "xa", "00002", None),
    ]
    assert [a.label for a in build_report(boards, set(), Targets(), DAY).areas] == ["Tuyên Quang"]
    two = [
        board("a", "xa", "00001", "Châu Thành", province="82"),
        board("b", "xa", "00002", "Châu Thành", province="83"),
    ]
    labels = [a.label for a in build_report(two, set(), Targets(), DAY).areas]
    assert labels == ["Châu Thành (Mã tỉnh 82)", "Châu Thành (Mã tỉnh 83)"]


def test_areas_sort_as_vietnamese_reads_them():
    names = ["Yên Sơn", "Đầm Hà", "Ân Thi", "Bình Liêu", "Ea Súp", "Dương Minh Châu", "Bà Rịa",
             "Ba Vì", "Bạc Liêu", "An Lão"]  # fmt: skip
    boards = [board(f"b{i}", "xa", f"0000{i}", name) for i, name in enumerate(names)]
    report = build_report(boards, set(), Targets(), DAY)
    assert [a.label for a in report.areas] == [
        "An Lão",
        "Ân Thi",
        "Bà Rịa",
        "Ba Vì",
        "Bạc Liêu",
        "Bình Liêu",
        "Dương Minh Châu",
        "Đầm Hà",
        "Ea Súp",
        "Yên Sơn",
    ]  # fmt: skip  (ă, â, đ are letters of their own; tones order only alike names)


def test_targets_toml_is_checked_key_by_key():
    targets = parse_targets(
        {"title": "Năm 2025", "wards_towns_percent": 100, "communes_percent": 70.5,
         "min_communes": 0, "areas": {"Na  Hang": {"wards_towns": 1, "communes": 9}}},
        "t.toml",
    )  # fmt: skip
    assert (targets.title, targets.min_wards_towns, targets.min_communes) == ("Năm 2025", 1, 0)
    assert (targets.wards_towns_percent, targets.communes_percent) == (100.0, 70.5)
    assert targets.areas == {"Na Hang": AreaTotals(1, 9)}
    with pytest.raises(ConfigError) as caught:
        parse_targets(
            {"min_communes": -1, "min_wards_towns": 1.5, "communes_percent": True,
             "area": {}, "areas": {"X": {"wards_towns": "một"}, "Y": 3}},
            "t.toml",
        )  # fmt: skip
    assert caught.value.problems == [
        "t.toml: area: unknown key",
        "t.toml: min_wards_towns: must be a whole number, got 1.5",
        "t.toml: min_communes: must be 0 or more, got -1",
        "t.toml: communes_percent: must be a number, got True",
        "t.toml: [areas.\"X\"]: wards_towns: must be a whole number, got 'một'",
        't.toml: [areas."Y"]: must be a table with wards_towns and communes',
    ]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["phuong", "thi_tran", "xa", "dac_khu", "huyen", "tinh"]),
            st.integers(0, 5),
            st.sampled_from(["Yên Sơn", "Hàm Yên", None]),
            st.booleans(),
            st.booleans(),
        ),
        max_size=25,
    )
)
def test_every_board_installed_is_counted_once_and_the_csv_agrees(rows):
    boards = [
        board(f"b{i}", kind, f"{commune:05d}" if kind not in ("huyen", "tinh") else None,
              district, installed_on=date(2027, 1, 1) if later else DAY)
        for i, (kind, commune, district, _, later) in enumerate(rows)
    ]  # fmt: skip
    online = {f"b{i}" for i, row in enumerate(rows) if row[3]}
    report = build_report(boards, online, Targets(), DAY)
    counted = sum(a.wards_towns + a.communes + a.others for a in report.areas)
    assert counted + len(report.outside) == report.installed
    assert report.installed + len(report.planned) == len(boards)
    lines = report_csv(report).splitlines()
    assert len(lines) == len(report.areas) + 1
    for line, area in zip(lines[1:], report.areas, strict=True):
        cells = line.split(",")
        assert int(cells[2]) <= int(cells[1]) and int(cells[4]) <= int(cells[3])
        assert cells[5] == ("yes" if area.meets else "no")


def test_after_the_2025_reform_the_default_is_a_board_at_every_commune_and_ward():
    """Issue 26, 9: an inventory laid out as after the 2025 reform (no districts) was judged
    by the 2024 rule per district, "1 ward and 2 communes" for a whole province. Its default
    is now the plans' aim: every commune and ward it lists has a board; an inventory that
    names districts keeps Plan 117's rule (SPEC 6)."""
    after = [
        board("w1", "phuong", "00001", None),
        board("c1", "xa", "00002", None),
        board("c2", "xa", "00003", None),
        board("c3", "xa", "00004", None, installed_on=date(2027, 3, 1)),  # planned
    ]
    targets = default_targets(after)
    assert targets.title == REFORM_TITLE and targets.min_communes == 0
    (area,) = build_report(after, set(), targets, DAY).areas
    assert (area.communes_need.have, area.communes_need.need) == (2, 3)
    assert (area.wards_towns_need.have, area.wards_towns_need.need) == (1, 1)
    assert not area.meets  # the planned commune has no board yet
    (done,) = build_report(after, set(), targets, date(2027, 3, 2)).areas
    assert done.meets
    before = [board("c1", "xa", "00002", "Yên Sơn"), board("c2", "xa", "00003", None)]
    assert default_targets(before) == Targets()  # districts named: Plan 117, per district
