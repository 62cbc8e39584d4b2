"""Heartbeats with proof of play (SPEC 1.6) against a real receiver on 127.0.0.1: across an
outage and a restart no play is lost, and none is sent twice once acknowledged."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kiosk.board.heartbeat import Heartbeat, may_send_token
from kiosk.board.plays import PlayQueue
from kiosk.core.config import parse_config
from tests.test_cli import argv
from tests.test_healthsrv import kiosk_running, live_config, publish_both

TOKEN = "tok-3f9a7c1e-very-secret"


class Receiver(ThreadingHTTPServer):
    """The province's heartbeat receiver: notes each POST; answers 204, or 503 when down."""

    daemon_threads = True

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.auth: list[str | None] = []
        self.down = False
        super().__init__(("127.0.0.1", 0), ReceiverHandler)
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def plays(self) -> list[tuple[str, str, str]]:
        return [(p["channel"], p["item"], p["started_at"]) for b in self.bodies for p in b["plays"]]


class ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.server.down:
            self.send_response(503)
        else:
            self.server.bodies.append(json.loads(body))
            self.server.auth.append(self.headers.get("Authorization"))
            self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.shutdown()
    server.server_close()


def config_for(url: str, token_file: Path | None = None):
    source = {
        "url": url,
        "channels": ["tinh-08"],
        "public_keys": ["ed25519:A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="],
        "heartbeat_seconds": 5,
    }
    if token_file:
        source["token_file"] = str(token_file)
    device = {
        "id": "08-02263-01",
        "unit_name": "UBND xã Tân Trào",
        "unit_kind": "xa",
        "province_code": "08",
        "commune_code": "02263",
    }
    return parse_config({"device": device, "source": source})


def heartbeat(folder: Path, url: str, token_file: Path | None = None) -> Heartbeat:
    """A board's heartbeat as it starts: its play queue read back from storage."""
    queue = PlayQueue(folder)
    return Heartbeat(
        config_for(url, token_file), queue, lambda: {"status": "ok"}, lambda: datetime.now(UTC)
    )


def add_plays(hb: Heartbeat, first: int, count: int) -> None:
    for n in range(first, first + count):
        hb.queue.add("tinh-08", f"item-{n}", f"2026-11-23T08:{n % 60:02d}:00+07:00", 10.0)


def test_no_play_is_lost_across_an_outage_and_a_restart_and_none_is_sent_twice(tmp_path, receiver):
    board = tmp_path / "board"
    hb = heartbeat(board, receiver.url)
    add_plays(hb, 0, 30)
    receiver.down = True
    assert not hb.beat() and len(hb.queue) == 30
    assert hb.status.consecutive_failures == 1
    add_plays(hb, 30, 20)
    assert not hb.beat()
    # the kiosk restarts (the plays were flushed at each beat) while the receiver is down
    hb = heartbeat(board, receiver.url)
    assert len(hb.queue) == 50
    receiver.down = False
    assert hb.beat() and len(hb.queue) == 0
    assert hb.status.consecutive_failures == 0 and hb.status.last_success_at is not None
    add_plays(hb, 50, 5)
    assert hb.beat()
    hb = heartbeat(board, receiver.url)  # another restart: nothing acknowledged comes back
    assert len(hb.queue) == 0
    assert hb.beat()
    sent = receiver.plays()
    assert [item for _, item, _ in sent] == [f"item-{n}" for n in range(55)]
    assert all(
        b["device_id"] == "08-02263-01" and b["health"] == {"status": "ok"} for b in receiver.bodies
    )


def test_plays_are_written_in_batches_not_per_slide(tmp_path):
    queue = PlayQueue(tmp_path)
    for n in range(100):
        queue.add("tinh-08", f"i{n}", "2026-11-23T08:00:00+07:00", 10)
    assert not queue.journal.exists()  # nothing written yet
    queue.flush()
    assert len(queue.journal.read_text().splitlines()) == 100
    queue.acknowledge(queue.batch(60)[-1].id)
    assert len(PlayQueue(tmp_path)) == 40


