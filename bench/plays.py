"""A year of a province's proof of play at N boards: how fast every page, CSV and API of the
province server answers, and how large the database grows per board and year.

    .venv/bin/python bench/plays.py                          # 20 boards, both databases
    .venv/bin/python bench/plays.py --database sqlite --boards 1000
    .venv/bin/python bench/plays.py --database postgresql --boards 10000

The year is written into the province server's own tables as its code would have left them
(the daily sums a board's heartbeats make, the rollup's sums over boards, the raw plays of
the last plays_raw_days, the bulletins, their titles), every board's last minute not yet
rolled up, as at any moment of a real day. Then `kiosk province serve` (gunicorn, Django)
answers real HTTP requests on loopback; each page is asked REPEAT times, cold caches
included, and its 50th and 95th percentiles are printed. A CSV of more than 10,000 rows
answers by sending the officer to its export's page, so the two CSVs are also timed whole,
from asking to the last byte of the file. One housekeeping run (the rollup of a minute,
expiry) is timed too.

The workload, a province's year (docs/performance.md):
- each board shows 4,080 to 8,640 slides a day (6,360 on average), 10 s each;
- the province publishes a bulletin every 2 days, each on air 14 days, on every board;
- each commune publishes one every 7 days, on air 14 days, on its own board;
- boards are spread over DISTRICTS districts (`--no-districts`: the communes of the 2025
  reform, which name none).
Prints a line per measure, then one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import zlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.core.vietnamese import search_key
from tests.provinceserver import ProvinceServer, console_login, inventory_row
from tests.services import postgres_cluster

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
DAYS = 365
REPEAT = 20
DISTRICTS = 10
SLIDE_S = 10.0
PROVINCE_EVERY, COMMUNE_EVERY, ON_AIR = 2, 7, 14
RAW_DAYS = 3  # the shipped plays_raw_days
UNROLLED = 4  # plays of each board's last minute the rollup has not yet summed
PASSWORD = "mat-khau-rat-dai-42"


def plays_per_day(n: int) -> int:
    """4,080 to 8,640 slides a day (on_hours from 11 to 24 hours), 6,360 on average."""
    return 4080 + (n * 2281) % 4561


def district(n: int, with_districts: bool) -> str:
    return f"Huyện Số {n % DISTRICTS + 1}" if with_districts else ""


def area(n: int, with_districts: bool) -> str:
    return district(n, with_districts) or "Tỉnh 08"


class Year:
    """The workload: which items each board shows on each day of the year."""

    def __init__(self, boards: int, today: date, with_districts: bool) -> None:
        self.boards, self.today, self.with_districts = boards, today, with_districts
        self.first = today - timedelta(days=DAYS - 1)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=d) for d in range(DAYS)]

    # The console's bulletins, numbered as it numbers them (item "bt-<pk>"): the province's
    # first, then each commune's in turn.
    PROVINCE_COUNT = (DAYS + ON_AIR) // PROVINCE_EVERY
    COMMUNE_COUNT = (DAYS + ON_AIR) // COMMUNE_EVERY

    def province_items(self) -> list[tuple[str, date]]:
        """(item, first day) of the province's bulletins aired this year."""
        return [(f"bt-{k + 1}", self.first + timedelta(days=PROVINCE_EVERY * k - ON_AIR + 1))
                for k in range(self.PROVINCE_COUNT)]  # fmt: skip

    def commune_items(self, n: int) -> list[tuple[str, date]]:
        start, first_pk = (
            n % COMMUNE_EVERY - ON_AIR + 1,
            self.PROVINCE_COUNT + (n - 1) * self.COMMUNE_COUNT,
        )
        return [(f"bt-{first_pk + k + 1}", self.first + timedelta(days=COMMUNE_EVERY * k + start))
                for k in range(self.COMMUNE_COUNT)]  # fmt: skip

    def on_air(self, items: list[tuple[str, date]], day: date) -> list[str]:
        return [i for i, start in items if start <= day < start + timedelta(days=ON_AIR)]


