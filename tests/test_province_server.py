"""The province server (SPEC 7) as a real process on loopback, against SQLite and a real
PostgreSQL: heartbeats from real `kiosk run` boards land in the database; bad tokens,
oversized and malformed bodies are refused with nothing stored; a worker killed between
receipt and reply loses no acknowledged play, and a replay stores none twice."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bench.kioskproc import Kiosk
from tests.conftest import missing, tell
from tests.countingsource import free_port
from tests.province import text, ticker
from tests.provinceserver import ProvinceServer, console_login, inventory_row, write_inventory
from tests.services import MissingTool, postgres_cluster
from tests.test_publish_cli import board_config


@pytest.fixture(scope="session")
def postgres():
    with contextlib.ExitStack() as stack:
        try:
            pg = stack.enter_context(postgres_cluster())
        except MissingTool as exc:
            missing(str(exc))
        yield pg


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    if request.param == "sqlite":
        return "sqlite"
    return request.getfixturevalue("postgres").database()


@pytest.fixture
def server(tmp_path, database, province):
    rows = [inventory_row(n) for n in range(1, 4)]
    s = ProvinceServer(tmp_path / "province-server", database, rows, site_dir=province.site)
    s.register()
    s.start()
    yield s
    s.stop()


def body(device_id: str, plays: list[dict] | None = None, **extra) -> dict:
    health = {
        "status": "ok",
        "problems": [],
        "display": {"current_item": {"channel": "tinh-08", "id": "a"}},
    }
    return {
        "device_id": device_id,
        "sent_at": datetime.now(UTC).isoformat(),
        "health": health,
        "plays": plays if plays is not None else [],
        **extra,
    }


# The plays' times are a day before the server's clock (the real one: it is another
# process), inside the window it stores (SPEC 7.4), whatever day the tests run on.
YESTERDAY = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


def plays(n: int, first: int = 0, day: datetime | None = None) -> list[dict]:
    start = day or YESTERDAY
    return [
        {
            "channel": "tinh-08",
            "item": f"item-{(first + i) % 7}",
            "started_at": (start + timedelta(seconds=10 * (first + i))).isoformat(),
            "duration_s": 10.0,
        }
        for i in range(n)
    ]


def post(server: ProvinceServer, device_id: str, doc, token: str | None) -> tuple[int, object]:
    data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return server.request("POST", f"/devices/{device_id}/heartbeat", data, token)


def stored_plays(server: ProvinceServer) -> list[tuple]:
    return server.sql(
        "SELECT board_id, channel, item, started_at FROM fleet_play ORDER BY started_at"
    )


@contextlib.contextmanager
def running_board(
    tmp_path: Path,
    province,
    server: ProvinceServer,
    device_id: str,
    *edits: tuple[str, str],
    tree: Path | None = None,
) -> Iterator[Kiosk]:
    """`kiosk run --headless` as a board of the inventory: content from the province's
    site, heartbeats every 5 s to the server with its own token. Yields the running kiosk
    (.proc, and .url of its health server)."""
    work = tmp_path / device_id
    work.mkdir()
    token = work / "token"
    token.write_text(server.tokens[device_id])
    token.chmod(0o600)
    port = free_port()
    config = board_config(work, province.url, province.public_key, storage=work / "cache")
    toml = config.read_text("utf-8")
    for old, new in (
        ('id = "08-02263-01"', f'id = "{device_id}"'),
        ('"0.0.0.0:8080"', f'"127.0.0.1:{port}"'),
        ("heartbeat_seconds = 60", "heartbeat_seconds = 5"),
        ('heartbeat_url = ""', f'heartbeat_url = "{server.url}/devices/{device_id}/heartbeat"'),
        ("poll_seconds = 300", f'poll_seconds = 300\ntoken_file = "{token}"'),
        *edits,
    ):
        assert old in toml, old
        toml = toml.replace(old, new)
    config.write_text(toml, "utf-8")
    with Kiosk(config, work, *([tree] if tree else [])) as board:
        board.url = f"http://127.0.0.1:{port}"
        yield board


def wait_for(check, timeout: float, what: str, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout} s")


def test_heartbeats_from_two_running_boards_land_in_the_database(tmp_path, province, server):
    province.publish("tinh-08", [text("a", title="Bão số 3", duration=3), ticker("t")])
    province.publish("xa-02263", [text("b", duration=3)])
    ids = [r["device_id"] for r in server.rows[:2]]
    token = server.api_token()
    with contextlib.ExitStack() as stack:
        for device_id in ids:
            stack.enter_context(running_board(tmp_path, province, server, device_id))

        def both_reported():
            status, doc = server.request("GET", "/api/v1/boards", token=token)
            assert status == 200, doc
            boards = {b["device_id"]: b for b in doc["boards"]}
            played = {r[0] for r in stored_plays(server)}
            return all(boards[i]["online"] for i in ids) and set(ids) <= played and boards

        boards = wait_for(both_reported, 60, "both boards' heartbeats with plays")
    for device_id in ids:
        b = boards[device_id]
        assert b["status"] == "ok" and b["problems"] == []
        assert b["current_item"]["channel"] in ("tinh-08", "xa-02263")
        row = next(r for r in server.rows if r["device_id"] == device_id)
        assert b["unit_name"] == row["unit_name"]
    third = server.rows[2]["device_id"]
    assert not boards[third]["online"] and boards[third]["last_heartbeat_at"] is None
    # the plays are the items the boards showed, each stored once
    rows = stored_plays(server)
    assert {(r[1], r[2]) for r in rows} <= {("tinh-08", "a"), ("xa-02263", "b")}
    assert len(rows) == len(set(rows))
    today = datetime.now(UTC).astimezone().date()
    status, summed = server.request(
        "GET",
        f"/api/v1/plays?from={today - timedelta(days=1)}&to={today + timedelta(days=1)}",
        token=token,
    )
    assert status == 200
    assert sum(p["plays"] for p in summed["plays"]) == len(rows)
    assert {p["device_id"] for p in summed["plays"]} == set(ids)


def test_bad_tokens_oversized_and_malformed_bodies_are_refused_and_nothing_stored(server):
    one, two = server.rows[0]["device_id"], server.rows[1]["device_id"]
    good = body(one, plays(3))
    refused = [
        (post(server, one, good, None), 401),
        (post(server, one, good, "bt_not-a-token"), 401),
        (post(server, one, good, server.tokens[two]), 401),  # another board's token
        (post(server, "08-99999-01", body("08-99999-01"), server.tokens[one]), 401),
        (post(server, one, b"{" + b" " * (1024 * 1024 + 10) + b"}", server.tokens[one]), 413),
        (post(server, one, b"not json", server.tokens[one]), 400),
        (post(server, one, b"[" * 100_000, server.tokens[one]), 400),
        (post(server, one, body(two, plays(3)), server.tokens[one]), 400),  # not its id
        (post(server, one, {**good, "plays": "many"}, server.tokens[one]), 400),
        (
            post(
                server,
                one,
                b'{"device_id": "%s", "sent_at": NaN}' % one.encode(),
                server.tokens[one],
            ),
            400,
        ),
        (post(server, one, {**good, "health": {"status": "great"}}, server.tokens[one]), 400),
        (
            post(
                server,
                one,
                {**good, "health": {**good["health"], "x": "\u0000"}},
                server.tokens[one],
            ),
            400,
        ),
        (post(server, one, {**good, "plays": plays(2001)}, server.tokens[one]), 400),
    ]
    for n, ((status, answer), expected) in enumerate(refused):
        assert status == expected, (n, status, answer)
        assert isinstance(answer, dict) and len(answer["error"]) < 400, (n, answer)
    assert stored_plays(server) == []
    beats = server.sql("SELECT count(*) FROM fleet_board WHERE last_heartbeat_at IS NOT NULL")
    assert beats == [(0,)]
    assert server.request("GET", f"/devices/{one}/heartbeat")[0] == 405
    _status, metrics = server.request("GET", "/metrics")
    assert 'kiosk_province_refused_total{reason="heartbeat_unauthorized"} 4.0' in metrics
    assert 'kiosk_province_refused_total{reason="heartbeat_too_large"} 1.0' in metrics
    assert 'kiosk_province_refused_total{reason="heartbeat_invalid"} 8.0' in metrics
    log = (server.root / "serve.log").read_text()
    for token in server.tokens.values():  # no token is echoed or logged
        assert token not in metrics and token not in log
    assert "Unauthorized" not in log and "Bad Request" not in log  # counted, not logged
    # and the good body is taken
    assert post(server, one, good, server.tokens[one]) == (200, {"commands": []})
    assert len(stored_plays(server)) == 3


def test_a_replayed_batch_is_stored_once_and_still_acknowledged(server):
    one = server.rows[0]["device_id"]
    batch = body(one, plays(50))
    for _ in range(3):
        assert post(server, one, batch, server.tokens[one])[0] == 200
    overlapping = body(one, plays(50, first=25))
    assert post(server, one, overlapping, server.tokens[one])[0] == 200
    assert len(stored_plays(server)) == 75


def test_a_worker_killed_between_receipt_and_reply_loses_no_acknowledged_play(request, server):
    """Batches are sent one after another, and gunicorn's worker is SIGKILLed: at random
    moments, and at the moment the test sees the batch's plays committed (before the
    reply, when it is quick enough). A batch without a 2xx is sent again, as a board does.
    Every acknowledged play must be stored, none twice; and a kill must have landed after
    the commit and before the reply at least once (a batch stored, not acknowledged)."""
    one = server.rows[0]["device_id"]
    token = server.tokens[one]
    rng = random.Random(16)
    count = server.poller("SELECT count(*) FROM fleet_play")
    acknowledged: set[str] = set()
    kills = stored_unacknowledged = late = batch_no = 0
    pending: list[dict] = []
    while (stored_unacknowledged < 3 and kills < 200) or pending:
        if not pending:
            pending = plays(20, first=20 * batch_no)
            batch_no += 1
        answer: list[int] = []
        sender = threading.Thread(
            target=lambda p=pending, a=answer: a.append(post(server, one, body(one, p), token)[0])
        )
        kill_now = stored_unacknowledged < 3 and kills < 200
        before = count()
        sender.start()
        if kill_now:
            if kills % 2:  # at a random moment of the request
                time.sleep(rng.uniform(0, 0.05))
            else:  # as soon as the commit shows
                while sender.is_alive() and count() == before:
                    pass
            for pid in server.workers():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            kills += 1
        sender.join(60)
        if answer and answer[0] == 200:
            acknowledged |= {p["started_at"] for p in pending}
            pending = []
            late += kill_now
        else:
            stored = {_parse(r[3]) for r in stored_plays(server)}
            if all(_parse(p["started_at"]) in stored for p in pending):
                stored_unacknowledged += 1
            wait_for(server.workers, 10, "gunicorn's new worker")
    rows = stored_plays(server)
    stored = [_parse(r[3]) for r in rows]
    assert len(stored) == len(set(stored)), "a play was stored twice"
    assert {_parse(a) for a in acknowledged} <= set(stored), "an acknowledged play was lost"
    assert len(stored) == 20 * batch_no  # and every batch got there in the end
    tell(
        request,
        f"{kills} kills: {late} after the reply, {stored_unacknowledged} after the commit and "
        f"before the reply; {len(acknowledged)} plays acknowledged, {len(stored)} stored",
    )
    assert stored_unacknowledged >= 1, "no kill landed between the commit and the reply"


def _parse(value: str | datetime) -> datetime:
    """An instant in UTC: the board's RFC 3339 text, PostgreSQL's timestamptz, or SQLite's
    text (UTC, without an offset)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def test_the_whole_server_killed_and_started_again_keeps_every_acknowledged_play(server):
    one = server.rows[0]["device_id"]
    assert post(server, one, body(one, plays(40)), server.tokens[one])[0] == 200
    server.kill(signal.SIGKILL)
    server.start()
    assert len(stored_plays(server)) == 40
    assert post(server, one, body(one, plays(40)), server.tokens[one])[0] == 200
    assert len(stored_plays(server)) == 40