def test_the_queue_is_bounded_and_counts_what_it_dropped(tmp_path):
    queue = PlayQueue(tmp_path)
    for n in range(10_050):
        queue.add("tinh-08", f"i{n}", "2026-11-23T08:00:00+07:00", 10)
    assert len(queue) == 10_000 and queue.dropped == 50
    assert queue.batch(1)[0].item == "i50"  # the oldest went
    queue.flush()
    for n in range(15_000):  # the journal is compacted, never grows without bound
        queue.add("tinh-08", f"j{n}", "2026-11-23T08:00:00+07:00", 10)
        if n % 1000 == 0:
            queue.flush()
    queue.flush()
    assert len(queue.journal.read_text().splitlines()) <= 20_000
    assert len(PlayQueue(tmp_path)) == 10_000


def test_a_journal_line_torn_by_a_power_cut_loses_that_play_only(tmp_path):
    queue = PlayQueue(tmp_path)
    for n in range(3):
        queue.add("tinh-08", f"i{n}", "2026-11-23T08:00:00+07:00", 10)
    queue.flush()
    with open(queue.journal, "a") as f:
        f.write('{"id": 4, "chan')
    assert [p.item for p in PlayQueue(tmp_path).batch()] == ["i0", "i1", "i2"]


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://source.example.vn/bangtin/devices/x/heartbeat", True),
        ("http://127.0.0.1:8765/devices/x/heartbeat", True),
        ("http://[::1]:8765/devices/x/heartbeat", True),
        ("http://localhost/devices/x/heartbeat", True),
        ("http://source.example.vn/devices/x/heartbeat", False),
        ("http://10.0.0.5/devices/x/heartbeat", False),
    ],
)
def test_the_token_goes_only_over_https_or_to_loopback(url, allowed):
    assert may_send_token(url) is allowed


