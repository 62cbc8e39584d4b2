"""`kiosk fleet status` and `kiosk fleet report` against a province of real servers on
127.0.0.1: a running kiosk, servers answering recorded /health documents, and boards that
hang, answer something else, answer as another board, or are not there."""

from __future__ import annotations

import csv
import json
import os
import pty
import re
import select
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from contextlib import ExitStack
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest

from tests.countingsource import free_port
from tests.fleetboards import HealthBoard, recorded
from tests.province import Province
from tests.test_cli import argv, kiosk
from tests.test_healthsrv import kiosk_running, publish_both, wait_for

HEADER = (
    "device_id,health_url,unit_name,unit_kind,province_code,commune_code,district,"
    "installed_on,province_name"
)
AS_OF = "2026-11-25"
TIMEOUT = "2"
SVG = "{http://www.w3.org/2000/svg}"


@dataclass
class Fleet:
    inventory: Path
    rows: list[list[str]]


@pytest.fixture(scope="module")
def fleet():
    """Twelve boards of Tuyên Quang in four areas, one district with only a district board."""
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        province = Province(tmp / "site")
        province.server.start()
        stack.callback(province.server.stop)
        publish_both(province)
        live = stack.enter_context(kiosk_running(tmp, province))  # 08-02263-01, Tân Trào
        wait_for(live, lambda _, doc: doc["status"] == "ok" and doc["display"]["current_item"])

        def board(doc=None, **kw) -> str:
            server = HealthBoard(doc, **kw)
            stack.callback(server.stop)
            return server.url

        gone = f"http://127.0.0.1:{free_port()}"
        rows = [
            ["08-02410-01", board(recorded("08-02410-01", "UBND thị trấn Sơn Dương", temp=58.0)),
             "UBND thị trấn Sơn Dương", "thi_tran", "08", "02410", "Sơn Dương", "2024-03-01"],
            ["08-02263-01", live, "UBND xã Tân Trào", "xa", "08", "02263", "Sơn Dương",
             "2024-04-16"],
            ["08-02266-01", gone, "UBND xã Minh Thanh", "xa", "08", "02266", "Sơn Dương",
             "16/05/2024"],
            ["08-02195-01", board(recorded("08-02195-01", "UBND thị trấn Na Hang"), hang_s=6),
             "UBND thị trấn Na Hang", "thi_tran", "08", "02195", "Na Hang", "2024-06-01"],
            ["08-02201-01",
             board(recorded("08-02201-01", "UBND xã Thượng Lâm", "failing", ("no_content",), None)),
             "UBND xã Thượng Lâm", "xa", "08", "02201", "Na  Hang", "2024-06-02"],
            ["08-02212-01", board(recorded("08-02290-01", "UBND xã Khuôn Hà")),
             "UBND xã Đà Vị", "xa", "08", "02212", "Lâm Bình", "2024-07-01"],
            ["08-02212-02",
             board(recorded("08-02212-02", "UBND xã Đà Vị", "degraded",
                            ("overheating", "sync_failing"), temp=84.2, last_sync=None)),
             "UBND xã Đà Vị (chợ)", "xa", "08", "02212", "Lâm Bình", "2024-07-02"],
            ["08-02215-01", board(recorded("08-02215-01", "UBND xã Lăng Can")),
             "UBND xã Lăng Can", "xa", "08", "02215", "Lâm Bình", "2027-01-10"],
            ["08-00070-01", board(body=b"<html>router login</html>"),
             "UBND phường Minh Xuân", "phuong", "08", "00070", "", "2024-02-01"],
            ["08-00001-01", board(recorded("08-00001-01", "Quảng trường Nguyễn Tất Thành")),
             "Quảng trường Nguyễn Tất Thành", "tinh", "08", "", "", "2023-09-02"],
            ["08-00073-01", board(recorded("08-00073-01", "UBND huyện Hàm Yên")),
             "UBND huyện Hàm Yên", "huyen", "08", "", "Hàm Yên", "2024-01-05"],
            ["08-00074-01", board(recorded("08-00074-01", "UBND phường Tân Quang")),
             "UBND phường Tân Quang", "phuong", "08", "00074", "", "2024-02-02"],
        ]  # fmt: skip
        inventory = tmp / "bang-tin.csv"
        lines = [HEADER] + [",".join(f'"{c}"' for c in [*r, "Tuyên Quang"]) for r in rows]
        inventory.write_text("\n".join(lines) + "\n", "utf-8")
        yield Fleet(inventory, rows)


