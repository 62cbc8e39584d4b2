"""A board's problems explained in Vietnamese (issue 26, 3): the channel and why, from the
messages a real board's sync writes, as the status page and the province's board page show
them."""

from __future__ import annotations

import socket
import threading
from types import SimpleNamespace

import pytest

from kiosk.core.problemtext import explain_vi
from tests.test_sync import make_board


def problems_after_one_sync(tmp_path, url: str, key: str) -> list:
    board = make_board(tmp_path / "board", SimpleNamespace(url=url, public_key=key),
                       channels=("xa-02263",))  # fmt: skip
    (report,) = board.sync().channels
    return list(report.problems)


@pytest.fixture
def empty_site(tmp_path):
    from kiosk.demo.sitesrv import SiteServer

    (tmp_path / "site").mkdir()
    server = SiteServer(("127.0.0.1", 0), tmp_path / "site")
    server.start()
    yield server.url
    server.stop()


KEY = "ed25519:" + "A" * 43 + "="


def test_a_channel_the_source_never_published_is_named_with_its_404(tmp_path, empty_site):
    (problem,) = problems_after_one_sync(tmp_path, empty_site, KEY)
    assert problem.code == "sync_failing"
    assert explain_vi(problem.message) == (
        "Kênh xa-02263: nguồn chưa có bản tin cho kênh này (HTTP 404)"
    )


def test_no_connection_and_a_silent_source_are_told_apart(tmp_path):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    (refused,) = problems_after_one_sync(tmp_path / "a", f"http://127.0.0.1:{port}", KEY)
    assert explain_vi(refused.message) == (
        "Kênh xa-02263: không kết nối được tới nguồn (mạng hoặc máy chủ)"
    )

    silent = socket.socket()  # accepts, reads, never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    held = []
    threading.Thread(target=lambda: held.append(silent.accept()), daemon=True).start()
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    (timeout,) = problems_after_one_sync(tmp_path / "b", url, KEY)
    silent.close()
    assert explain_vi(timeout.message) == "Kênh xa-02263: nguồn ngừng trả lời quá 1 giây"


@pytest.mark.parametrize(
    ("message", "why"),
    [
        ("tinh-08: https://x/channels/tinh-08/manifest.json: the source answered HTTP 503",
         "Kênh tinh-08: nguồn trả lời lỗi HTTP 503"),
        ("tinh-08: https://x: no connection within 10 s", "Kênh tinh-08: không kết nối được tới "
         "nguồn trong 10 giây"),
        ("tinh-08: 3 problems of this kind; the first: ...", "Kênh tinh-08"),
        ("the source answered HTTP 404", "Nguồn chưa có bản tin cho kênh này (HTTP 404)"),
        ("<script>alert(1)</script>: HTTP 999999", ""),
        ("", ""),
    ],
)  # fmt: skip
def test_what_is_not_recognised_says_only_what_is(message, why):
    assert explain_vi(message) == why


def test_the_status_page_shows_the_reason_in_vietnamese(tmp_path, empty_site):
    from zoneinfo import ZoneInfo

    from kiosk.board.player import PlayerState
    from kiosk.board.statuspage import render
    from tests.test_healthsrv import reporter_with

    (problem,) = problems_after_one_sync(tmp_path, empty_site, KEY)
    doc = reporter_with(PlayerState(current=None, items_active=0, frames=1), 0).document()
    doc["problems"] = [{"code": problem.code, "message": problem.message, "since": doc["time"]}]
    page = render(doc, ZoneInfo("Asia/Ho_Chi_Minh"))
    assert "Kênh xa-02263: nguồn chưa có bản tin cho kênh này (HTTP 404)" in page