def fill(server: ProvinceServer, year: Year, raw_days: int) -> dict:
    """The year into the server's tables, as its code leaves them."""
    import sqlite3

    pg = server.database.startswith("postgresql")
    if pg:
        import psycopg

        conn = psycopg.connect(server.database)
    else:
        conn = sqlite3.connect(server.database.removeprefix("sqlite:///"))
    writer = _Writer(conn, pg)
    boards = year.boards
    bits = {}
    for n in range(1, boards + 1):
        a = area(n, year.with_districts)
        bits[a] = bits.get(a, 0) | (1 << (n - 1))  # numbers given in device-id order from 0
    province = year.province_items()
    province_sums: dict[tuple[str, date, str], list] = {}
    started = time.monotonic()
    now = datetime.now(UTC)
    for n in range(1, boards + 1):
        device = inventory_row(n)["device_id"]
        where = area(n, year.with_districts)
        communes = year.commune_items(n)
        commune = f"xa-{inventory_row(n)['commune_code']}"
        per_day = plays_per_day(n)
        life: dict[str, list] = {}
        for day in year.days():
            shown = [("tinh-08", i) for i in year.on_air(province, day)]
            shown += [(commune, i) for i in year.on_air(communes, day)]
            each = per_day // len(shown)
            for k, (channel, item) in enumerate(shown):
                rolled = each - UNROLLED if day == year.today and k < 2 else each
                writer.row("fleet_playday", (device, channel, item, day, each, each * SLIDE_S,
                                             rolled, rolled * SLIDE_S))  # fmt: skip
                if channel == "tinh-08":
                    s = province_sums.setdefault((item, day, where), [0, 0.0])
                    s[0] += rolled
                    s[1] += rolled * SLIDE_S
                else:
                    row = (channel, item, day, where, rolled, rolled * SLIDE_S, _pack(1 << n - 1))
                    writer.row("fleet_itemday", row)
                    t = life.setdefault(item, [day, day, 0, 0.0])
                    t[1] = day
                    t[2] += rolled
                    t[3] += rolled * SLIDE_S
        for item, (first, last, plays, seconds) in life.items():
            writer.row("fleet_itemtotal", (commune, item, where, first, last, plays, seconds,
                                           _pack(1 << (n - 1))))  # fmt: skip
        if raw_days:
            _raw_plays(writer, device, shown, now, raw_days, per_day)
        if n % 500 == 0:
            writer.flush()
            print(f"  {n} boards written ({time.monotonic() - started:.0f} s)", flush=True)
    lives: dict[tuple[str, str], list] = {}
    for (item, day, where), (plays, seconds) in province_sums.items():
        writer.row("fleet_itemday", ("tinh-08", item, day, where, plays, seconds,
                                     _pack(bits[where])))  # fmt: skip
        t = lives.setdefault((item, where), [day, day, 0, 0.0])
        t[0], t[1] = min(t[0], day), max(t[1], day)
        t[2] += plays
        t[3] += seconds
    for (item, where), (first, last, plays, seconds) in lives.items():
        writer.row("fleet_itemtotal", ("tinh-08", item, where, first, last, plays, seconds,
                                       _pack(bits[where])))  # fmt: skip
    _bulletins(writer, year)
    writer.flush()
    conn.close()
    return {"rows": writer.counts, "fill_s": round(time.monotonic() - started, 1)}