def table_rows(stdout: str) -> dict[str, str]:
    """The status table's lines by device id (the first column)."""
    lines = stdout.splitlines()
    assert re.split(r"\s{2,}", lines[0]) == [
        "bảng tin", "đơn vị", "địa bàn", "trạng thái", "đang hiển thị", "sự cố",
        "đồng bộ gần nhất", "nhiệt độ", "phiên bản",
    ]  # fmt: skip
    return {line.split()[0]: line for line in lines[2:] if re.match(r"\d\d-", line)}


def test_fleet_status_shows_every_board_the_silent_ones_as_such(fleet, tmp_path):
    started = time.monotonic()
    done = kiosk("fleet", "status", str(fleet.inventory), "--timeout", TIMEOUT,
                 "--out", str(tmp_path / "out"))  # fmt: skip
    elapsed = time.monotonic() - started
    assert done.returncode == 1, done.stderr  # some boards do not answer, one is failing
    assert "Traceback" not in done.stderr
    rows = table_rows(done.stdout)
    assert list(rows) == [r[0] for r in fleet.rows]  # the inventory's order
    ok = rows["08-02410-01"]
    assert "UBND thị trấn Sơn Dương" in ok and " Bình thường " in ok
    assert "tinh-08/a" in ok and "58 °C" in ok and "08:30 ngày 23/11/2026" in ok  # Vietnam's time
    assert "0.1.0" in ok
    live = rows["08-02263-01"]  # the running kiosk: it has no thermometer here
    assert " Bình thường " in live and "UBND xã Tân Trào" in live
    assert re.search(r"(tinh-08|xa-02263)/", live)
    assert "không kết nối được" in rows["08-02266-01"]
    assert "không trả lời kịp" in rows["08-02195-01"]
    failing = rows["08-02201-01"]
    assert " Hỏng " in failing and "Không có nội dung" in failing and "Na Hang" in failing
    wrong = rows["08-02212-01"]
    assert "sai bảng tin" in wrong and "bảng tin khác trả lời: 08-02290-01" in wrong
    hot = rows["08-02212-02"]
    assert "Có vấn đề" in hot and "Thiết bị quá nóng, Không đồng bộ được" in hot
    assert "84 °C" in hot and "chưa có" in hot
    assert "không phải trang /health của bảng tin" in rows["08-00070-01"]
    assert done.stdout.splitlines()[-2] == (
        "12 bảng tin: 6 bình thường, 1 có vấn đề, 1 hỏng, 4 không trả lời"
    )
    assert elapsed < 2 * float(TIMEOUT) + 4  # together, each within its timeout

    with open(tmp_path / "out" / "status.csv", encoding="utf-8", newline="") as f:
        written = {r["Mã thiết bị"]: r for r in csv.DictReader(f)}
    assert list(written) == [r[0] for r in fleet.rows]
    hot = written["08-02212-02"]
    assert hot["Sự cố"] == "Thiết bị quá nóng, Không đồng bộ được với hệ thống nguồn"
    assert (hot["Nhiệt độ (°C)"], hot["Trả lời"], hot["Trạng thái"]) == ("84.2", "có", "Có vấn đề")
    assert written["08-02410-01"]["Đồng bộ gần nhất"] == "2026-11-23 08:30"  # for a spreadsheet
    assert written["08-02212-01"]["Trả lời"] == "không"
    assert written["08-02212-01"]["Trạng thái"] == ""  # another board's state is not this one's
    assert written["08-02266-01"]["Lỗi"] == "không kết nối được"
    assert written["08-02201-01"]["Địa bàn"] == "Na Hang"  # spaces made one
    doc = json.loads((tmp_path / "out" / "status.json").read_text("utf-8"))
    by_id = {b["device_id"]: b for b in doc["boards"]}
    assert by_id["08-02263-01"]["health"]["device"]["unit_name"] == "UBND xã Tân Trào"
    assert by_id["08-02266-01"]["installed_on"] == "2024-05-16"
    hanging = by_id["08-02195-01"]
    assert (hanging["online"], hanging["health"], hanging["error"]) == (
        False,
        None,
        "no answer in time",
    )


