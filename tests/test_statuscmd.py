"""`kiosk status` against real servers on 127.0.0.1: boards answering recorded /health
documents, one that hangs, one that is not there."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.countingsource import free_port
from tests.fleetboards import HealthBoard, recorded
from tests.test_cli import kiosk


@pytest.fixture
def boards():
    made = [
        HealthBoard(recorded("08-02263-01", "UBND xã 08-02263-01")),
        HealthBoard(
            recorded("08-02263-02", "UBND xã 2", "degraded", ("overheating", "sync_failing"))
        ),
        HealthBoard(recorded("08-02263-03", "UBND xã 3", "failing", ("no_content",), None)),
        HealthBoard(recorded("08-02263-04", "UBND xã 4"), hang_s=8),
    ]
    yield made
    for board in made:
        board.stop()


def test_status_shows_each_board_including_the_silent_ones(boards):
    gone = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    done = kiosk("status", *(b.url for b in boards), gone)
    elapsed = time.monotonic() - started
    assert done.returncode == 1  # one board is failing, two do not answer
    lines = done.stdout.splitlines()
    # a technician's table: Vietnamese headers and words, times in Vietnam's zone
    assert re.split(r"\s{2,}", lines[0]) == [
        "bảng tin", "trạng thái", "đang hiển thị", "sự cố", "đồng bộ gần nhất", "nhiệt độ",
        "phiên bản",
    ]  # fmt: skip
    rows = lines[2:]
    assert len(rows) == 5
    assert "08-02263-01 (UBND xã 08-02263-01)" in rows[0] and " Bình thường " in rows[0]
    assert "tinh-08/a" in rows[0] and "62 °C" in rows[0]
    assert "08:30 ngày 23/11/2026" in rows[0]  # the board said 2026-11-23T08:30:00+07:00
    assert "Có vấn đề" in rows[1] and "Thiết bị quá nóng, Không đồng bộ được" in rows[1]
    assert "Hỏng" in rows[2] and "Không có nội dung để hiển thị" in rows[2]
    assert rows[3].startswith(boards[3].url) and "không trả lời kịp" in rows[3]
    assert rows[4].startswith(f"http://{gone}/health") and "không kết nối được" in rows[4]
    assert elapsed < 8  # asked together, each with a timeout: the hanging board costs 5 s


def test_status_exits_0_when_every_board_answers_and_none_fails(boards):
    done = kiosk("status", boards[0].url, boards[1].url + "/health", "--json")
    assert done.returncode == 0, done.stdout
    answers = json.loads(done.stdout)
    assert [a["health"]["device"]["id"] for a in answers] == ["08-02263-01", "08-02263-02"]
