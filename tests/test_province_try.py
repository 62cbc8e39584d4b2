"""The province on one machine, as a newcomer meets it (issue 26, 2): a copy of the
repository as a fresh clone has it (its tracked files, no .venv), then the one command the
README gives, `./scripts/try-province`. It sets up its own .venv, then runs the province
server, the signed site and a board; an author writes a bulletin in the console over HTTP,
an approver publishes it, and the board shows it. Ctrl+C stops all three."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import requests

from tests.countingsource import free_port
from tests.provinceserver import console_login as login
from tests.provinceserver import console_post as post

ROOT = Path(__file__).resolve().parent.parent
SETUP_S = 900  # a fresh .venv: pip installs everything (from its cache, where it has one)


def fresh_clone(into: Path) -> Path:
    """The repository's tracked files as they are in the work tree, without .venv or any
    file git ignores: what `git clone` gives a newcomer, with this change in it."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / os.fsdecode(name)
        if source.is_file():
            target = into / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return into


def wait_until(check, timeout: float, what: str, proc: subprocess.Popen, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"try-province ended ({proc.returncode}): {log.read_text()}")
        try:
            found = check()
        except (requests.RequestException, OSError, ValueError):
            found = None
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"no {what} in {timeout:.0f} s: {log.read_text()[-3000:]}")


def test_a_fresh_clone_runs_a_province_publishes_and_a_board_shows_it(tmp_path):
    clone = fresh_clone(tmp_path / "clone")
    assert not (clone / ".venv").exists() and (clone / "scripts" / "try-province").exists()
    port, site_port, board_port = free_port(), free_port(), free_port()
    log = tmp_path / "try.log"
    trial = tmp_path / "trial"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(clone / "scripts" / "try-province"), "--headless", "--dir", str(trial),
             "--port", str(port), "--site-port", str(site_port),
             "--board-port", str(board_port)],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            env={k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")},
        )  # fmt: skip
    url, board = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{board_port}"
    try:
        wait_until(lambda: requests.get(f"{board}/health", timeout=2).json()["sync"][
            "last_success_at"], SETUP_S, "board synced", proc, log)  # fmt: skip
        accounts = {
            line.split("\t")[0]: line.split("\t")[2]
            for line in (trial / "accounts.txt").read_text().splitlines()
        }
        assert oct((trial / "accounts.txt").stat().st_mode & 0o777) == "0o600"
        # a channel never published is there, signed and empty: the board is not failing
        # for sync, only for having nothing to show yet
        health = requests.get(f"{board}/health", timeout=5).json()
        assert [p["code"] for p in health["problems"]] == ["no_content"]

        author = login(url, "tac-gia", accounts["tac-gia"])
        written = post(author, f"{url}/bulletins/new", f"{url}/bulletins/new", {
            "kind": "text", "priority": "normal", "title": "Lịch tiếp công dân tháng 12",
            "body": "Chủ tịch UBND xã tiếp công dân vào sáng thứ Năm hằng tuần.",
            "duration": "20", "fit": "contain", "targets": ["xa-02263"]})  # fmt: skip
        assert written.status_code == 200 and "/bulletins/" in written.url, written.text[:800]
        page = written.url
        pk = int(re.search(r"/bulletins/(\d+)/", page).group(1))
        assert post(author, f"{page}submit", page, {}).status_code == 200

        approver = login(url, "duyet", accounts["duyet"])
        revision = re.search(r'name="revision" value="(\d+)"', approver.get(page).text).group(1)
        published = post(approver, f"{page}publish", page, {"revision": revision})
        assert published.status_code == 200 and "Đang phát" in published.text

        def shown():
            doc = requests.get(f"{board}/health", timeout=2).json()
            return (doc["display"]["current_item"] or {}).get("id") == f"bt-{pk}" and doc

        doc = wait_until(shown, 60, "the bulletin on the board", proc, log)
        assert doc["status"] == "ok"
        status_page = requests.get(f"{board}/", timeout=5).text
        assert "Lịch tiếp công dân tháng 12" in status_page
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl+C in the terminal: the whole group
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    assert code == 0, log.read_text()[-3000:]
    left = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True, text=True)
    assert left.stdout == "", "processes left behind: " + left.stdout


def test_the_wheel_the_guide_builds_installs_a_whole_province_server(tmp_path):
    """Issue 26, 1: the guides said `pip install 'bangtin-kiosk[province]'`, which no index
    has. The install guide builds the wheel from a clone and installs that, with the
    province's extra, into the server's venv: its pages, templates and migrations come
    with it (a console page answers from the installed copy, not from this checkout)."""
    clone = fresh_clone(tmp_path / "clone")
    dist = tmp_path / "dist"
    built = subprocess.run(["python3", "-m", "pip", "wheel", "--no-deps", "-w", str(dist), "."],
                           cwd=clone, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("bangtin_kiosk-*-py3-none-any.whl")
    venv = tmp_path / "venv"
    subprocess.run(["python3", "-m", "venv", str(venv)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    installed = subprocess.run([venv / "bin" / "pip", "install", "-q", f"{wheel}[province]"],
                               capture_output=True, text=True, timeout=SETUP_S, env=env,
                               cwd=tmp_path)  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    port = free_port()
    log = tmp_path / "try.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [venv / "bin" / "kiosk", "province", "try", "--dir", str(tmp_path / "trial"),
             "--port", str(port), "--site-port", str(free_port())],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=env, cwd=tmp_path,
        )  # fmt: skip
    try:
        page = wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/login/", timeout=2),
                          120, "the login page", proc, log)  # fmt: skip
        assert page.status_code == 200 and "Đăng nhập" in page.text
        assert "site-packages/kiosk" in subprocess.run(
            [venv / "bin" / "python", "-c", "import kiosk; print(kiosk.__file__)"],
            capture_output=True, text=True, env=env, cwd=tmp_path).stdout  # fmt: skip
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=30) == 0, log.read_text()[-3000:]


def test_a_port_already_taken_is_named_with_the_flag_that_moves_it(tmp_path):
    """Another program on the site's port: exit 2, one line naming the port and the flag."""
    import socket
    import sys

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "province", "try", "--dir", str(tmp_path / "trial"),
         "--port", str(free_port()), "--site-port", str(port)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    taken.close()
    assert done.returncode == 2, done.stderr
    assert f"127.0.0.1:{port}" in done.stderr and "--site-port" in done.stderr
    assert "Traceback" not in done.stderr
