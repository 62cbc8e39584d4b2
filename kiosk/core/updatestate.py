"""What a board knows of its own software (SPEC 8.3, 3.2 `software`), and the trial's rules.

The updater writes this state (D/state.json, world-readable, no secrets); the kiosk only
reads it for /health. Pure: the time comes in as an argument, and a state read from a
damaged file becomes the safe default, never an exception.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from packaging.version import InvalidVersion, Version

from kiosk.core.timeutil import DAY_SECONDS, HourWindow, format_rfc3339, in_windows, parse_rfc3339

Phase = Literal["idle", "downloading", "staged", "trial", "rolled_back"]
PHASES: tuple[Phase, ...] = ("idle", "downloading", "staged", "trial", "rolled_back")
MAX_FAILED_VERSIONS = 50  # kept forever otherwise; the oldest are the least likely offered
MAX_STATE_BYTES = 64 * 1024
CRASH_LOOP_RESTARTS = 3  # restarts of the kiosk during a trial that mean it cannot run


@dataclass(frozen=True)
class Failure:
    version: str | None  # None: no release to blame (a rollout refused, a fetch failed)
    reason: str  # one word: the rule (signature_invalid, trial_no_frames, ...)
    message: str
    at: str  # RFC 3339

    def problem(self) -> str:
        """update_failed's message on /health: the version and why (SPEC 3.3)."""
        return f"{self.version or 'the rollout'}: {self.reason}: {self.message}"[:500]


