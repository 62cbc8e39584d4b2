"""Switching to a staged release, judging its trial, and putting things right at boot
(SPEC 8.3). The kiosk's service is behind a small interface (`KioskService`: systemd on a
board), and what the new release did is read from its own /health on loopback.

Order of writes, so that a power cut at any moment leaves a board that boots a whole
release: the state says "trial" before `current` moves; `recover` (run at every boot,
before the kiosk) finishes or undoes whatever step was cut.
"""

from __future__ import annotations

import json
import logging
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

import requests

from kiosk.board.releasedir import ReleaseDir
from kiosk.core.config import Config
from kiosk.core.httpbody import IDENTITY, BodyRefused, read_body
from kiosk.core.timeutil import format_rfc3339, parse_rfc3339
from kiosk.core.updatestate import (
    Failure,
    SoftwareState,
    TrialEvidence,
    Verdict,
    judge_trial,
    may_switch,
)

log = logging.getLogger(__name__)
HEALTH_DEADLINE_S = 3.0
MAX_HEALTH_BYTES = 64 * 1024  # SPEC 3.2's bound


@dataclass(frozen=True)
class ServiceStatus:
    active: bool  # running and READY=1 received (Type=notify)
    restarts: int  # automatic restarts since the unit was last started by hand or at boot


class KioskService(Protocol):
    def restart(self) -> None:
        """Restarts the kiosk, its count of automatic restarts from zero: the release that
        starts is judged by its own restarts, never by those of the one before."""

    def status(self) -> ServiceStatus: ...


class SystemdKiosk:
    """kiosk.service through systemctl, each call within a deadline."""

    def __init__(self, unit: str = "kiosk.service") -> None:
        self.unit = unit

    def restart(self) -> None:
        # A restart by hand zeroes NRestarts only when the unit was running; one that finds
        # it waiting between the automatic restarts of a crash loop (a roll-back does) keeps
        # the count, and the next release's trial would be judged a crash loop at its first
        # look. reset-failed zeroes it whatever the state.
        for command in (["reset-failed"], ["restart", "--no-block"]):
            subprocess.run(["systemctl", *command, self.unit], check=False, timeout=30)

    def status(self) -> ServiceStatus:
        try:
            out = subprocess.run(
                ["systemctl", "show", "-p", "ActiveState,SubState,NRestarts", self.unit],
                capture_output=True, text=True, timeout=30, check=False,
            ).stdout  # fmt: skip
        except (OSError, subprocess.TimeoutExpired):
            return ServiceStatus(False, 0)
        values = dict(line.partition("=")[::2] for line in out.splitlines())
        restarts = values.get("NRestarts", "0")
        return ServiceStatus(
            values.get("ActiveState") == "active" and values.get("SubState") == "running",
            int(restarts) if restarts.isdigit() else 0,
        )


