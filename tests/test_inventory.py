"""The inventory (SPEC 6) as a department's spreadsheet writes it, and every way it goes wrong."""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.core.inventory import InventoryError, load_inventory, parse_inventory

HEADER = "device_id,health_url,unit_name,unit_kind,province_code,commune_code,district,installed_on"
ROW = "08-02263-01,http://10.8.0.5:8080,UBND xã Tân Trào,xa,08,02263,Sơn Dương,2024-04-16"


def problems(text: str) -> list[str]:
    with pytest.raises(InventoryError) as caught:
        parse_inventory(text, "inv.csv")
    return caught.value.problems


def test_a_good_inventory_reads_as_boards():
    (board,) = parse_inventory(f"{HEADER}\n{ROW}\n")
    assert board.device_id == "08-02263-01"
    assert board.health_url == "http://10.8.0.5:8080/health"
    assert (board.unit_name, board.unit_kind, board.district) == (
        "UBND xã Tân Trào",
        "xa",
        "Sơn Dương",
    )
    assert (board.province_code, board.commune_code) == ("08", "02263")
    assert board.installed_on == date(2024, 4, 16)


def test_what_spreadsheets_write_is_read_as_meant():
    """Excel's "CSV UTF-8" starts with a byte-order mark; set to Vietnamese it separates with
    ';'; it writes 16/04/2024; it leaves blank lines; another tool writes decomposed marks."""
    nfd = unicodedata.normalize("NFD", "Sơn  Dương")
    text = (
        "\ufeff" + HEADER.replace(",", ";") + ";ghi_chu\n"
        f"08-02263-01;http://10.8.0.5:8080/;UBND xã Tân Trào;xa;08;02263;{nfd};16/04/2024;\n"
        '08-02264-01;http://10.8.0.6:8080;"UBND xã\nKim Quan";xa;08;02264;Sơn Dương;2024-5-1;x\n'
        ";;;;;;;;\n\n"
    )
    first, second = parse_inventory(text)
    assert first.district == second.district == "Sơn Dương"  # one district, not two
    assert first.installed_on == date(2024, 4, 16)
    assert first.health_url == "http://10.8.0.5:8080/health"
    assert second.unit_name == "UBND xã Kim Quan"


def test_district_and_province_boards_need_no_commune_code():
    text = (
        f"{HEADER},province_name\n"
        "08-00001-01,https://proxy.vn/b/1/health,Quảng trường,tinh,08,,,2023-09-02,Tuyên Quang\n"
    )
    (board,) = parse_inventory(text)
    assert board.commune_code is None and board.district is None
    assert board.province_name == "Tuyên Quang"
    assert board.health_url == "https://proxy.vn/b/1/health"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["inv.csv: is empty; the first row names the columns"]),
        (f"{HEADER}\n", ["inv.csv: has a header but no boards"]),
        (
            "device_id,health_url,unit_name\n" + ROW,
            [
                "inv.csv: row 1 (the header): missing column(s) unit_kind, province_code, "
                "commune_code, district, installed_on; the header needs " + HEADER
            ],
        ),
        (
            HEADER + ",district\n" + ROW + ",x",
            ["inv.csv: row 1 (the header): column(s) district twice"],
        ),
        (
            f"{HEADER}\n{ROW}\n{ROW.replace('10.8.0.5', '10.8.0.6')}\n"
            f"{ROW.replace('08-02263-01', '08-02263-02')}",
            [
                "inv.csv: row 3, column device_id: '08-02263-01' is already on row 2",
                "inv.csv: row 4, column health_url: 'http://10.8.0.5:8080/health' is already "
                "on row 2",
            ],
        ),
        (
            f"{HEADER}\n{ROW.replace('http://10.8.0.5:8080', 'http://10.8.0.5:80a')}",
            [
                "inv.csv: row 2, column health_url: 'http://10.8.0.5:80a' has a port that is not "
                "a number"
            ],
        ),
        (
            f"{HEADER}\n{ROW.replace(',xa,', ',thị trấn,')}",
            [
                "inv.csv: row 2, column unit_kind: 'thị trấn' is not one of xa, phuong, dac_khu, "
                "thi_tran, huyen, tinh (did you mean 'thi_tran'?)"
            ],
        ),
        (
            f'{HEADER}\n{ROW}\n"08-02264-01,http://x',
            ["inv.csv: row 3: not valid CSV: unexpected end of data"],
        ),
    ],
)
def test_each_problem_is_named_with_row_and_column(text, expected):
    assert problems(text) == expected


def test_a_long_list_of_problems_is_cut_short_and_says_so():
    rows = [ROW.replace("2024-04-16", "hôm qua").replace("08-02263-01", f"08-{i:05d}-01")
            .replace("10.8.0.5", f"10.8.{i // 250}.{i % 250}") for i in range(80)]  # fmt: skip
    found = problems("\n".join([HEADER, *rows]))
    assert len(found) == 51
    assert found[0] == (
        "inv.csv: row 2, column installed_on: 'hôm qua' is not a date such as 2024-04-16 "
        "or 16/04/2024"
    )
    assert found[-1] == "inv.csv: ... and 30 more"


def test_a_file_that_is_not_utf8_or_not_there_is_named(tmp_path):
    latin = tmp_path / "cp1258.csv"
    latin.write_bytes(f"{HEADER}\n{ROW}".encode("cp1258", "replace"))
    with pytest.raises(InventoryError) as caught:
        load_inventory(latin)
    assert caught.value.problems == [
        f'{latin}: row 2: is not UTF-8 text; save the file as "CSV UTF-8"'
    ]
    with pytest.raises(InventoryError) as caught:
        load_inventory(tmp_path / "missing.csv")
    assert caught.value.problems == [
        f"{tmp_path / 'missing.csv'}: cannot be read: No such file or directory"
    ]


GOOD_CELLS = ROW.split(",")
cells = st.lists(
    st.one_of(
        st.sampled_from([*GOOD_CELLS, "", "16/04/2024", "phuong", "tinh", "https://a.vn/x"]),
        st.text(max_size=12),
    ),
    min_size=7,
    max_size=9,
)


@given(st.lists(cells, max_size=6), st.booleans())
def test_any_rows_give_boards_or_named_problems_never_a_crash(rows, semicolons):
    out = io.StringIO()
    csv.writer(out, delimiter=";" if semicolons else ",").writerows(rows)
    header = HEADER.replace(",", ";") if semicolons else HEADER
    try:
        boards = parse_inventory(header + "\n" + out.getvalue())
    except InventoryError as exc:
        assert exc.problems and all(p.startswith("INVENTORY.csv: ") for p in exc.problems)
    else:
        assert boards and len({b.device_id for b in boards}) == len(boards)
        assert all(b.health_url.endswith("/health") for b in boards)
