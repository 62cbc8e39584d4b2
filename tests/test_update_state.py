"""A board's software state (SPEC 8.3, 3.2 `software`) and the trial's verdicts, with a
pinned clock; and how the kiosk reads the state for /health."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from kiosk.board.softwarewatch import SoftwareWatch
from kiosk.core.osupdates import OsUpdateState
from kiosk.core.updatestate import (
    CRASH_LOOP_RESTARTS,
    MAX_FAILED_VERSIONS,
    Failure,
    SoftwareState,
    TrialEvidence,
    judge_trial,
    parse_state,
)

START = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
GOOD = TrialEvidence(drew_frames=True, ready=True, synced=True, health_status="ok", restarts=0)


def test_a_release_that_did_everything_is_committed_at_once_even_degraded():
    assert judge_trial(START, START + timedelta(seconds=40), 600, GOOD).decision == "commit"
    degraded = replace(GOOD, health_status="degraded")
    assert judge_trial(START, START + timedelta(seconds=40), 600, degraded).decision == "commit"


@pytest.mark.parametrize(
    ("missing", "reason"),
    [
        ({"drew_frames": False}, "trial_no_frames"),
        ({"ready": False}, "trial_not_ready"),
        ({"synced": False}, "trial_no_sync"),
        ({"health_status": "failing"}, "trial_failing"),
        ({"health_status": None}, "trial_failing"),
    ],
)
def test_what_it_never_did_waits_until_the_deadline_then_rolls_back_naming_it(missing, reason):
    seen = replace(GOOD, **missing)
    assert judge_trial(START, START + timedelta(seconds=599), 600, seen).decision == "wait"
    verdict = judge_trial(START, START + timedelta(seconds=600), 600, seen)
    assert verdict.decision == "rollback" and verdict.reason == reason
    assert "600 s" in verdict.message


def test_a_hang_names_everything_it_never_did():
    hung = TrialEvidence(False, False, False, None, 0)
    verdict = judge_trial(START, START + timedelta(seconds=61), 60, hung)
    assert verdict.reason == "trial_no_frames"
    assert "no frame" in verdict.message and "ready" in verdict.message
    assert "no sync" in verdict.message and "not answering" in verdict.message


def test_a_crash_loop_is_rolled_back_without_waiting_for_the_deadline():
    looping = replace(GOOD, drew_frames=False, restarts=CRASH_LOOP_RESTARTS)
    verdict = judge_trial(START, START + timedelta(seconds=20), 600, looping)
    assert verdict.decision == "rollback" and verdict.reason == "trial_crash_loop"
    almost = replace(looping, restarts=CRASH_LOOP_RESTARTS - 1)
    assert judge_trial(START, START + timedelta(seconds=20), 600, almost).decision == "wait"


def test_the_state_survives_its_file_and_a_newer_releases_fields_are_kept():
    failure = Failure("1.2.0", "trial_no_frames", "it drew no frame", "2026-12-05T02:10:00+00:00")
    state = SoftwareState(phase="rolled_back", current="1.1.0", previous="1.0.0",
                          committed="1.1.0", target="1.2.0", rollout_sequence=7,
                          extra={"a_newer_field": 3}).failed(failure)  # fmt: skip
    again = parse_state(state.to_json())
    assert again == state
    assert again.health("1.1.0", False, 3) == {
        "version": "1.1.0", "previous": "1.0.0", "state": "rolled_back", "target": "1.2.0",
        "failed_versions": ["1.2.0"], "os_updates_pending": 3, "reboot_required": False,
    }  # fmt: skip
    assert again.failure.problem() == "1.2.0: trial_no_frames: it drew no frame"


@pytest.mark.parametrize(
    "data",
    [b"", b"not json", b"[]", b'{"phase": "exploded", "current": "../../etc"}',
     b'{"failed_versions": "1.2.0", "rollout_sequence": -4, "failure": {"version": 1}}',
     b"{" * 100_000, b'{"a": "' + b"x" * 70_000 + b'"}'],
)  # fmt: skip
def test_a_damaged_state_file_reads_as_the_safe_default(data):
    state = parse_state(data)
    assert state.phase == "idle" and state.current is None and state.failure is None
    assert state.failed_versions == () and state.rollout_sequence == 0


def test_failed_versions_are_bounded_and_a_version_is_listed_once():
    state = SoftwareState()
    for n in range(MAX_FAILED_VERSIONS + 10):
        state = state.failed(Failure(f"1.{n}", "trial_failing", "x", "2026-12-05T00:00:00Z"))
    state = state.failed(Failure("1.59", "trial_failing", "again", "2026-12-05T00:00:00Z"))
    assert len(state.failed_versions) == MAX_FAILED_VERSIONS
    assert state.failed_versions[-1] == "1.59" and state.failed_versions.count("1.59") == 1
    assert "1.0" not in state.failed_versions  # the oldest go first


def test_the_kiosk_rereads_the_state_only_when_the_updater_changed_it(tmp_path):
    path = tmp_path / "state.json"
    watch = SoftwareWatch(tmp_path, reboot_flag=tmp_path / "reboot-required")
    assert watch.state() == SoftwareState() and watch.reboot_required() is False
    path.write_bytes(SoftwareState(phase="staged", target="1.2.0").to_json())
    assert watch.state().target == "1.2.0"
    path.write_bytes(SoftwareState(phase="trial", target="1.2.0").to_json())
    os.utime(path, ns=(1, 1))
    assert watch.state().phase == "trial"
    (tmp_path / "reboot-required").touch()
    assert watch.reboot_required() is True
    path.unlink()
    assert watch.state() == SoftwareState()
    assert watch.health("1.1.0")["os_updates_pending"] is None  # the OS job never ran
    os_file = tmp_path / "os-updates.json"
    os_file.write_bytes(OsUpdateState(checked_at="2026-12-05T20:00:00Z", pending=4).dump())
    assert watch.health("1.1.0")["os_updates_pending"] == 4
    os_file.write_bytes(b"\x00garbage")
    assert watch.os_pending() is None
