"""Every page of the console on a 390 px phone and a 1366 x 768 desktop (issue 26, 7), in a
real headless Chromium against a real province server with content on every page: nothing
needs sideways scrolling, and every control (link, button, field, checkbox) is at least
24 x 24 CSS pixels (WCAG 2.2 AA, 2.5.8), the buttons 44 high."""

from __future__ import annotations

import json
import re

import pytest

from tests.browser import PHONE, chromium, log_in
from tests.provinceserver import ProvinceServer, console_login, console_post, inventory_row
from tests.test_publish_cli import keygen

PASSWORD = "mat-khau-rat-dai-42"
DESKTOP_SMALL = (1366, 768)
MEASURE = """
const small = [];
for (const el of document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary')) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) continue;  // not shown
  const least = el.tagName === 'BUTTON' ? 44 : 24;
  if (r.width < 24 || r.height < least) {
    small.push(`${el.tagName.toLowerCase()} ${el.id || el.name || el.textContent.trim()
      .slice(0, 30)}: ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
}
return {
  small: small,
  wide: document.documentElement.scrollWidth,
  width: window.innerWidth,
};
"""


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    """A province with what every page shows at its widest: long unit names, a failing board
    with long problem messages, plays, bulletins in every state, a locked-out account."""
    root = tmp_path_factory.mktemp("layout")
    rows = [inventory_row(n) for n in range(1, 7)]
    rows[0] |= {"unit_name": "UBND phường Nguyễn Thị Minh Khai thuộc thành phố Tuyên Quang",
                "district": "Thành phố Tuyên Quang (trước sắp xếp 2025)"}  # fmt: skip
    server = ProvinceServer(root / "ps", "sqlite", rows)
    keygen(server.root / "province.key")
    server.register()
    for name, role in (("quan-tri", "admin"), ("tac-gia", "author"), ("duyet", "approver")):
        done = server.kiosk("province", "user", "add", name, "--role", role,
                            "--config", str(server.config), stdin=PASSWORD + "\n")  # fmt: skip
        assert done.returncode == 0, done.stderr
    server.start()
    beat(server, rows[0]["device_id"])
    author = console_login(server.url, "tac-gia", PASSWORD)
    approver = console_login(server.url, "duyet", PASSWORD)
    pages = {}
    for title, action in (("Lịch tiếp công dân của Chủ tịch UBND tháng Mười Hai năm 2026",
                           "publish"), ("Thông báo thu gom rác", "return"),
                          ("Họp tổ dân phố", ""), ("Lịch họp chi bộ", "submit")):  # fmt: skip
        made = console_post(author, f"{server.url}/bulletins/new", f"{server.url}/bulletins/new",
                            {"kind": "text", "priority": "normal", "title": title,
                             "body": "Nội dung " * 40, "duration": "20", "fit": "contain",
                             "hours": "7h-11h30, 13h30-17h",
                             "targets": [f"xa-{r['commune_code']}" for r in rows]})  # fmt: skip
        page = made.url
        pages[action or "draft"] = page
        if action:
            console_post(author, f"{page}submit", page, {})
        if action in ("publish", "return"):
            revision = re.search(r'name="revision" value="(\d+)"', approver.get(page).text)
            data = {"revision": revision.group(1)} if action == "publish" else {
                "note": "Cần ghi rõ địa điểm " * 5}  # fmt: skip
            console_post(approver, f"{page}{action}", page, data)
    lock_out(server.url, "tac-gia")  # so the accounts page shows a lockout
    # the pages only a POST reaches: an approval of a revision not seen (409), a lockout (429)
    pending = pages["submit"]
    conflict = console_post(approver, f"{pending}publish", pending, {"revision": "0"})
    assert conflict.status_code == 409
    locked = lock_out(server.url, "tac-gia")
    assert locked.status_code == 429
    posted = {"409 conflict": conflict.text, "429 locked": locked.text}
    yield server, rows, pages, posted
    server.stop()


def lock_out(url: str, name: str):
    import requests

    from kiosk.province.server.setup import LOGIN_FAILURES

    session = requests.Session()
    for _ in range(LOGIN_FAILURES):
        page = session.get(f"{url}/login/", timeout=10).text
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        answer = session.post(f"{url}/login/", data={"username": name, "password": "go-nham",
                              "csrfmiddlewaretoken": csrf}, timeout=10)  # fmt: skip
    return answer


def beat(server: ProvinceServer, device: str) -> None:
    """A failing board's heartbeat, with plays, long messages and a current item."""
    import urllib.request

    health = {"status": "failing", "device": {"id": device},
              "problems": [{"code": code, "message": f"xa-0{n}: https://nguon.example.vn/"
                            f"bangtin/channels/xa-0{n}/manifest.json: the source answered "
                            "HTTP 404 (3 syncs in a row have failed)",
                            "since": "2026-12-04T08:00:00+07:00"}
                           for n, code in enumerate(("sync_failing", "no_content",
                                                     "asset_invalid"))]}  # fmt: skip
    body = {"device_id": device, "sent_at": "2026-12-04T08:30:00+07:00", "health": health,
            "plays": [{"channel": "tinh-08", "item": "bt-1", "duration_s": 20,
                       "started_at": "2026-12-04T08:29:00+07:00"}]}  # fmt: skip
    request = urllib.request.Request(
        f"{server.url}/devices/{device}/heartbeat", data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {server.tokens[device]}",
                 "Content-Type": "application/json"}, method="POST")  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


def console_pages(server: ProvinceServer, rows: list[dict], pages: dict) -> list[str]:
    board = rows[0]["device_id"]
    published = pages["publish"]
    return [
        "/bulletins/", "/bulletins/new", published.removeprefix(server.url),
        pages["return"].removeprefix(server.url), f"{pages['draft'].removeprefix(server.url)}edit",
        "/audit/", "/reports/", "/boards/", f"/boards/{board}/", "/plays/", "/accounts/",
        "/accounts/tac-gia/password", "/cap-nhat/",
    ]  # fmt: skip


@pytest.mark.parametrize("size", [PHONE, DESKTOP_SMALL], ids=["phone-390", "desktop-1366"])
def test_every_console_page_fits_and_every_control_can_be_hit(province, size, tmp_path):
    server, rows, pages, posted = province
    with chromium(tmp_path / "chromium", size=size) as driver:
        driver.get(server.url + "/login/")
        measured = {"/login/": driver.execute_script(MEASURE)}
        log_in(driver, server.url, "quan-tri", PASSWORD)
        for path in console_pages(server, rows, pages):
            driver.get(server.url + path)
            assert "Đăng nhập" not in driver.title, path
            measured[path] = driver.execute_script(MEASURE)
            # kept under pytest's tmp folder, for a person to look at
            driver.save_screenshot(str(tmp_path / (path.strip("/").replace("/", "_") + ".png")))
        for name, html in posted.items():  # shown as the browser got them after the POST
            driver.execute_script("document.open(); document.write(arguments[0]);"
                                  " document.close();", html)  # fmt: skip
            measured[name] = driver.execute_script(MEASURE)
    too_wide = {p: (m["wide"], m["width"]) for p, m in measured.items()
                if m["wide"] > m["width"] + 1}  # fmt: skip
    too_small = {p: m["small"] for p, m in measured.items() if m["small"]}
    print(f"{size}: pages {len(measured)}, widest {max(m['wide'] for m in measured.values())}")
    assert not too_wide, too_wide
    assert not too_small, json.dumps(too_small, ensure_ascii=False, indent=1)