def test_fleet_status_shows_progress_on_a_terminal(fleet):
    """A technician at a terminal sees the boards counted as they answer."""
    main, other = pty.openpty()
    proc = subprocess.Popen(
        argv("fleet", "status", str(fleet.inventory), "--timeout", TIMEOUT),
        stdout=subprocess.PIPE,
        stderr=other,
        env={  # a terminal, whatever the CI's environment says about its own
            **{k: v for k, v in os.environ.items() if not k.startswith(("TTY_", "FORCE_"))},
            "TERM": "xterm",
            "COLUMNS": "100",
        },
    )
    os.close(other)
    seen = b""
    while True:
        ready, _, _ = select.select([main], [], [], 15)
        if not ready:
            break
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        seen += chunk
    out, _ = proc.communicate(timeout=30)
    os.close(main)
    shown = seen.decode("utf-8", "replace")
    assert "asking boards" in shown
    assert re.search(r"\b\d{1,2}/12\b", shown)  # boards done of twelve
    assert "12 bảng tin:".encode() in out  # the table itself goes to stdout, without the bar
    assert b"asking boards" not in out


def read_report(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "report.csv", encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames[:6] == [
            "area", "wards_towns", "wards_towns_online", "communes", "communes_online",
            "meets_target",
        ]  # fmt: skip
        return {r["area"]: r for r in reader}


def counts(row: dict[str, str], *columns: str) -> list[str]:
    return [row[c] for c in columns]


SPEC_COLUMNS = ("wards_towns", "wards_towns_online", "communes", "communes_online", "meets_target")


class Page(HTMLParser):
    """The report page's text by element id, its tables' rows, and its inline SVG."""

    VOID: ClassVar = {"meta", "br", "img", "input", "link", "hr"}

    def __init__(self, text: str) -> None:
        super().__init__()
        self.by_id: dict[str, str] = {}
        self.stack: list[tuple[str, str | None]] = []
        self.rows: dict[str, list[list[str]]] = {}
        self.lang = ""
        self.feed(text)
        self.svg = text[text.index("<svg") : text.index("</svg>") + 6]

    def _table(self) -> str | None:
        return next((i for t, i in reversed(self.stack) if t == "table" and i), None)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang", "")
        if tag in self.VOID:
            return
        ident = attrs.get("id")
        self.stack.append((tag, ident))
        if ident:
            self.by_id[ident] = ""
        table = self._table()
        if tag == "table" and ident:
            self.rows[ident] = []
        elif tag == "tr" and table:
            self.rows[table].append([])
        elif tag in ("td", "th") and table:
            self.rows[table][-1].append("")

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        for _, ident in self.stack:
            if ident:
                self.by_id[ident] += data
        table = self._table()
        if table and any(t in ("td", "th") for t, _ in self.stack):
            self.rows[table][-1][-1] += data.strip()


def test_fleet_report_counts_every_area_and_names_the_ones_short(fleet, tmp_path):
    out = tmp_path / "bao-cao"
    done = kiosk("fleet", "report", str(fleet.inventory), "--out", str(out),
                 "--as-of", AS_OF, "--timeout", TIMEOUT)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1/4 khu vực đạt chỉ tiêu; 7/11 bảng tin đã lắp đặt trả lời" in done.stdout
    report = read_report(out)
    # Areas sorted as Vietnamese reads them; Hàm Yên has only a district board: no area.
    assert list(report) == ["Lâm Bình", "Na Hang", "Sơn Dương", "Tuyên Quang"]
    # Every count of every area. Columns after SPEC 6's: province_code, then units with a
    # board, needed and in total (no totals given) for wards and towns, then communes, then
    # the other boards and how many of them answered.
    assert {area: list(row.values())[1:] for area, row in report.items()} == {
        # Two boards in one commune (one answers as another board), one board planned.
        "Lâm Bình": ["0", "0", "2", "1", "no", "08", "0", "1", "", "1", "2", "", "0", "0"],
        # The town hall's board hangs; the commune's answers "failing": it answered.
        "Na Hang": ["1", "0", "1", "1", "no", "08", "1", "1", "", "1", "2", "", "0", "0"],
        "Sơn Dương": ["1", "1", "2", "1", "yes", "08", "1", "1", "", "2", "2", "", "0", "0"],
        # No district: the province's own area, with its square's board counted apart.
        "Tuyên Quang": ["2", "1", "0", "0", "no", "08", "2", "1", "", "0", "2", "", "1", "1"],
    }

    page = Page((out / "report.html").read_text("utf-8"))
    assert page.lang == "vi"
    assert "25/11/2026" in page.by_id["asof"] and "bang-tin.csv" in page.by_id["asof"]
    assert "ít nhất 01 phường, thị trấn" in page.by_id["targets"]
    assert "ít nhất 02 xã" in page.by_id["targets"]
    summary = " ".join(page.by_id["summary"].split())
    assert "Đạt chỉ tiêu: 1/4 khu vực" in summary
    assert "đã lắp đặt: 11, trả lời khi kiểm tra: 7 (63%)" in summary
    short = page.by_id["short"]
    assert "Lâm Bình: còn thiếu 1 phường, thị trấn (có 0, cần 1); còn thiếu 1 xã (có 1, cần 2)" in (
        short
    )
    assert "Na Hang: còn thiếu 1 xã (có 1, cần 2)" in short
    assert "Tuyên Quang: còn thiếu 2 xã (có 0, cần 2)" in short
    assert "Sơn Dương" not in short
    areas = page.rows["areas"][2:]  # after the two header rows
    assert [(r[0], r[1:6], r[-1]) for r in areas] == [
        ("Lâm Bình", ["0", "0", "2", "1", "0"], "Chưa đạt"),
        ("Na Hang", ["1", "0", "1", "1", "0"], "Chưa đạt"),
        ("Sơn Dương", ["1", "1", "2", "1", "0"], "Đạt"),
        ("Tuyên Quang", ["2", "1", "0", "0", "1"], "Chưa đạt"),
    ]
    offline = [r[0] for r in page.rows["offline"][1:]]
    assert offline == ["08-02212-01", "08-02195-01", "08-02266-01", "08-00070-01"]
    html = (out / "report.html").read_text("utf-8")
    assert "1 bảng tin trong danh sách có ngày lắp đặt sau ngày 25/11/2026" in html
    assert "1 bảng tin cấp huyện, cấp tỉnh không thuộc khu vực nào" in html
    check_chart(page.svg, ["Lâm Bình", "Na Hang", "Sơn Dương", "Tuyên Quang"])


GREY = re.compile(r"^#(?:([0-9a-f])\1\1|([0-9a-f]{2})\2\2)$", re.I)


def check_chart(svg: str, areas: list[str]) -> None:
    """The chart is well-formed SVG with a group an area, bars as long as the counts, and
    nothing that needs colour: greys only, the two kinds told apart by texture."""
    root = ET.fromstring(svg)
    groups = root.findall(f"{SVG}g[@class='area']")
    assert [g.get("data-area") for g in groups] == areas
    for element in root.iter():
        for attr in ("fill", "stroke"):
            value = element.get(attr)
            if value and value != "none" and not value.startswith("url(#"):
                assert GREY.match(value), f"{attr}={value} on {element.tag} needs colour"
    son_duong = groups[areas.index("Sơn Dương")]
    wards, communes = (r for r in son_duong.iter(f"{SVG}rect") if r.get("class") == "have")
    assert float(communes.get("width")) == pytest.approx(2 * float(wards.get("width")))
    assert wards.get("fill") != communes.get("fill")  # solid and hatched
    patterns = {p.get("id") for p in root.iter(f"{SVG}pattern")}
    assert {wards.get("fill"), communes.get("fill")} == {f"url(#{p})" for p in patterns}
    labels = [t.text for t in son_duong.iter(f"{SVG}text")]
    assert labels == ["Sơn Dương", "1 / cần 1", "2 / cần 2"]
    short = [t.text for t in groups[areas.index("Na Hang")].iter(f"{SVG}text")]
    assert short[0] == "Na Hang ✗"  # short of the target: marked, not only coloured
    assert len(son_duong.findall(f"{SVG}line[@class='target']")) == 2


TARGETS_2025 = """\
title = "Chiến lược thông tin cơ sở: năm 2025"
min_wards_towns = 0
min_communes = 0
wards_towns_percent = 100
communes_percent = 70

[areas."Sơn Dương"]
wards_towns = 1
communes = 3

[areas."Na Hang"]
wards_towns = 1
communes = 2

[areas."Lâm Bình"]
wards_towns = 0
communes = 2

[areas."Tuyên Quang"]
wards_towns = 2
communes = 0

[areas."Chiêm Hóa"]
wards_towns = 1
communes = 4
"""


def test_fleet_report_against_targets_from_a_toml_and_flags(fleet, tmp_path):
    targets = tmp_path / "chi-tieu-2025.toml"
    targets.write_text(TARGETS_2025, "utf-8")
    out = tmp_path / "2025"
    done = kiosk("fleet", "report", str(fleet.inventory), "--out", str(out), "--as-of", AS_OF,
                 "--timeout", TIMEOUT, "--targets", str(targets))  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = read_report(out)
    needed = ("wards_towns_with_board", "wards_towns_needed", "communes_with_board",
              "communes_needed", "meets_target")  # fmt: skip
    assert {area: counts(row, *needed) for area, row in report.items()} == {
        "Chiêm Hóa": ["0", "1", "0", "3", "no"],  # no board at all: named by the targets
        "Lâm Bình": ["0", "0", "1", "2", "no"],  # no ward there: none needed
        "Na Hang": ["1", "1", "1", "2", "no"],  # 70% of 2 communes is 1.4: 2
        "Sơn Dương": ["1", "1", "2", "3", "no"],
        "Tuyên Quang": ["2", "2", "0", "0", "yes"],
    }
    assert counts(report["Chiêm Hóa"], *SPEC_COLUMNS) == ["0", "0", "0", "0", "no"]
    page = Page((out / "report.html").read_text("utf-8"))
    assert "Chiến lược thông tin cơ sở: năm 2025" in page.by_id["targets"]
    assert "100% số phường, thị trấn có bảng tin; 70% số xã có bảng tin" in page.by_id["targets"]
    assert (
        "Chiêm Hóa: còn thiếu 1 phường, thị trấn (có 0, cần 1); còn thiếu 3 xã"
        in (page.by_id["short"])
    )
    assert [page.rows["areas"][2][i] for i in (0, 6, 7, 8)] == [
        "Chiêm Hóa",
        "0 trên 1 (cần 1)",
        "0 trên 4 (cần 3)",
        "Chưa đạt",
    ]

    flags = tmp_path / "flags"
    done = kiosk("fleet", "report", str(fleet.inventory), "--out", str(flags), "--as-of", AS_OF,
                 "--timeout", TIMEOUT, "--targets", str(targets), "--communes-percent", "50",
                 "--basis", "online")  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = read_report(flags)
    assert {area: counts(row, *needed) for area, row in report.items()} == {
        "Chiêm Hóa": ["0", "1", "0", "2", "no"],
        "Lâm Bình": ["0", "0", "1", "1", "yes"],  # the answering board of Đà Vị counts
        "Na Hang": ["0", "1", "1", "1", "no"],  # the town's board does not answer
        "Sơn Dương": ["1", "1", "1", "2", "no"],  # Minh Thanh does not answer
        "Tuyên Quang": ["1", "2", "0", "0", "no"],
    }
    assert "Tính theo bảng tin trả lời khi kiểm tra" in " ".join(
        Page((flags / "report.html").read_text("utf-8")).by_id["targets"].split()
    )


def test_fleet_report_refuses_targets_it_cannot_judge_before_asking_anyone(fleet, tmp_path):
    out = tmp_path / "out"
    started = time.monotonic()
    done = kiosk("fleet", "report", str(fleet.inventory), "--out", str(out),
                 "--communes-percent", "70")  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines == [
        f'targets: [areas."{a}"]: the 70% target needs the number of communes in {a}'
        for a in ("Lâm Bình", "Na Hang", "Sơn Dương", "Tuyên Quang")
    ]
    assert time.monotonic() - started < 5  # no board was asked: the hanging one takes 6 s
    assert not (out / "report.csv").exists()

    bad = tmp_path / "bad.toml"
    bad.write_text('communes_percent = 170\nbasis = "all"\n[areas."Na Hang"]\nxa = 3\n')
    done = kiosk("fleet", "report", str(fleet.inventory), "--out", str(out), "--targets", str(bad))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{bad}: communes_percent: must be 0 to 100, got 170" in done.stderr
    assert f"{bad}: basis: must be one of installed, online, got 'all'" in done.stderr
    assert f'{bad}: [areas."Na Hang"]: xa: unknown key' in done.stderr


def test_fleet_commands_name_each_problem_of_a_bad_inventory(tmp_path):
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(
        HEADER.removesuffix(",province_name") + "\n"
        "08-02263-01,http://10.0.0.5:8080,UBND xã Tân Trào,xa,08,02263,Sơn Dương,2024-04-16\n"
        "08-02263-01,http://10.0.0.6:8080,UBND xã Tân Trào,xa,08,02263,Sơn Dương,2024-04-16\n"
        "08-02264-01,10.0.0.7,UBND xã Kim Quan,xã,8,2264,Yên Sơn,31/02/2024\n"
        "08-02265-01,http://admin:secret@10.0.0.8/health,,xa,08,,,\n"
        "08-02266-01,http://10.0.0.9\n",
        "utf-8",
    )
    for verb in ("status", "report", "prometheus"):
        extra = ["--out", str(tmp_path / "out")] if verb == "report" else []
        done = kiosk("fleet", verb, str(inventory), *extra)
        assert done.returncode == 2, verb
        assert "Traceback" not in done.stderr
        assert done.stderr.splitlines() == [
            f"{inventory}: row 3, column device_id: '08-02263-01' is already on row 2",
            f"{inventory}: row 4, column health_url: '10.0.0.7' is not an http:// or https:// "
            "address",
            f"{inventory}: row 4, column unit_kind: 'xã' is not one of xa, phuong, dac_khu, "
            "thi_tran, huyen, tinh (did you mean 'xa'?)",
            f"{inventory}: row 4, column province_code: '8' is not 2 digits, such as 08",
            f"{inventory}: row 4, column commune_code: '2264' is not 5 digits, such as 02263",
            f"{inventory}: row 4, column installed_on: '31/02/2024' is not a date such as "
            "2024-04-16 or 16/04/2024",
            f"{inventory}: row 5, column health_url: has a user name or password; those do "
            "not belong in the inventory",
            f"{inventory}: row 5, column unit_name: is empty",
            f"{inventory}: row 5, column commune_code: is empty",
            f"{inventory}: row 5, column installed_on: is empty",
            f"{inventory}: row 6: has 2 cells, the header has 8",
        ], verb
        assert "secret" not in done.stderr


def test_fleet_outputs_that_cannot_be_written_are_named(fleet, tmp_path):
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    report = kiosk("fleet", "report", str(fleet.inventory), "--out", str(a_file))
    assert report.returncode == 2
    assert report.stderr.strip() == f"error: --out {a_file}: exists and is not a folder"
    targets = a_file / "kiosk-targets.json"
    prometheus = kiosk("fleet", "prometheus", str(fleet.inventory), "--out", str(targets))
    assert prometheus.returncode == 2 and "Traceback" not in prometheus.stderr
    assert prometheus.stderr.startswith(f"error: {targets}: cannot be written: ")


def test_a_report_on_an_inventory_without_districts_asks_for_every_commune(tmp_path):
    """Issue 26, 9: after the 2025 reform an inventory names no districts; without a targets
    file the report holds the province to a board at every commune and ward it lists."""
    from tests.provinceserver import inventory_row, write_inventory

    rows = [inventory_row(n, district="") for n in (1, 2, 3)]
    rows[2]["installed_on"] = "2027-06-01"  # planned
    inventory = write_inventory(tmp_path / "INVENTORY.csv", rows)
    out = tmp_path / "bao-cao"
    done = kiosk("fleet", "report", str(inventory), "--out", str(out), "--as-of", AS_OF,
                 "--timeout", TIMEOUT)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "0/1 khu vực đạt chỉ tiêu" in done.stdout
    page = (out / "report.html").read_text("utf-8")
    assert "sau sắp xếp năm 2025" in page and "100% số xã có bảng tin" in page
    assert "117/KH-UBND" not in page