def read_health(config: Config) -> dict[str, Any] | None:
    """The running kiosk's /health, or None: it is only ours to read on loopback, and an
    answer that is not a bounded JSON object counts as no answer."""
    host, port = config.listen
    host = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/health"
    try:
        with requests.get(url, headers=IDENTITY, stream=True, timeout=HEALTH_DEADLINE_S) as r:
            body = read_body(r, MAX_HEALTH_BYTES, time.monotonic() + HEALTH_DEADLINE_S)
        doc = json.loads(body)
    except (requests.RequestException, BodyRefused, ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


def evidence(target: str, health: dict[str, Any] | None, service: ServiceStatus,
             restarts_at_start: int) -> TrialEvidence:  # fmt: skip
    """What the release on trial did: only a /health that says it is the target counts (an
    old process still answering proves nothing); its clock is not compared with ours."""
    ours = health if health is not None and health.get("version") == target else {}
    display = ours.get("display") if isinstance(ours.get("display"), dict) else {}
    sync = ours.get("sync") if isinstance(ours.get("sync"), dict) else {}
    status = ours.get("status")
    return TrialEvidence(
        drew_frames=bool(display.get("last_frame_at")),
        ready=service.active,
        synced=bool(sync.get("last_success_at")),
        health_status=status if status in ("ok", "degraded", "failing") else None,
        restarts=max(0, service.restarts - restarts_at_start),
    )


def emergency_on_screen(health: dict[str, Any] | None) -> bool:
    content = health.get("content") if health else None
    return isinstance(content, dict) and content.get("emergency_active") is True


class Switcher:
    def __init__(
        self,
        config: Config,
        layout: ReleaseDir,
        service: KioskService,
        clock: Callable[[], datetime],
        health: Callable[[], dict[str, Any] | None] | None = None,
    ) -> None:
        self.config, self.layout, self.service, self.clock = config, layout, service, clock
        self.health = health or (lambda: read_health(config))

    def ready_to_switch(self, state: SoftwareState, honour_hours: bool = True) -> tuple[bool, str]:
        if (
            state.phase != "staged"
            or not state.target
            or not self.layout.is_installed(state.target)
        ):
            return False, "nothing staged"
        emergency = emergency_on_screen(self.health())
        if not honour_hours:
            return (not emergency, "an emergency is on screen" if emergency else "asked to")
        now = self.clock()
        staged = parse_rfc3339(state.staged_at) if state.staged_at else None
        local = now.astimezone(self.config.device.tz)
        return may_switch(self.config.display.on_hours, local, emergency,
                          staged.astimezone(self.config.device.tz) if staged else None)  # fmt: skip

    def switch(self, state: SoftwareState) -> SoftwareState:
        """The state says trial first, then `current` moves, then the kiosk restarts."""
        assert state.target is not None
        trial = replace(
            state,
            phase="trial",
            previous=self.layout.current() or state.current,
            current=state.target,
            trial_started_at=format_rfc3339(self.clock()),
            trial_restarts_at_start=0,  # the restart below zeroes systemd's NRestarts
        )
        self.layout.write_state(trial)
        self.layout.switch(state.target)
        log.info("switched to %s (from %s): its trial starts", state.target, trial.previous)
        self.service.restart()
        return trial

    def judge(self, state: SoftwareState) -> tuple[Verdict, SoftwareState]:
        """One look at the release on trial; commits or rolls back when the verdict says."""
        if state.target is None:  # a damaged state: nothing to judge
            return Verdict("wait"), self._record(replace(state, phase="idle"))
        if state.trial_started_at is None:  # the trial's start was lost: it starts now
            state = self._record(replace(state, trial_started_at=format_rfc3339(self.clock())))
        seen = evidence(state.target, self.health(), self.service.status(),
                        state.trial_restarts_at_start)  # fmt: skip
        verdict = judge_trial(
            parse_rfc3339(state.trial_started_at), self.clock(),
            self.config.update.trial_seconds, seen,
        )  # fmt: skip
        if verdict.decision == "commit":
            state = self.commit(state)
        elif verdict.decision == "rollback":
            state = self.roll_back(state, verdict)
        return verdict, state

    def commit(self, state: SoftwareState) -> SoftwareState:
        """The release stays; the one before the previous goes, and wheels nobody needs."""
        done = replace(
            state, phase="idle", committed=state.target, target=None,
            trial_started_at=None, staged_at=None,
            failure=state.failure if state.failure and state.failure.version in
            state.failed_versions and state.failure.version != state.target else None,
        )  # fmt: skip
        self.layout.write_state(done)
        if done.committed:
            self.layout.switch(done.committed, "committed")  # the updater's own code, next
        keep = {v for v in (done.current, done.previous) if v}
        for version in self.layout.installed():
            if version not in keep:
                self.layout.remove_release(version)
        self.layout.prune_wheels(set().union(*(self.layout.wheels_of(v) for v in keep)))
        log.info("committed %s (previous %s)", done.current, done.previous)
        return done

    def roll_back(self, state: SoftwareState, verdict: Verdict) -> SoftwareState:
        back = state.previous
        failure = Failure(state.target, verdict.reason, verdict.message,
                          format_rfc3339(self.clock()))  # fmt: skip
        if back is None or not self.layout.is_installed(back):
            log.error("%s failed its trial, and no previous release is installed", state.target)
            # nothing to go back to: it keeps running, but is never committed
            return self._record(replace(state, phase="idle", trial_started_at=None).failed(failure))
        done = replace(
            state, phase="rolled_back", current=back, previous=None,
            trial_started_at=None, staged_at=None,
        ).failed(failure)  # fmt: skip
        self.layout.write_state(done)
        self.layout.switch(back)
        log.error("rolled back from %s to %s: %s", state.target, back, verdict.message)
        self.service.restart()
        if state.target is not None:  # never run again: its disk is given back
            self.layout.remove_release(state.target)
        return done

    def _record(self, state: SoftwareState) -> SoftwareState:
        self.layout.write_state(state)
        return state


def recover(layout: ReleaseDir) -> tuple[SoftwareState, list[str]]:
    """At boot, before the kiosk: whatever step a power cut interrupted is finished or
    undone, so that `current` names a whole release. Returns what it did, for the log."""
    did: list[str] = []
    if not layout.root.is_dir():
        return SoftwareState(), did
    layout.remove_partials()
    state = original = layout.read_state()
    linked = layout.current()
    if linked is None:  # no link, or a link to a release without its marker
        fallback = next(
            (v for v in (state.previous, state.committed, *reversed(layout.installed()))
             if v and layout.is_installed(v)),
            None,
        )  # fmt: skip
        if fallback is not None:
            layout.switch(fallback)
            did.append(f"current named no whole release: now {fallback}")
            linked = fallback
            if state.phase == "trial":
                state = replace(state, phase="staged" if state.target != fallback else "trial")
    if state.phase == "trial" and linked != state.target:
        state = replace(state, phase="staged", current=linked, trial_started_at=None)
        did.append(f"the switch to {state.target} was cut before it happened: staged again")
    elif state.phase == "trial":
        state = replace(state, trial_restarts_at_start=0)  # systemd counts afresh at boot
        did.append(f"{state.target} is still on trial")
    elif state.phase == "downloading":
        state = replace(state, phase="idle")
    if state.phase == "staged" and (not state.target or not layout.is_installed(state.target)):
        state = replace(state, phase="idle", target=None, staged_at=None)
    committed = layout.committed()
    if committed is None and (state.committed or linked):
        fallback = (
            state.committed if state.committed and layout.is_installed(state.committed) else linked
        )
        if fallback:
            layout.switch(fallback, "committed")
            did.append(f"committed named no whole release: now {fallback}")
    state = replace(state, current=linked)
    if state != original or not layout.state_file.exists():
        layout.write_state(state)  # a write at a boot only when something changed (SD wear)
    return state, did
