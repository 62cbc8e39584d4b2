"""The province server's pages in a real headless Chromium (driven by Debian's chromedriver),
in Vietnamese, as a technician uses them: log in, the fleet, a board's page with its
problems and history, a screenshot asked for and received from a real `kiosk run` board,
a restart asked for, and proof of play with its CSV. An author may not see the boards."""

from __future__ import annotations

import csv
import io
import urllib.request

import pytest

from tests.browser import body_text, chromium, click_and_load, click_id, log_out
from tests.browser import log_in as browser_log_in
from tests.province import text, ticker
from tests.provinceserver import ProvinceServer, inventory_row
from tests.test_province_server import running_board, wait_for

PASSWORD = "mat-khau-rat-dai-42"


@pytest.fixture
def browser(tmp_path):
    with chromium(tmp_path / "chromium") as driver:
        yield driver


@pytest.fixture
def server(tmp_path, province):
    rows = [inventory_row(n) for n in range(1, 4)]
    s = ProvinceServer(tmp_path / "province-server", "sqlite", rows, site_dir=province.site)
    s.register()
    s.start()
    yield s
    s.stop()


def log_in(driver, server: ProvinceServer, name: str) -> None:
    browser_log_in(driver, server.url, name, PASSWORD)


def add_user(server: ProvinceServer, name: str, role: str) -> None:
    done = server.kiosk(
        "province", "user", "add", name, "--role", role, "--config", str(server.config),
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_a_technician_sees_the_fleet_and_a_board_and_asks_it_for_a_screenshot(
    tmp_path, province, server, browser
):
    from selenium.webdriver.common.by import By

    province.publish("tinh-08", [text("bao-so-3", title="Bão số 3 đổ bộ", duration=3), ticker("t")])
    province.publish("xa-02263", [text("lich-tiep-dan", title="Lịch tiếp công dân", duration=3)])
    add_user(server, "ky-thuat", "technician")
    add_user(server, "tac-gia", "author")
    board_id = server.rows[0]["device_id"]
    edits = (("poll_seconds = 300", "poll_seconds = 5"),)
    with running_board(tmp_path, province, server, board_id, *edits) as board:
        wait_for(
            lambda: server.sql(
                f"SELECT 1 FROM fleet_board WHERE current_title != '' AND device_id = '{board_id}'"
            ),
            40,
            "a heartbeat naming what is on screen",
        )
        log_in(browser, server, "ky-thuat")
        assert browser.current_url.endswith("/boards/")
        page = body_text(browser)
        assert "Các bảng tin" in page
        row = browser.find_element(By.ID, f"board-{board_id}").text
        assert "Bình thường" in row
        assert "Bão số 3 đổ bộ" in row or "Lịch tiếp công dân" in row
        assert "vừa xong" in row or "phút trước" in row
        assert (
            "Chưa báo cáo"
            in browser.find_element(By.ID, f"board-{server.rows[1]['device_id']}").text
        )
        assert "Bình thường 1" in browser.find_element(By.ID, "counts").text

        click_and_load(browser, browser.find_element(By.LINK_TEXT, server.rows[0]["unit_name"]))
        assert browser.find_element(By.ID, "name").text == server.rows[0]["unit_name"]
        assert "Không có sự cố" in browser.find_element(By.ID, "problems").text
        assert "Bình thường" in browser.find_element(By.ID, "history").text

        click_id(browser, "ask-screenshot")
        assert "Chụp màn hình” đã được gửi" in body_text(browser)

        def screenshot_shown():
            browser.refresh()
            shots = browser.find_elements(By.ID, "screenshot")
            return shots and browser.execute_script(
                "return arguments[0].complete && arguments[0].naturalWidth", shots[0]
            )

        width = wait_for(screenshot_shown, 40, "the board's screenshot on its page", every=1)
        assert width == 640  # the board's panel, as the public sees it
        assert "Đang chờ" not in browser.find_element(By.ID, "commands").text

        # the site goes away: the board's problem and its history show on the page
        province.server.stop()

        def problem_shown():
            browser.refresh()
            return (
                "Không đồng bộ được với hệ thống nguồn"
                in browser.find_element(By.ID, "problems").text
            )

        wait_for(problem_shown, 60, "the sync problem on the board's page", every=1)
        # and which channel, and why, in Vietnamese (issue 26, 3)
        assert "Kênh tinh-08: không kết nối được tới nguồn" in browser.find_element(
            By.ID, "problems").text  # fmt: skip
        history = browser.find_element(By.ID, "history").text
        assert "Có vấn đề" in history and "Bình thường" in history

        # the housekeeping's minute sums the new bulletins over boards and names them
        done = server.kiosk("province", "housekeeping", "--config", str(server.config))
        assert done.returncode == 0, done.stderr
        browser.get(server.url + "/plays/")
        plays = browser.find_element(By.ID, "plays").text
        assert "Bão số 3 đổ bộ" in plays or "Lịch tiếp công dân" in plays
        assert "Sơn Dương" in plays and "Tất cả" in plays
        cookie = "; ".join(f"{c['name']}={c['value']}" for c in browser.get_cookies())
        link = browser.find_element(By.ID, "csv").get_attribute("href")
        with urllib.request.urlopen(urllib.request.Request(link, headers={"Cookie": cookie})) as r:
            rows = list(csv.DictReader(io.StringIO(r.read().decode("utf-8-sig"))))
        assert rows and {r["Địa bàn"] for r in rows} == {"Sơn Dương"}  # headers in Vietnamese
        assert all(int(r["Lượt phát"]) >= 1 and r["Tiêu đề"] for r in rows)

        # restarting the player ends `kiosk run` (systemd starts it again on a board)
        browser.get(f"{server.url}/boards/{board_id}/")
        click_id(browser, "ask-restart_player", confirm="Khởi động lại trình phát")
        wait_for(lambda: board.proc.poll() is not None, 40, "the player to restart")
        assert board.proc.returncode == 0

    log_out(browser)
    log_in(browser, server, "tac-gia")
    browser.get(server.url + "/boards/")
    assert "không được xem trang này" in body_text(browser)
    browser.get(server.url + "/plays/")
    assert "Thống kê phát bản tin" in body_text(browser)