def test_a_board_that_only_pushes_is_online_in_fleet_status_and_counts_in_fleet_report(
    tmp_path, province, server
):
    """Its /health in the inventory cannot be reached (a 3G board behind carrier NAT): only
    its heartbeats reach the province server, and the fleet tools count it by them."""
    province.publish("tinh-08", [text("a", duration=3)])
    province.publish("xa-02263", [text("b", duration=3)])
    pushed = server.rows[0]["device_id"]
    token_file = tmp_path / "api-token"
    token_file.write_text(server.api_token() + "\n")
    token_file.chmod(0o600)
    fleet = ("--server", server.url, "--api-token-file", str(token_file), "--timeout", "1")
    inventory = str(server.inventory)
    before = server.kiosk("fleet", "status", inventory, *fleet)
    assert before.returncode == 1 and "0 ok" not in before.stdout
    with running_board(tmp_path, province, server, pushed):
        wait_for(
            lambda: server.sql(
                f"SELECT 1 FROM fleet_board WHERE device_id = '{pushed}' "
                "AND last_heartbeat_at IS NOT NULL"
            ),
            30,
            "a heartbeat",
        )
        status = server.kiosk("fleet", "status", inventory, *fleet, "--out", str(tmp_path / "s"))
        report = server.kiosk("fleet", "report", inventory, *fleet, "--out", str(tmp_path / "r"))
    assert "Traceback" not in status.stderr + report.stderr
    line = next(row for row in status.stdout.splitlines() if pushed in row)
    assert " Bình thường " in line and ("tinh-08/a" in line or "xa-02263/b" in line), status.stdout
    assert "1 bình thường, 2 không trả lời (1 theo báo cáo gửi về máy chủ tỉnh)" in status.stdout
    assert status.returncode == 1  # the two other boards are silent
    rows = (tmp_path / "s" / "status.csv").read_text("utf-8").splitlines()
    mine = next(r for r in rows if r.startswith(pushed))
    assert ",có,Bình thường," in mine and mine.endswith(",máy chủ tỉnh")
    assert report.returncode == 0, report.stderr
    assert "1/3 bảng tin đã lắp đặt trả lời" in report.stdout
    csv_text = (tmp_path / "r" / "report.csv").read_text("utf-8")
    district = next(r for r in csv_text.splitlines() if r.startswith("Sơn Dương"))
    assert district.split(",")[1:5] == ["1", "0", "2", "1"], csv_text


