"""`kiosk update --once` as an ordinary user against a temp `[update] dir` (SPEC 8.3): releases
of this very checkout, built by `kiosk release build`'s code, served by a real HTTP server
on 127.0.0.1. What is installed is a real venv that runs the new version; what is refused
leaves nothing installed, and says why with its problem code."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from kiosk import __version__
from kiosk.board.releasedir import ReleaseDir
from kiosk.board.source import HttpSource
from kiosk.board.updater import Updater
from kiosk.core.config import load_config
from kiosk.core.signing import RELEASE_TYPE, sign_envelope, verify_envelope
from tests.province import Province
from tests.releases import A1, A2, Rollouts, board_toml, copy_site, later_version

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def board(tmp_path, built):
    site = copy_site(built.site, tmp_path / "site")
    province = Province(site)
    province.server.start()
    rollouts = Rollouts(site, province.key)
    config = load_config(
        board_toml(tmp_path / "kiosk.toml", province.url, province.public_key,
                   [built.builder.public_key])
    )  # fmt: skip
    layout = ReleaseDir(config.update.dir)
    source = HttpSource(config.source.url, config.device.id)

    def look(clock: datetime = NOW):
        return Updater(config, source, layout, clock=lambda: clock, running_version=__version__)

    yield SimpleNamespace(
        site=site, province=province, rollouts=rollouts, config=config, layout=layout,
        check=lambda clock=NOW: look(clock).check(), builder=built.builder,
    )  # fmt: skip
    source.close()
    province.server.stop()


def release_runs(layout: ReleaseDir, version: str) -> str:
    python = layout.release_path(version) / "bin" / "python"
    out = subprocess.run(
        [str(python), "-I", "-m", "kiosk", "--version"], capture_output=True, text=True, timeout=60
    )
    return out.stdout.strip()


def nothing_installed(layout: ReleaseDir) -> bool:
    return not any(layout.releases.iterdir()) and not layout.current_link.exists()


def test_a_chosen_board_installs_the_release_beside_and_then_moves_only_the_kiosks_wheel(board):
    board.rollouts.write(A1)
    first = board.check()
    assert first.ok and first.version == A1, first.message
    assert release_runs(board.layout, A1) == f"kiosk {A1}"
    state = board.layout.read_state()
    assert (state.phase, state.target, state.failure) == ("staged", A1, None)
    assert not board.layout.current_link.exists()  # installed beside: nothing switched
    assert first.fetched_bytes > 10_000_000  # a first release brings every dependency

    board.rollouts.write(A2)
    board.province.server.requests.clear()
    second = board.check()
    assert second.ok and second.version == A2, second.message
    assets = board.province.server.gets("/assets/")
    assert len(assets) == 1 and second.fetched_bytes < 2_000_000  # the kiosk's wheel alone
    assert release_runs(board.layout, A2) == f"kiosk {A2}"
    assert board.layout.installed() == [A1, A2]


def test_a_cut_download_resumes_with_range(board):
    board.rollouts.write(A1)
    release = json.loads(
        verify_envelope(
            (board.site / "releases" / f"{A1}.json").read_bytes(),
            [board.builder.public_key],
            RELEASE_TYPE,
        )
    )
    big = max(release["wheels"], key=lambda w: w["size"])  # pygame-ce, about 12 MB
    board.province.server.faults[f"/assets/{big['sha256']}"] = ["truncate"]
    cut = board.check()
    assert not cut.ok and cut.failure.reason == "fetch_failed"
    partial = board.layout.wheel_partial(big["sha256"])
    have = partial.stat().st_size
    assert 0 < have < big["size"]
    assert nothing_installed(board.layout)
    board.province.server.requests.clear()
    done = board.check()
    assert done.ok and done.version == A1, done.message
    (resumed,) = board.province.server.gets(f"/assets/{big['sha256']}")
    assert resumed.headers.get("Range") == f"bytes={have}-" and resumed.status == 206
    assert board.layout.has_wheel(big["sha256"], big["size"])


def resign(board, version: str, edit) -> None:
    """The release file of `version`, its document changed by `edit`, signed again by the
    builder's release key (what a builder could do; a wire could not)."""
    path = board.site / "releases" / f"{version}.json"
    doc = json.loads(verify_envelope(path.read_bytes(), [board.builder.public_key], RELEASE_TYPE))
    edit(doc)
    path.unlink()  # a hard link to the shared site: never written through
    path.write_bytes(sign_envelope(json.dumps(doc).encode(), board.builder.key, RELEASE_TYPE))


def kiosk_wheel(board, version: str) -> dict:
    path = board.site / "releases" / f"{version}.json"
    doc = json.loads(verify_envelope(path.read_bytes(), [board.builder.public_key], RELEASE_TYPE))
    return next(w for w in doc["wheels"] if w["filename"].startswith("bangtin_kiosk-"))


def spoil_release_signature(board) -> None:
    """The release signed by the province's content key instead of a release key."""
    path = board.site / "releases" / f"{A1}.json"
    doc = verify_envelope(path.read_bytes(), [board.builder.public_key], RELEASE_TYPE)
    path.unlink()
    path.write_bytes(sign_envelope(doc, board.province.key, RELEASE_TYPE))