@dataclass(frozen=True)
class SoftwareState:
    phase: Phase = "idle"
    current: str | None = None  # the release `current` names
    previous: str | None = None  # the one to go back to
    committed: str | None = None  # the newest release this board committed
    target: str | None = None  # the release being fetched, staged or tried
    failed_versions: tuple[str, ...] = ()
    failure: Failure | None = None  # the last, for update_failed on /health
    rollout_sequence: int = 0
    rollout_etag: str | None = None
    trial_started_at: str | None = None
    trial_restarts_at_start: int = 0
    staged_at: str | None = None  # since when the target waits to be switched to
    extra: dict[str, Any] = field(default_factory=dict)  # kept for a newer release's fields

    def to_json(self) -> bytes:
        doc = asdict(self)
        doc.update(doc.pop("extra"))
        doc["failed_versions"] = list(self.failed_versions)
        return (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode("utf-8")

    def failed(self, failure: Failure) -> SoftwareState:
        """The version joins failed_versions (never tried again) and is reported."""
        assert failure.version is not None
        versions = [v for v in self.failed_versions if v != failure.version]
        versions.append(failure.version)
        return replace(
            self,
            failed_versions=tuple(versions[-MAX_FAILED_VERSIONS:]),
            failure=failure,
        )

    def health(
        self, running_version: str, reboot_required: bool | None, os_pending: int | None = None
    ) -> dict[str, object]:
        """SPEC 3.2 `software`. os_pending is what the OS update job last counted (None
        until it has run: its own file, os-updates.json)."""
        return {
            "version": running_version,
            "previous": self.previous,
            "state": self.phase,
            "target": self.target,
            "failed_versions": list(self.failed_versions),
            "os_updates_pending": os_pending,
            "reboot_required": reboot_required,
        }


def _version(value: object) -> str | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        Version(value)
    except InvalidVersion:
        return None
    return value


def parse_state(data: bytes) -> SoftwareState:
    """The state a file holds; what is damaged or unknown falls back to the default (a
    board that forgets a failed version could try it once more, but never stops)."""
    try:
        doc = json.loads(data[:MAX_STATE_BYTES]) if len(data) <= MAX_STATE_BYTES else None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        doc = None
    if not isinstance(doc, dict):
        return SoftwareState()
    known = {f for f in SoftwareState.__dataclass_fields__ if f != "extra"}
    phase = doc.get("phase")
    failed = doc.get("failed_versions")
    failure = doc.get("failure")
    sequence = doc.get("rollout_sequence")
    etag = doc.get("rollout_etag")
    restarts = doc.get("trial_restarts_at_start")
    return SoftwareState(
        phase=phase if phase in PHASES else "idle",
        current=_version(doc.get("current")),
        previous=_version(doc.get("previous")),
        committed=_version(doc.get("committed")),
        target=_version(doc.get("target")),
        failed_versions=tuple(
            v for v in (failed if isinstance(failed, list) else []) if _version(v)
        )[-MAX_FAILED_VERSIONS:],
        failure=_failure(failure),
        rollout_sequence=sequence if type(sequence) is int and sequence >= 0 else 0,
        rollout_etag=etag if isinstance(etag, str) and len(etag) <= 200 else None,
        trial_started_at=_moment(doc.get("trial_started_at")),
        trial_restarts_at_start=restarts if type(restarts) is int and restarts >= 0 else 0,
        staged_at=_moment(doc.get("staged_at")),
        extra={k: v for k, v in doc.items() if k not in known},
    )


def _moment(value: object) -> str | None:
    if value is None:
        return None
    try:
        return format_rfc3339(parse_rfc3339(value))
    except ValueError:
        return None


def _failure(raw: object) -> Failure | None:
    if not isinstance(raw, dict):
        return None
    version, *parts = [raw.get(k) for k in ("version", "reason", "message", "at")]
    if not all(isinstance(p, str) and len(p) <= 1000 for p in parts):
        return None
    if version is not None and not _version(version):
        return None
    return Failure(version, *parts)  # type: ignore[arg-type]


@dataclass(frozen=True)
class TrialEvidence:
    """What the updater saw of the release on trial, since the trial started."""

    drew_frames: bool  # /health: a frame drawn after the start
    ready: bool  # systemd: the unit is active (READY=1 received)
    synced: bool  # /health: a sync succeeded after the start
    health_status: str | None  # /health's status; None when it did not answer
    restarts: int  # the unit's restarts since the trial started


@dataclass(frozen=True)
class Verdict:
    decision: Literal["wait", "commit", "rollback"]
    reason: str = ""  # for a roll-back: one word
    message: str = ""


def judge_trial(
    started_at: datetime, now: datetime, trial_seconds: int, seen: TrialEvidence
) -> Verdict:
    """SPEC 8.3: committed once it drew frames, said READY, completed a sync and is not
    failing, within trial_seconds; rolled back on a crash loop at once, else at the
    deadline, naming what it never did."""
    if seen.restarts >= CRASH_LOOP_RESTARTS:
        return Verdict(
            "rollback",
            "trial_crash_loop",
            f"the kiosk restarted {seen.restarts} times during its trial",
        )
    if seen.drew_frames and seen.ready and seen.synced and seen.health_status in ("ok", "degraded"):
        return Verdict("commit")
    if (now - started_at).total_seconds() < trial_seconds:
        return Verdict("wait")
    missing = [
        (not seen.drew_frames, "trial_no_frames", "it drew no frame"),
        (not seen.ready, "trial_not_ready", "it never told systemd it was ready"),
        (not seen.synced, "trial_no_sync", "it completed no sync"),
        (
            seen.health_status not in ("ok", "degraded"),
            "trial_failing",
            f"its /health was {seen.health_status or 'not answering'}",
        ),
    ]
    whys = [(reason, text) for bad, reason, text in missing if bad]
    return Verdict(
        "rollback",
        whys[0][0],
        f"within its {trial_seconds} s trial " + "; ".join(text for _, text in whys),
    )


SWITCH_WAIT_MAX_S = 24 * 3600  # a board whose screen is never off switches within a day


def may_switch(
    on_hours: tuple[HourWindow, ...],
    local_now: datetime,
    emergency_on_screen: bool,
    staged_at: datetime | None,
) -> tuple[bool, str]:
    """SPEC 8.3: never while an emergency is on screen; preferably outside on_hours (the
    restart blanks the screen for a few seconds), but not later than a day after the release
    was staged, nor at all for a screen that is on around the clock."""
    if emergency_on_screen:
        return False, "an emergency is on screen"
    if not in_windows(on_hours, None, local_now):
        return True, "outside on_hours"
    if covers_day(on_hours):
        return True, "the screen is on around the clock"
    if staged_at is not None and (local_now - staged_at).total_seconds() >= SWITCH_WAIT_MAX_S:
        return True, "staged a day ago: no later"
    return False, "within on_hours: waits for the screen's off hours"


def covers_day(windows: tuple[HourWindow, ...]) -> bool:
    spans = sorted(
        span
        for w in windows
        for span in (
            ((w.start, DAY_SECONDS), (0, w.end)) if w.crosses_midnight else ((w.start, w.end),)
        )
    )
    reached = 0
    for start, end in spans:
        if start > reached:
            return False
        reached = max(reached, end)
    return reached >= DAY_SECONDS