def test_fleet_with_a_wrong_api_token_or_no_server_says_so(tmp_path, server):
    token_file = tmp_path / "api-token"
    token_file.write_text("bta_wrong")
    inventory = str(server.inventory)
    wrong = server.kiosk(
        "fleet", "status", inventory, "--server", server.url, "--api-token-file", str(token_file)
    )
    assert wrong.returncode == 2 and "refused the API token (HTTP 401)" in wrong.stderr
    author = tmp_path / "author-token"
    author.write_text(server.api_token("tac-gia", "author"))
    refused = server.kiosk(
        "fleet", "status", inventory, "--server", server.url, "--api-token-file", str(author)
    )
    assert refused.returncode == 2 and "(HTTP 403)" in refused.stderr
    gone = server.kiosk(
        "fleet",
        "status",
        inventory,
        "--server",
        f"http://127.0.0.1:{free_port()}",
        "--api-token-file",
        str(token_file),
    )
    assert gone.returncode == 1 and "cannot be reached" in gone.stderr
    alone = server.kiosk("fleet", "status", inventory, "--server", server.url)
    assert alone.returncode == 2 and "go together" in alone.stderr
    assert "Traceback" not in wrong.stderr + refused.stderr + gone.stderr + alone.stderr


def test_the_api_wants_a_token_of_a_role_that_may_read_and_dates_it_can_read(server):
    tech = server.api_token()
    author = server.api_token("tac-gia", "author")
    assert server.request("GET", "/api/v1/boards")[0] == 401
    assert server.request("GET", "/api/v1/boards", token="bta_nope")[0] == 401
    assert server.request("GET", "/api/v1/boards", token=author)[0] == 403
    assert (
        server.request("GET", "/api/v1/plays?from=2026-12-01&to=2026-12-01", token=author)[0] == 403
    )
    for query in (
        "",
        "?from=2026-12-01",
        "?from=1/12/2026&to=2026-12-02",
        "?from=2026-12-02&to=2026-12-01",
        "?from=2026-02-30&to=2026-03-01",
    ):
        status, answer = server.request("GET", f"/api/v1/plays{query}", token=tech)
        assert status == 400 and answer["error"], query
    status, answer = server.request(
        "GET", "/api/v1/plays?from=2026-12-01&to=2026-12-01", token=tech
    )
    assert (status, answer) == (200, {"plays": []})
    status, answer = server.request("GET", "/api/v1/boards", token=tech)
    assert status == 200 and [b["device_id"] for b in answer["boards"]] == [
        r["device_id"] for r in server.rows
    ]
    assert all("health" not in b for b in answer["boards"])  # only when asked (?health=1)
    assert server.request("GET", "/no-such-page")[0] == 404