def _pack(bits: int) -> bytes:
    return zlib.compress(bits.to_bytes((bits.bit_length() + 7) // 8, "little"))


def _raw_plays(writer, device, shown, now, raw_days, per_day) -> None:
    """The raw plays of the last raw_days: a slide every 86,400 / per_day seconds."""
    step = timedelta(seconds=86400 / per_day)
    moment = now - timedelta(days=raw_days) + timedelta(minutes=1)
    k = 0
    while moment < now:
        channel, item = shown[k % len(shown)]
        writer.row("fleet_play", (device, channel, item, moment, SLIDE_S))
        moment += step
        k += 1


def _bulletins(writer, year: Year) -> None:
    """The console's bulletins of the year (published, each on its channel) and titles."""
    rows = [("tinh-08", item, start) for item, start in year.province_items()]
    for n in range(1, year.boards + 1):
        commune = f"xa-{inventory_row(n)['commune_code']}"
        rows += [(commune, item, start) for item, start in year.commune_items(n)]
    for pk, (channel, item, start) in enumerate(rows, 1):
        assert item == f"bt-{pk}"
        published = datetime.combine(start, datetime.min.time(), VIETNAM) + timedelta(hours=8)
        title = f"Thông báo số {pk} về lịch tiêm chủng và họp dân"
        aired = json.dumps({"revision": 1, "channels": [channel], "item": {
            "id": f"bt-{pk}", "type": "text", "priority": "normal", "duration": 10.0,
            "title": title, "body": "Nội dung. " * 40}}, ensure_ascii=False)  # fmt: skip
        writer.row("bulletins_bulletin", (
            pk, "text", "normal", title, "Nội dung.", "", "", "contain", "", "", None, "", 10.0,
            None, None, "[]", "[]", json.dumps([channel]), "published", None, None, published,
            published, published, published, None, None, "", "", "", 1, aired, search_key(title),
        ))  # fmt: skip
        writer.row("bulletins_bulletinchannel", (pk, pk, channel))
        writer.row("fleet_itemtitle", (pk, channel, item, title, search_key(title), published))


COLUMNS = {
    "fleet_playday": "board_id, channel, item, day, plays, seconds, rolled_plays, rolled_seconds",
    "fleet_itemday": "channel, item, day, area, plays, seconds, boards",
    "fleet_itemtotal": "channel, item, area, first_day, last_day, plays, seconds, boards",
    "fleet_play": "board_id, channel, item, started_at, duration_s",
    "bulletins_bulletin": (
        "id, kind, priority, title, body, ticker, caption, fit, background, image_sha256, "
        "image_size, image_type, duration, valid_from, valid_until, days, hours, channels, "
        "state, author_id, edited_by_id, created_at, updated_at, submitted_at, published_at, "
        "published_by_id, withdrawn_at, note, origin, origin_ref, revision, aired, search"
    ),
    "bulletins_bulletinchannel": "id, bulletin_id, channel",
    "fleet_itemtitle": "id, channel, item, title, title_key, seen_at",
}


class _Writer:
    """Rows into tables in large batches: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, conn, pg: bool) -> None:
        self.conn, self.pg = conn, pg
        self.pending: dict[str, list[tuple]] = {}
        self.counts: dict[str, int] = {}

    def row(self, table: str, values: tuple = ()) -> None:
        if not values:
            return
        rows = self.pending.setdefault(table, [])
        rows.append(values)
        if len(rows) >= 50_000:
            self._write(table)

    def flush(self) -> None:
        for table in list(self.pending):
            self._write(table)
        self.conn.commit()

    def _write(self, table: str) -> None:
        rows = self.pending.pop(table, [])
        if not rows:
            return
        self.counts[table] = self.counts.get(table, 0) + len(rows)
        columns = COLUMNS[table]
        if self.pg:
            with (
                self.conn.cursor() as cursor,
                cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for r in rows:
                    copy.write_row(r)
        else:
            marks = ", ".join("?" * len(rows[0]))
            self.conn.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                [tuple(_sqlite(v) for v in r) for r in rows],
            )


def _sqlite(value):
    """As Django's SQLite backend stores it: naive UTC text for moments."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def timed(get, url: str) -> tuple[float, int]:
    began = time.perf_counter()
    size = len(get(url))
    return time.perf_counter() - began, size


def whole_csv(session, base: str, url: str) -> tuple[float, int, bool]:
    """From asking to the whole file: streamed at once, or made in the background (the
    officer is sent to the export's page, which refreshes itself until the file is ready)."""
    began = time.perf_counter()
    answer = session.get(base + url, allow_redirects=False, timeout=120)
    background = answer.status_code == 302
    if background:
        page = base + answer.headers["Location"]
        while "Đang chuẩn bị" in (text := session.get(page, timeout=120).text):
            time.sleep(0.2)
        assert "Sẵn sàng" in text, text[:300]
        answer = session.get(page + "file", timeout=120)
    assert answer.status_code == 200, (url, answer.status_code)
    return time.perf_counter() - began, len(answer.content), background


def timing_figure(name: str, times_ms: list[float], size: int) -> dict:
    """The 50th and 95th percentiles of an address's answers, printed as a line."""
    times_ms = sorted(times_ms)
    figure = {"p50_ms": round(statistics.median(times_ms)),
              "p95_ms": round(times_ms[int(0.95 * (len(times_ms) - 1))]),
              "bytes": size}  # fmt: skip
    print(f"  {name}: {json.dumps(figure)}", flush=True)
    return figure


def measure_pages(server: ProvinceServer, year: Year, repeat: int) -> dict:
    session = console_login(server.url, "quan-tri", PASSWORD)
    token = server.api_token("ky-thuat", "technician")

    def page(url: str) -> bytes:
        answer = session.get(server.url + url, timeout=120)
        assert answer.status_code == 200, (url, answer.status_code, answer.text[:300])
        return answer.content

    def api(url: str) -> bytes:
        request = urllib.request.Request(server.url + url,
                                         headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.read()

    today, first = year.today, year.first
    month = today - timedelta(days=29)
    year_area = urllib.parse.quote(area(1, year.with_districts))
    urls = {
        "plays_30_days": (page, f"/plays/?from={month}&to={today}"),
        "plays_30_days_page_3": (page, f"/plays/?from={month}&to={today}&page=3"),
        "plays_year_search": (page, f"/plays/?from={first}&to={today}&q=so+12+ve+lich"),
        "plays_year_one_area": (page, f"/plays/?from={first}&to={today}&area={year_area}"),
        "plays_csv_30_days": (page, f"/plays.csv?from={month}&to={today}"),
        "report_year": (page, f"/reports/?from={first}&to={today}"),
        "report_year_page_10": (page, f"/reports/?from={first}&to={today}&page=10"),
        "report_csv_year": (page, f"/reports.csv?from={first}&to={today}"),
        "api_plays_year_200_boards": (api, f"/api/v1/plays?from={first}&to={today}&boards=200"),
        "api_boards": (api, "/api/v1/boards"),
        "metrics": (api, "/metrics"),
        "fleet": (page, "/boards/"),
        "fleet_offline_search": (page, "/boards/?state=never&q=so+1"),
        "bulletins": (page, "/bulletins/"),
        "bulletins_search": (page, "/bulletins/?q=so+12"),
        "bulletin_new": (page, "/bulletins/new"),
        "target_search": (page, "/bulletins/targets?q=xa+so+1"),
    }
    results = {}
    for name, url in (
        ("report_csv_year", f"/reports.csv?from={first}&to={today}&made=1"),
        ("plays_csv_30_days", f"/plays.csv?from={month}&to={today}&made=1"),
    ):
        took, size, background = whole_csv(session, server.url, url)
        figure = {"seconds": round(took, 2), "bytes": size, "background": background}
        print(f"  {name}, the whole file: {json.dumps(figure)}", flush=True)
        results[f"{name}_whole"] = figure
    for name, (get, url) in urls.items():
        times, size = [], 0
        for _ in range(repeat):
            took, size = timed(get, url)
            times.append(took * 1000)
        results[name] = timing_figure(name, times, size)
    return results


def measure(database: str, root: Path, boards: int, with_districts: bool, raw_days: int,
            repeat: int) -> dict:  # fmt: skip
    rows = [inventory_row(n, district=district(n, with_districts)) for n in range(1, boards + 1)]
    server = ProvinceServer(root, database, rows)
    label = database.split(":")[0]
    print(f"{label}: {boards} boards, a year of plays", flush=True)
    server.register()
    server.api_token("quan-tri", "admin")
    today = datetime.now(VIETNAM).date()
    year = Year(boards, today, with_districts)
    filled = fill(server, year, raw_days)
    print(f"  written: {json.dumps(filled)}", flush=True)
    if database.startswith("postgresql"):
        import psycopg

        with psycopg.connect(server.database, autocommit=True) as conn:  # as autovacuum would
            conn.execute("VACUUM ANALYZE")
        size = server.sql("SELECT pg_database_size(current_database())")[0][0]
    else:
        server.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = Path(server.database.removeprefix("sqlite:///")).stat().st_size
    mb = size / 1e6
    print(f"  database: {mb:.0f} MB, {mb / boards:.2f} MB per board-year", flush=True)
    began = time.monotonic()
    done = server.kiosk("province", "housekeeping", "--config", str(server.config))
    assert done.returncode == 0, done.stderr
    housekeeping_s = time.monotonic() - began
    print(f"  one housekeeping run (rollup of a minute, expiry): {housekeeping_s:.1f} s")
    server.start()
    try:
        pages = measure_pages(server, year, repeat)
    finally:
        server.stop()
    worst = max(p["p95_ms"] for n, p in pages.items() if "p95_ms" in p and n != "metrics")
    return {"boards": boards, "districts": DISTRICTS if with_districts else 0,
            "raw_days": raw_days, "database_mb": round(mb),
            "mb_per_board_year": round(mb / boards, 2),
            "housekeeping_s": round(housekeeping_s, 1), "rows": filled["rows"],
            "pages": pages, "worst_p95_ms": worst,
            "metrics_p95_ms": pages["metrics"]["p95_ms"]}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--boards", type=int, default=20)
    parser.add_argument("--no-districts", action="store_true")
    parser.add_argument(
        "--raw-days",
        type=int,
        default=RAW_DAYS,
        help="raw plays written (0: none, for a quicker fill)",
    )
    parser.add_argument("--repeat", type=int, default=REPEAT, help="times a page is asked")
    parser.add_argument("--keep", type=Path, help="build in this folder and leave it there")
    args = parser.parse_args()
    figures: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}
    with tempfile.TemporaryDirectory(prefix="kiosk-plays-") as scratch:
        tmp = args.keep or scratch
        if args.database in ("sqlite", "both"):
            figures["sqlite"] = measure("sqlite", Path(tmp) / "sqlite", args.boards,
                                        not args.no_districts, args.raw_days,
                                        args.repeat)  # fmt: skip
        if args.database in ("postgresql", "both"):
            with postgres_cluster() as pg:
                figures["postgresql"] = measure(pg.database(), Path(tmp) / "postgresql",
                                                args.boards, not args.no_districts,
                                                args.raw_days, args.repeat)  # fmt: skip
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
