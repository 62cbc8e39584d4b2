"""The trial on a plain machine (SPEC 8.3): releases of this checkout switched to, run as real
processes (tests/supervisor.py plays systemd), committed when they prove themselves, rolled
back by the board itself when they crash or hang; and the boot step that finishes or undoes
a switch a power cut interrupted. The same story on the real image is tests/test_boot.py's."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk import __version__
from kiosk.board.releasedir import MARKER, ReleaseDir
from kiosk.board.source import HttpSource
from kiosk.board.switch import ServiceStatus, Switcher, recover
from kiosk.board.updater import Updater
from kiosk.core.config import load_config
from kiosk.core.updatestate import SoftwareState
from tests.province import Province, text
from tests.releases import A1, A2, Rollouts, board_toml, copy_site, later_version
from tests.supervisor import ProcessKiosk

START = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def health(config) -> dict:
    host, port = config.listen
    with urllib.request.urlopen(f"http://{host}:{port}/health", timeout=5) as r:
        return json.loads(r.read())


def until(what, seconds: float = 90.0, step: float = 0.5):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        got = what()
        if got:
            return got
        time.sleep(step)
    raise AssertionError(f"not within {seconds} s")


def kiosk_run_starts_with(line: str):
    """A change to a release's tree: `kiosk run` does this first (its self-check, which
    never calls it, still passes)."""
    start = "    config = _config(args)\n    return run_kiosk("

    def change(tree: Path) -> None:
        app = tree / "kiosk" / "board" / "app.py"
        text = app.read_text()
        assert start in text
        app.write_text(text.replace(start, f"    {line}\n{start}"))

    return change


def test_a_board_commits_a_good_release_and_rolls_back_a_crash_and_a_hang_by_itself(
    tmp_path, built
):
    site = copy_site(built.site, tmp_path / "site")
    province = Province(site)
    province.server.start()
    province.publish("xa-02263", [text("bantin", duration=5)])
    rollouts = Rollouts(site, province.key)
    config = load_config(board_toml(tmp_path / "kiosk.toml", province.url, province.public_key,
                                    [built.builder.public_key]))  # fmt: skip
    layout = ReleaseDir(config.update.dir)
    clock = Clock(START)
    source = HttpSource(config.source.url, config.device.id)
    kiosk = ProcessKiosk(layout.current_link, config.path)
    switcher = Switcher(config, layout, kiosk, clock)
    updater = Updater(config, source, layout, clock=clock, running_version=__version__)

    def take(version: str) -> SoftwareState:
        rollouts.write(version)
        outcome = updater.check()
        assert outcome.ok and outcome.version == version, outcome.message
        return switcher.switch(layout.read_state())

    def judged(decision: str, seconds: float = 90.0) -> SoftwareState:
        def look():
            verdict, state = switcher.judge(layout.read_state())
            return state if verdict.decision == decision else None

        return until(look, seconds)

    try:
        # the first release, as a flashed board has it
        take(A1)
        committed = judged("commit")
        assert (committed.current, committed.committed, committed.phase) == (A1, A1, "idle")
        # A+2 proves itself too
        clock.now += timedelta(days=1)
        take(A2)
        state = judged("commit")
        assert (state.current, state.previous, state.committed) == (A2, A1, A2)
        assert layout.installed() == [A1, A2]
        assert health(config)["software"]["version"] == A2

        # A+3's kiosk exits at start (its self-check passes: it imports and draws)
        a3 = later_version(3)

        built.builder.build(a3, site, kiosk_run_starts_with("raise SystemExit(3)"))
        clock.now += timedelta(days=1)
        take(a3)
        state = judged("rollback", 60)
        assert (state.current, state.phase, state.failed_versions) == (A2, "rolled_back", (a3,))
        assert state.failure.reason == "trial_crash_loop"
        assert layout.current() == A2 and not layout.is_installed(a3)
        doc = until(lambda: (d := health(config)) and d["software"]["version"] == A2 and d)
        codes = {p["code"]: p["message"] for p in doc["problems"]}
        assert a3 in codes["update_failed"] and "restarted" in codes["update_failed"]
        assert doc["software"]["failed_versions"] == [a3]
        shown = until(lambda: health(config)["display"]["current_item"])
        assert shown["id"] == "bantin"  # the bulletin is on screen again

        # A+4 starts but never draws (a hang): rolled back at the trial's deadline
        a4 = later_version(4)

        built.builder.build(a4, site, kiosk_run_starts_with("time.sleep(10**6)"))
        clock.now += timedelta(days=1)
        take(a4)
        time.sleep(3)
        verdict, _ = switcher.judge(layout.read_state())
        assert verdict.decision == "wait"  # within its 600 s
        clock.now += timedelta(seconds=config.update.trial_seconds)
        state = judged("rollback", 10)
        assert state.failure.reason == "trial_no_frames" and state.failed_versions == (a3, a4)
        assert layout.current() == A2
        until(lambda: health(config)["software"]["version"] == A2)
        # neither is ever tried again
        outcome = updater.check()
        assert outcome.ok and outcome.version is None
    finally:
        kiosk.close()
        source.close()
        province.server.stop()


def fake_release(layout: ReleaseDir, version: str, whole: bool = True) -> None:
    folder = layout.release_path(version)
    folder.mkdir(parents=True)
    if whole:
        (folder / MARKER).write_text(json.dumps({"version": version, "wheels": []}))


@pytest.fixture
def layout(tmp_path):
    layout = ReleaseDir(tmp_path / "opt")
    layout.prepare()
    fake_release(layout, "1.0.0")
    fake_release(layout, "1.1.0")
    layout.switch("1.0.0")
    return layout


def test_a_switch_cut_before_the_link_moved_is_staged_again_at_boot(layout):
    cut = SoftwareState(phase="trial", current="1.1.0", previous="1.0.0", target="1.1.0",
                        trial_started_at="2026-12-05T02:00:00Z")  # fmt: skip
    layout.write_state(cut)
    state, did = recover(layout)
    assert layout.current() == "1.0.0"
    assert (state.phase, state.current, state.target) == ("staged", "1.0.0", "1.1.0")
    assert did and "staged again" in did[0]


def test_a_switch_cut_after_the_link_moved_goes_on_with_its_trial(layout):
    layout.write_state(SoftwareState(phase="trial", current="1.1.0", previous="1.0.0",
                                     target="1.1.0", trial_restarts_at_start=2,
                                     trial_started_at="2026-12-05T02:00:00Z"))  # fmt: skip
    layout.switch("1.1.0")
    state, _ = recover(layout)
    assert (state.phase, state.current, state.trial_restarts_at_start) == ("trial", "1.1.0", 0)


def test_a_link_to_a_half_release_falls_back_to_a_whole_one_and_partials_go(layout):
    fake_release(layout, "1.2.0", whole=False)
    partial = layout.release_path("1.3.0")  # an install cut short: no marker
    partial.mkdir()
    layout.switch("1.2.0")  # a card that lost the marker: never run
    layout.write_state(SoftwareState(current="1.2.0", previous="1.1.0", committed="1.2.0"))
    state, did = recover(layout)
    assert layout.current() == "1.1.0" and state.current == "1.1.0"
    assert not partial.exists() and "now 1.1.0" in did[0]


def test_a_state_file_lost_or_torn_still_boots_the_linked_release(layout):
    layout.state_file.write_bytes(b'{"phase": "tri')
    state, _ = recover(layout)
    assert layout.current() == "1.0.0" and state.current == "1.0.0" and state.phase == "idle"


class Stopped:
    """A kiosk service that is not running: what a damaged state is judged against."""

    def restart(self) -> None:
        pass

    def status(self) -> ServiceStatus:
        return ServiceStatus(False, 0)


def test_a_trial_whose_start_was_lost_starts_now_and_one_without_a_target_ends(layout, tmp_path):
    demo_key = "ed25519:PyGRSjjDVJqaN/m2LRVf//6juXPAYU1SzN+5NThSf0g="
    config = load_config(board_toml(tmp_path / "kiosk.toml", "http://127.0.0.1:9", demo_key, []))
    switcher = Switcher(config, layout, Stopped(), Clock(START), health=lambda: None)
    verdict, state = switcher.judge(SoftwareState(phase="trial", target="1.1.0"))
    assert verdict.decision == "wait" and state.trial_started_at == "2026-12-05T02:00:00+00:00"
    assert layout.read_state().trial_started_at == state.trial_started_at
    verdict, state = switcher.judge(SoftwareState(phase="trial"))
    assert verdict.decision == "wait" and state.phase == "idle"