def test_a_board_the_inventory_no_longer_lists_is_refused_and_keeps_its_plays(server):
    gone, kept = server.rows[0]["device_id"], server.rows[1:]
    assert post(server, gone, body(gone, plays(3)), server.tokens[gone])[0] == 200
    write_inventory(server.inventory, kept)
    server.register()  # what a province runs after editing its inventory
    assert post(server, gone, body(gone, plays(3, first=3)), server.tokens[gone])[0] == 401
    assert len(stored_plays(server)) == 3  # its plays stay for the yearly report
    token = server.api_token()
    boards = server.request("GET", "/api/v1/boards", token=token)[1]["boards"]
    assert gone not in {b["device_id"] for b in boards}


def test_plays_outside_the_bounds_are_not_stored_but_counted_and_the_batch_acknowledged(server):
    """Issue 23, 9: one board stored 10,000 plays dated years ahead in five requests, which
    the housekeeping never folds. SPEC 7.4's bounds: 10 minutes ahead, 35 days behind,
    0 to 3,600 s; the batch still gets its 2xx; the rejected are counted per board."""
    one = server.rows[0]["device_id"]
    ahead = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3 * 365)
    for batch in range(5):
        doc = body(one, plays(2000, first=2000 * batch, day=ahead))
        assert post(server, one, doc, server.tokens[one]) == (200, {"commands": []})
    assert stored_plays(server) == []
    now = datetime.now(UTC).replace(microsecond=0)
    edge = [
        {**plays(1)[0], "item": "long", "duration_s": 3601.0},
        {**plays(1)[0], "item": "old", "started_at": (now - timedelta(days=36)).isoformat()},
        {**plays(1)[0], "item": "soon", "started_at": (now + timedelta(minutes=11)).isoformat()},
        {**plays(1)[0], "item": "a\nb"},  # malformed: skipped, not the whole heartbeat
        {**plays(1)[0], "started_at": "yesterday"},
        {**plays(1)[0], "item": "good", "duration_s": 3600.0},
    ]
    assert post(server, one, body(one, edge), server.tokens[one])[0] == 200
    assert [r[2] for r in stored_plays(server)] == ["good"]
    assert server.sql(f"SELECT plays_rejected FROM fleet_board WHERE device_id = '{one}'") == [
        (10_005,)
    ]
    _status, metrics = server.request("GET", "/metrics")
    assert f'kiosk_province_plays_rejected_total{{device_id="{one}"' in metrics
    assert "10005.0" in metrics