def tamper_wheel(board) -> None:
    """Other bytes of the same size where the kiosk's wheel should be."""
    wheel = kiosk_wheel(board, A1)
    asset = board.site / "assets" / wheel["sha256"]
    data = bytearray(asset.read_bytes())
    data[len(data) // 2] ^= 0xFF
    asset.unlink()
    asset.write_bytes(bytes(data))


def wrong_size(board) -> None:
    def edit(doc):
        for wheel in doc["wheels"]:
            if wheel["filename"].startswith("bangtin_kiosk-"):
                wheel["size"] += 1

    resign(board, A1, edit)


def substituted(board) -> None:
    """releases/A2.json holding A1's document (signed, but not the version asked for)."""
    path = board.site / "releases" / f"{A2}.json"
    path.unlink()
    shutil.copyfile(board.site / "releases" / f"{A1}.json", path)


@pytest.mark.parametrize(
    ("spoil", "rollout", "reason"),
    [
        (spoil_release_signature, {"version": A1}, "signature_invalid"),
        (None, {"version": A1, "key": "release"}, "signature_invalid"),
        (tamper_wheel, {"version": A1}, "wheel_invalid"),
        (wrong_size, {"version": A1}, "wheel_invalid"),
        (substituted, {"version": A2}, "release_invalid"),
        (None, {"version": A1, "expires": NOW - timedelta(seconds=1)}, "rollout_expired"),
    ],
    ids=["release-by-content-key", "rollout-by-release-key", "tampered-wheel", "wrong-size",
         "substituted-version", "expired-rollout"],
)  # fmt: skip
def test_what_either_key_did_not_sign_is_refused_and_nothing_is_installed(
    board, spoil, rollout, reason
):
    if spoil is not None:
        spoil(board)
    if rollout.pop("key", None) == "release":
        rollout["key"] = board.builder.key
    board.rollouts.write(**rollout)
    outcome = board.check()
    assert not outcome.ok and outcome.failure.reason == reason, outcome.message
    assert nothing_installed(board.layout)
    state = board.layout.read_state()
    assert state.failure.reason == reason and state.phase == "idle"
    assert state.failed_versions == ()  # the wire's fault: tried again at the next look
    if reason == "wheel_invalid":  # the bad bytes are not kept as a start for the right ones
        wheel = kiosk_wheel(board, A1)
        assert not board.layout.wheel_partial(wheel["sha256"]).exists()
        assert not board.layout.has_wheel(wheel["sha256"], wheel["size"])


def test_an_older_rollout_is_a_replay_and_starts_nothing(board):
    board.rollouts.write(None, sequence=5)  # halted
    assert board.check().ok
    board.rollouts.write(A1, sequence=4)  # an old rollout, replayed by the wire
    outcome = board.check()
    assert not outcome.ok and outcome.failure.reason == "rollback_rejected"
    assert nothing_installed(board.layout)
    assert board.layout.read_state().rollout_sequence == 5


@pytest.mark.parametrize(
    ("rollout", "failed", "words"),
    [
        ({"version": __version__}, (), "not newer"),
        ({"version": "0.0.1"}, (), "not newer"),
        ({"version": A1}, (A1,), "failed here"),
        ({"version": A1, "devices": [], "percent": 0}, (), "not for this board"),
        ({"version": None}, (), "halted"),
    ],
    ids=["same-version", "older", "failed-before", "not-chosen", "halted"],
)
def test_a_board_is_up_to_date_when_the_rollout_offers_nothing_for_it(
    board, rollout, failed, words
):
    from dataclasses import replace

    board.layout.prepare()
    board.layout.write_state(replace(board.layout.read_state(), failed_versions=failed))
    board.rollouts.write(**rollout)
    board.province.server.requests.clear()
    outcome = board.check()
    assert outcome.ok and outcome.version is None and words in outcome.message
    assert board.province.server.gets("/releases/") == board.province.server.gets(
        "/releases/rollout.json"
    )  # not even the release's file was fetched
    assert nothing_installed(board.layout)


def test_no_rollout_on_the_site_is_up_to_date(board):
    outcome = board.check()
    assert outcome.ok and "no rollout" in outcome.message


def test_a_release_that_fails_its_self_check_is_never_installed_nor_tried_again(board, tmp_path):
    """A3's kiosk cannot start (an import error): refused before any switch, for good."""
    a3 = later_version(3)

    def broken(tree: Path) -> None:
        (tree / "kiosk" / "board" / "selfcheck.py").write_text("import no_such_module\n")

    board.builder.build(a3, board.site, broken)
    board.rollouts.write(a3)
    outcome = board.check()
    assert not outcome.ok and outcome.failure.reason == "selfcheck_failed", outcome.message
    assert "no_such_module" in outcome.failure.message
    assert nothing_installed(board.layout)
    assert board.layout.read_state().failed_versions == (a3,)
    board.province.server.requests.clear()
    again = board.check()
    assert again.ok and again.version is None
    assert not board.province.server.gets(f"/releases/{a3}.json")


def test_the_command_line_exits_0_when_done_and_1_naming_the_problem(board):
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}
    argv = [sys.executable, "-m", "kiosk", "update", "--once", "--config", str(board.config.path)]
    old = datetime(2020, 1, 1, tzinfo=UTC)  # expired whenever the test runs
    board.rollouts.write(A1, issued=old, expires=old + timedelta(days=30))
    failed = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert failed.returncode == 1
    assert "update_failed: rollout_expired" in failed.stderr and "Traceback" not in failed.stderr
    board.rollouts.write(None, expires=datetime(2100, 1, 1, tzinfo=UTC))
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and "up to date" in done.stdout, done.stderr


def test_a_halt_keeps_a_staged_release_from_being_switched_to_and_a_quiet_look_writes_nothing(
    board,
):
    board.rollouts.write(A1)
    assert board.check().version == A1
    assert board.layout.read_state().phase == "staged"
    board.rollouts.write(None)  # the province halts before this board switched
    halted = board.check()
    assert halted.ok and "halted" in halted.message
    state = board.layout.read_state()
    assert (state.phase, state.target) == ("idle", None)
    before = board.layout.state_file.stat().st_mtime_ns
    assert board.check().ok  # nothing new: the state file is not written again
    assert board.layout.state_file.stat().st_mtime_ns == before