def test_the_token_reaches_the_receiver_and_nothing_else(tmp_path, receiver, province):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    publish_both(province)
    config, port = live_config(
        tmp_path,
        province,
        ("heartbeat_seconds = 60", "heartbeat_seconds = 5"),
        ('heartbeat_url = ""', f'heartbeat_url = "{receiver.url}/hb"'),
        ("public_keys = [", f'token_file = "{token_file}"\npublic_keys = ['),
    )
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    proc = subprocess.Popen(
        argv("-v", "run", "--headless", "--config", str(config)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    served = []
    try:
        deadline = time.monotonic() + 30
        while not receiver.bodies and time.monotonic() < deadline:
            time.sleep(0.2)
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        for path in ("/health", "/metrics", "/", "/nothing"):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as a:
                    served.append(a.read().decode())
            except urllib.error.HTTPError as exc:
                served.append(exc.read().decode())
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert receiver.auth and receiver.auth[0] == f"Bearer {TOKEN}", err[-2000:]
    assert receiver.bodies[0]["health"]["device"]["id"] == "08-02263-01"
    everything = "\n".join([out, err, *served, json.dumps(receiver.bodies)])
    assert TOKEN not in everything
    assert "tok-" not in everything
    for stored in (tmp_path / "board").rglob("*"):
        if stored.is_file():
            assert TOKEN.encode() not in stored.read_bytes(), stored


def test_an_item_alone_on_screen_is_a_play_each_time_it_comes_round(tmp_path, receiver, province):
    """Issue 24, 11: a 3 s emergency shown alone was one play for as long as it stayed (an
    hour: one play of an hour, which the province refuses and which then held the queue).
    Now each turn is a play of its own, as long as the item's duration."""
    from tests.province import text

    province.publish("tinh-08", [text("lu-quet", priority="emergency", duration=3)])
    province.publish("xa-02263", [text("b")])
    with kiosk_running(
        tmp_path,
        province,
        ("heartbeat_seconds = 60", "heartbeat_seconds = 5"),
        ('heartbeat_url = ""', f'heartbeat_url = "{receiver.url}/hb"'),
    ):
        deadline = time.monotonic() + 60

        def turns() -> list[dict]:  # "b" may show for a moment before the emergency is in
            return [p for b in receiver.bodies for p in b["plays"] if p["item"] == "lu-quet"]

        while len(turns()) < 4:
            assert time.monotonic() < deadline, receiver.bodies
            time.sleep(0.2)
    plays = turns()
    # a turn of 3 s, with the crossfade and a busy machine's lateness; two turns merged
    # into one play would be 6 s or more
    assert all(2.5 <= p["duration_s"] < 6.0 for p in plays), plays
    starts = [p["started_at"] for p in plays]
    assert len(set(starts)) == len(starts)  # each its own play


def test_a_full_disk_never_stops_the_heartbeat(tmp_path, receiver, province):
    """Issue 24, 14: the plays were written before each heartbeat; on a full disk the write
    failed and the beat ended, so disk_low never reached the province and the plays that
    could not be written were lost. The cache is a real 4 MB tmpfs here (a private mount
    namespace), filled to the last byte while the kiosk runs."""
    import shutil
    import sys

    from tests.conftest import missing

    if shutil.which("unshare") is None:
        missing("unshare is needed for a real full disk (apt install util-linux)")
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    if probe.returncode != 0:
        missing(f"unshare -rm is not permitted here: {probe.stderr!r}")
    from tests.province import text

    province.publish("tinh-08", [text("a", duration=3), text("c", duration=3)])
    province.publish("xa-02263", [text("b", duration=3)])
    config, _port = live_config(
        tmp_path,
        province,
        ("heartbeat_seconds = 60", "heartbeat_seconds = 5"),
        ('heartbeat_url = ""', f'heartbeat_url = "{receiver.url}/hb"'),
    )
    storage = tmp_path / "board"
    storage.mkdir(exist_ok=True)
    script = (
        f"mount -t tmpfs -o size=4m tmpfs {storage} && "
        f"( {sys.executable} -m kiosk run --headless --config {config} & kiosk=$!; "
        f"sleep 8; head -c 8000000 /dev/zero > {storage}/fill 2>/dev/null; wait $kiosk )"
    )
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    proc = subprocess.Popen(["unshare", "-rm", "sh", "-c", script], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 90

        def full_beats() -> list[dict]:
            return [b for b in receiver.bodies if b["health"]["system"]["disk_free_mb"] < 0.5]

        while len(full_beats()) < 3:
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            assert time.monotonic() < deadline, [b["health"]["system"] for b in receiver.bodies]
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    beats = full_beats()
    assert all("disk_low" in {p["code"] for p in b["health"]["problems"]} for b in beats)
    assert sum(len(b["plays"]) for b in beats) >= 2  # plays kept in memory, and sent
    assert "Traceback" not in err, err[-3000:]


class Commanding(ThreadingHTTPServer):
    """A heartbeat receiver (or whoever answers in its place) whose every reply asks for the
    commands in `commands`."""

    daemon_threads = True

    def __init__(self) -> None:
        self.commands: list[dict] | Callable[[], list[dict]] = []  # a callable: new each time
        self.beats = 0
        self.bodies: list[dict] = []
        super().__init__(("127.0.0.1", 0), CommandingHandler)
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()


class CommandingHandler(BaseHTTPRequestHandler):
    server: Commanding

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.server.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.server.beats += 1
        ask = self.server.commands
        body = json.dumps({"commands": ask() if callable(ask) else ask}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_restart_player_asked_at_every_beat_restarts_once_and_at_most_three_times_an_hour(
    tmp_path, province
):
    """Issue 24, 12: a reply asking restart_player at every beat (the same id) restarted the
    player again and again: 5 restarts in 110 s, 29 s dark. The ids done are kept on disk,
    restarts are bounded, and the rotation resumes where it was."""
    from tests.province import text

    province.publish("tinh-08", [text("a", duration=3), text("b-dai", duration=600)])
    province.publish("xa-02263", [])
    server = Commanding()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    config, port = live_config(
        tmp_path,
        province,
        ("heartbeat_seconds = 60", "heartbeat_seconds = 5"),
        ('heartbeat_url = ""', f'heartbeat_url = "{url}/hb"'),
    )
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    health = f"http://127.0.0.1:{port}/health"

    def showing() -> str | None:
        try:
            with urllib.request.urlopen(health, timeout=2) as answer:
                current = json.load(answer)["display"]["current_item"]
        except (OSError, ValueError):
            return None
        return current["id"] if current else None

    def run_until(ask: str | None, exits: bool) -> str | None:
        """One run of the kiosk: the first item it shows; the province asks `ask` once b-dai
        is on screen; the run must end by itself (exits) or go on for three beats."""
        server.commands = []
        proc = subprocess.Popen(
            argv("run", "--headless", "--config", str(config)),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            first = None
            while (now := showing()) != "b-dai":
                first = first or now
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
            first = first or now
            if ask:
                server.commands = [{"id": ask, "type": "restart_player"}]
            beats = server.beats
            if exits:
                proc.wait(timeout=30)
                assert proc.returncode == 0
            else:
                while server.beats < beats + 3:
                    assert proc.poll() is None, "restarted although it must not"
                    time.sleep(0.2)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=20)
        assert "Traceback" not in err, err[-2000:]
        return first

    assert run_until("r1", exits=True) == "a"
    assert run_until("r1", exits=False) == "b-dai"  # resumed; r1 is not done twice
    assert run_until("r2", exits=True) == "b-dai"
    assert run_until("r3", exits=True) == "b-dai"
    assert run_until("r4", exits=False) == "b-dai"  # a fourth restart within the hour: no
    server.shutdown()
    server.server_close()


def test_a_screenshot_storm_costs_one_screenshot_and_uploads_are_counted(tmp_path, province):
    """Issue 24, 13: 16 screenshot commands a reply kept a board uploading 1.6 MB a minute
    (2.3 GB a day on a 4G SIM). Now one screenshot in 5 minutes, whatever is asked, and
    /health says how many bytes went up today against the day's budget."""
    from kiosk.board.heartbeat import UPLOAD_BUDGET

    publish_both(province)
    server = Commanding()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    asked = iter(range(10**6))

    def storm() -> list[dict]:
        return [{"id": f"s{next(asked)}", "type": "screenshot"} for _ in range(16)]

    with kiosk_running(
        tmp_path,
        province,
        ("heartbeat_seconds = 60", "heartbeat_seconds = 5"),
        ('heartbeat_url = ""', f'heartbeat_url = "{url}/hb"'),
    ) as health:
        server.commands = storm
        deadline = time.monotonic() + 90
        while server.beats < 6:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        counted = len(server.bodies) - 1  # the last may be on its way, not yet counted
        with urllib.request.urlopen(health + "/health", timeout=5) as answer:
            doc = json.load(answer)
    server.shutdown()
    server.server_close()
    shots = [b for b in server.bodies if "screenshot" in b]
    assert len(shots) == 1, [sorted(b) for b in server.bodies]
    assert sum(len(b.get("done", [])) for b in server.bodies) >= 32  # all reported done
    sent = doc["heartbeat"]["uploaded_today_bytes"]
    assert doc["heartbeat"]["upload_budget_bytes"] == UPLOAD_BUDGET == 20 * 1024 * 1024
    assert sent >= sum(len(json.dumps(b)) for b in server.bodies[:counted])


def test_a_screenshot_waits_while_the_days_upload_budget_is_spent(tmp_path, receiver):
    from kiosk.board.commands import Commands

    hb = heartbeat(tmp_path / "q", receiver.url)
    hb.commands = Commands(lambda: None, lambda: b"\xff\xd8\xff" + b"j" * 50_000, lambda: None)
    hb.commands.take(json.dumps({"commands": [{"id": "c1", "type": "screenshot"}]}).encode())
    hb.upload_budget = hb.uploaded_today() + 10_000  # a budget nearly spent
    assert hb.beat()
    assert "screenshot" not in receiver.bodies[-1] and receiver.bodies[-1]["done"] == ["c1"]
    hb.upload_budget = 10**9  # the next day's budget
    assert hb.beat()
    assert "screenshot" in receiver.bodies[-1]