def test_a_wrong_token_costs_no_database_write_and_metrics_stay_valid(server, database):
    """Issue 23: every refused heartbeat wrote a counter row; and a board repeating a problem
    code gave /metrics duplicate series (promtool refuses the exposition)."""
    one = server.rows[0]["device_id"]
    if database == "sqlite":
        db = server.database.removeprefix("sqlite:///")
        files = [Path(db), Path(db + "-wal")]

        def written() -> list[bytes]:
            return [f.read_bytes() if f.exists() else b"" for f in files]

        before = written()
        for n in range(200):
            assert post(server, one, body(one, plays(1)), f"bt_forged-{n}")[0] == 401
        assert written() == before
    doubled = body(one)
    doubled["health"]["problems"] = [
        {"code": "item_invalid", "message": f"{n}", "since": doubled["sent_at"]} for n in range(3)
    ]
    assert post(server, one, doubled, server.tokens[one])[0] == 200
    _status, metrics = server.request("GET", "/metrics")
    assert metrics.count('code="item_invalid"') == 1
    if database == "sqlite":
        assert 'kiosk_province_refused_total{reason="heartbeat_unauthorized"} 200.0' in metrics
    promtool = shutil.which("promtool")
    if promtool is None:
        missing("promtool is needed to check the exposition (apt install prometheus)")
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=metrics, capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def _summed(server: ProvinceServer, token: str, first: date, last: date) -> list[dict]:
    status, doc = server.request("GET", f"/api/v1/plays?from={first}&to={last}", token=token)
    assert status == 200, doc
    return doc["plays"]


