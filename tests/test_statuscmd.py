"""`kiosk status` against real servers on 127.0.0.1: boards answering recorded /health
documents, one that hangs, one that is not there."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.site import free_port
from tests.test_cli import kiosk


def health(ident: str, status: str, problems: list[str], current=("tinh-08", "a")) -> dict:
    return {
        "status": status,
        "problems": [
            {"code": c, "message": c, "since": "2026-11-23T08:00:00+07:00"} for c in problems
        ],
        "device": {"id": ident, "unit_name": f"UBND xã {ident}"},
        "version": "0.1.0",
        "display": {"current_item": {"channel": current[0], "id": current[1]} if current else None},
        "sync": {"last_success_at": "2026-11-23T08:30:00+07:00"},
        "system": {"cpu_temp_c": 61.5},
    }


class Board(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, doc: dict | None, hang: bool = False) -> None:
        self.doc, self.hang = doc, hang
        super().__init__(("127.0.0.1", 0), BoardHandler)
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class BoardHandler(BaseHTTPRequestHandler):
    server: Board

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.server.hang:
            time.sleep(8)
        body = json.dumps(self.server.doc).encode()
        self.send_response(503 if self.server.doc["status"] == "failing" else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def boards():
    made = [
        Board(health("08-02263-01", "ok", [])),
        Board(health("08-02263-02", "degraded", ["overheating", "sync_failing"])),
        Board(health("08-02263-03", "failing", ["no_content"], current=None)),
        Board(health("08-02263-04", "ok", []), hang=True),
    ]
    yield made
    for board in made:
        board.shutdown()
        board.server_close()


def test_status_shows_each_board_including_the_silent_ones(boards):
    gone = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    done = kiosk("status", *(b.url for b in boards), gone)
    elapsed = time.monotonic() - started
    assert done.returncode == 1  # one board is failing, two do not answer
    lines = done.stdout.splitlines()
    assert lines[0].split() == [
        "board",
        "status",
        "showing",
        "problems",
        "last",
        "sync",
        "temp",
        "version",
    ]
    rows = lines[2:]
    assert len(rows) == 5
    assert "08-02263-01 (UBND xã 08-02263-01)" in rows[0] and " ok " in rows[0]
    assert "tinh-08/a" in rows[0] and "62 °C" in rows[0]
    assert "degraded" in rows[1] and "overheating, sync_failing" in rows[1]
    assert "failing" in rows[2] and "no_content" in rows[2]
    assert rows[3].startswith(boards[3].url) and "no answer in time" in rows[3]
    assert rows[4].startswith(f"http://{gone}/health") and "unreachable" in rows[4]
    assert elapsed < 8  # asked together, each with a timeout: the hanging board costs 5 s


def test_status_exits_0_when_every_board_answers_and_none_fails(boards):
    done = kiosk("status", boards[0].url, boards[1].url + "/health", "--json")
    assert done.returncode == 0, done.stdout
    answers = json.loads(done.stdout)
    assert [a["health"]["device"]["id"] for a in answers] == ["08-02263-01", "08-02263-02"]