def test_plays_are_summed_once_and_expiry_changes_no_figure(server, database):
    """Issue 27: a batch sent twice, part of it older than the raw plays kept
    (plays_raw_days, 3 by default), counts once; the housekeeping's expiry (on PostgreSQL,
    a day's partition dropped) changes no figure; /metrics counts the plays stored."""
    one, token = server.rows[0]["device_id"], server.api_token()
    now = datetime.now(UTC).replace(microsecond=0)
    batch = plays(30, day=now - timedelta(days=10)) + plays(
        30, first=30, day=now - timedelta(hours=2)
    )
    first, last = (now - timedelta(days=12)).date(), (now + timedelta(days=1)).date()
    for _ in range(2):
        assert post(server, one, body(one, batch), server.tokens[one])[0] == 200
    summed = _summed(server, token, first, last)
    assert sum(p["plays"] for p in summed) == 60 and sum(p["seconds"] for p in summed) == 600
    assert len(stored_plays(server)) == 30  # raw: the last three days only
    # a raw play of five days ago, as an older server or a longer setting left it
    stale = (now - timedelta(days=5)).replace(hour=12, minute=0, second=0)
    if database != "sqlite":
        day = stale.date()
        server.execute(
            f"CREATE TABLE fleet_play_p{day:%Y%m%d} PARTITION OF fleet_play FOR VALUES "
            f"FROM ('{day}T00:00:00+00:00') TO ('{day + timedelta(days=1)}T00:00:00+00:00')"
        )
    server.execute(
        "INSERT INTO fleet_play (board_id, channel, item, started_at, duration_s) "
        f"VALUES ('{one}', 'tinh-08', 'stale', '{stale.isoformat()}', 1.0)"
    )
    done = server.kiosk("province", "housekeeping", "--config", str(server.config))
    assert done.returncode == 0, done.stderr
    assert len(stored_plays(server)) == 30
    assert _summed(server, token, first, last) == summed
    assert post(server, one, body(one, batch), server.tokens[one])[0] == 200
    assert _summed(server, token, first, last) == summed
    _status, metrics = server.request("GET", "/metrics")
    assert "kiosk_province_plays_total 60.0" in metrics
    # a page of boards at a time, as a national fleet's year is read: the same sums
    two = server.rows[1]["device_id"]
    assert post(server, two, body(two, batch[:5]), server.tokens[two])[0] == 200
    whole, paged, url = (
        _summed(server, token, first, last),
        [],
        f"/api/v1/plays?from={first}&to={last}&boards=1",
    )
    while url:
        status, doc = server.request("GET", url, token=token)
        assert status == 200, doc
        paged += doc["plays"]
        url = doc["next"]
    assert paged == whole and {p["device_id"] for p in paged} == {one, two}
    # the console's proof of play says the same, its sums rolled up or (board two's) not yet
    server.api_token("quan-tri", "admin")
    admin = console_login(server.url, "quan-tri", "mat-khau-rat-dai-42")
    got = admin.get(f"{server.url}/plays.csv?from={first}&to={last}", timeout=30)
    table = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig"))))
    per_item: dict[str, list[int]] = {}
    for p in whole:
        n = per_item.setdefault(p["item"], [0, 0])
        n[0] += p["plays"]
        n[1] += 1
    assert {
        r["Mã bản tin"]: [int(r["Lượt phát"]), int(r["Số bảng tin"])] for r in table
    } == per_item
    assert (
        server.request("GET", f"/api/v1/plays?from={first}&to={last}&boards=0", token=token)[0]
        == 400
    )
    if database != "sqlite":  # a partition a day, from the oldest raw day to two days ahead
        names = [r[0] for r in server.sql(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'fleet_play'::regclass ORDER BY 1"
        )]  # fmt: skip
        days = [(now + timedelta(days=n)).date() for n in range(-3, 3)]
        assert names == ["fleet_play_default"] + [f"fleet_play_p{d:%Y%m%d}" for d in days]
        assert server.sql("SELECT count(*) FROM fleet_play_default") == [(0,)]


def test_a_database_of_the_previous_release_keeps_every_play_in_its_sums(tmp_path, database):
    """Migration 0002: the old daily sums stay, each old raw play joins its day's sum, and
    the raw plays a board may still resend stay raw, so a resend is not counted twice."""
    old = ProvinceServer(tmp_path / "old", database, [inventory_row(1)])
    manage = ("province", "manage", "--config", str(old.config))
    done = old.kiosk(*manage, "migrate", "fleet", "0001", "-v", "0")
    assert done.returncode == 0, done.stderr
    one = old.rows[0]["device_id"]  # registered as the previous release did (0001's columns)
    old.execute(
        "INSERT INTO fleet_board (device_id, unit_name, unit_kind, province_code, commune_code, "
        "district, health_url, in_inventory, token_hash, status, problems, current_channel, "
        "current_item, current_title, online_noted, commands_pending, plays_rejected) VALUES "
        f"('{one}', 'UBND', 'xa', '08', '', '', '', true, '', '', '', '', '', '', false, 0, 0)"
    )
    now = datetime.now(UTC).replace(microsecond=0)
    yesterday = now - timedelta(days=1)
    old.execute(
        "INSERT INTO fleet_playday (board_id, channel, item, day, plays, seconds) "
        f"VALUES ('{one}', 'tinh-08', 'a', '2026-01-05', 40, 400.0)"
    )
    for n, at in enumerate([now - timedelta(days=60), yesterday, yesterday + timedelta(minutes=1)]):
        old.execute(
            "INSERT INTO fleet_play (board_id, channel, item, started_at, duration_s) "
            f"VALUES ('{one}', 'tinh-08', 'a', '{at.isoformat()}', {n + 1}.0)"
        )
    done = old.kiosk(*manage, "migrate", "-v", "0")
    assert done.returncode == 0, done.stderr
    sums = old.sql("SELECT sum(plays), sum(seconds) FROM fleet_playday")
    assert sums == [(43, 406.0)]
    assert old.sql(f"SELECT plays_stored FROM fleet_board WHERE device_id = '{one}'") == [(3,)]
    assert len(old.sql("SELECT * FROM fleet_play")) == 2  # 60 days old: summed, not raw
    old.register()
    old.start()
    try:
        resend = [{"channel": "tinh-08", "item": "a", "started_at": yesterday.isoformat(),
                   "duration_s": 2.0}]  # fmt: skip
        assert post(old, one, body(one, resend), old.tokens[one])[0] == 200
        assert old.sql("SELECT sum(plays), sum(seconds) FROM fleet_playday") == sums
    finally:
        old.stop()


def test_a_days_partition_is_made_while_a_heartbeat_writes_that_day(postgres, tmp_path, province):
    """A play of a day without its partition waits in the default partition; making that
    day's partition meanwhile neither fails (the ATTACH finding a row the move missed) nor
    loses the play: the heartbeat's write waits for the move, then lands in the partition."""
    import psycopg

    server = ProvinceServer(tmp_path / "p", postgres.database(), [inventory_row(1)],
                            site_dir=province.site)  # fmt: skip
    server.register()
    chores = ("province", "housekeeping", "--config", str(server.config))
    assert server.kiosk(*chores).returncode == 0
    day = (datetime.now(UTC) + timedelta(days=2)).date()
    server.execute(f"DROP TABLE fleet_play_p{day:%Y%m%d}")
    with psycopg.connect(server.database) as heartbeat, ThreadPoolExecutor(1) as pool:
        heartbeat.execute(  # a heartbeat's transaction, not yet committed
            "INSERT INTO fleet_play (board_id, channel, item, started_at, duration_s) "
            "VALUES (%s, 'tinh-08', 'bt-1', %s, 10)",
            [server.rows[0]["device_id"], datetime.combine(day, datetime.min.time(), UTC)],
        )
        running = pool.submit(server.kiosk, *chores)
        time.sleep(1.0)  # the housekeeping reaches that day's partition and waits
        heartbeat.commit()
        done = running.result(timeout=120)
    assert done.returncode == 0, done.stderr
    assert server.sql(f"SELECT count(*) FROM fleet_play_p{day:%Y%m%d}") == [(1,)]
    assert server.sql("SELECT count(*) FROM fleet_play_default") == [(0,)]
