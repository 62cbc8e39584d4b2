"""`kiosk update`: `--once [--apply]` (SPEC 4) for a technician or a test; `--service`, the
loop of kiosk-update.service (root); `--recover`, kiosk-update-recover.service's step at
every boot, before the kiosk. Exit 0 when up to date or done, 1 when it failed (the problem
code and reason printed), 2 bad usage."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from kiosk.board.boardconfig import resolve_config
from kiosk.board.releasedir import ReleaseDir
from kiosk.board.source import HttpSource
from kiosk.board.switch import KioskService, Switcher, SystemdKiosk, recover
from kiosk.board.updater import Outcome, Updater
from kiosk.core.config import Config, ConfigError, UpdateConfig
from kiosk.core.errors import UsageError

log = logging.getLogger(__name__)
TRIAL_LOOK_S = 5.0  # how often a release on trial is looked at
EXIT_RESTART = 75  # the unit's RestartForceExitStatus: start again from the new release
STAGED_LOOK_S = 60.0  # how often a staged release looks for its moment to switch


def _now() -> datetime:
    return datetime.now(UTC)


def update_command(args: argparse.Namespace) -> int:
    try:
        return _update(args)
    except OSError as exc:  # a folder it may not write: a technician without sudo, say
        print(f"update_failed: io_error: {exc} (kiosk-update runs as root)", file=sys.stderr)
        return 1


def _update(args: argparse.Namespace) -> int:
    if args.recover:  # at boot, before firstboot may have brought a kiosk.toml
        folder = Path(args.dir) if args.dir else releases_folder(args.config)
        layout = ReleaseDir(folder)
        state, did = recover(layout)
        for line in did:
            print(f"update: {line}")
        print(f"update: current release {state.current or '(none)'}, {state.phase}")
        return 0
    config = resolve_config(args.config)
    layout = ReleaseDir(config.update.dir)
    if not config.update.release_keys:
        print("update: [update] has no release_keys: this board takes no software updates")
        return 0
    if args.service:
        return serve(config, layout, SystemdKiosk(), _now)
    outcome = look(config, layout)
    if not outcome.ok:
        print(f"update_failed: {outcome.message}", file=sys.stderr)
        return 1
    print(f"update: {outcome.message}")
    if args.apply and outcome.version is not None:
        switcher = Switcher(config, layout, SystemdKiosk(), _now)
        allowed, why = switcher.ready_to_switch(layout.read_state(), honour_hours=False)
        if not allowed:
            print(f"update: {outcome.version} stays staged: {why}")
            return 0
        switcher.switch(layout.read_state())
        print(
            f"update: switched to {outcome.version}: on trial for "
            f"{config.update.trial_seconds} s (kiosk-update.service commits or rolls it back)"
        )
    return 0


def releases_folder(config_path: str | None) -> Path:
    """[update] dir, or /opt/kiosk when the configuration is missing or cannot be read: a
    bad kiosk.toml must not keep the board from booting a whole release."""
    try:
        return resolve_config(config_path).update.dir
    except (ConfigError, UsageError):
        return UpdateConfig().dir


def look(config: Config, layout: ReleaseDir) -> Outcome:
    source = HttpSource(config.source.url, config.device.id)
    try:
        return Updater(config, source, layout, clock=_now).check()
    finally:
        source.close()


def serve(
    config: Config,
    layout: ReleaseDir,
    service: KioskService,
    clock: Callable[[], datetime],
    stop: threading.Event | None = None,
) -> int:
    """Looks at the rollout every poll_seconds, switches when the moment allows, and judges
    a trial every few seconds. A failure is logged and looked at again next time."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    switcher = Switcher(config, layout, service, clock)
    next_look = 0.0
    while not stop.is_set():
        state = layout.read_state()
        if state.phase == "trial":
            verdict, _ = switcher.judge(state)
            if verdict.decision == "commit":
                log.info("committed %s: the updater starts again from it", state.target)
                return EXIT_RESTART  # kiosk-update.service runs `committed` anew
            if verdict.decision == "rollback":
                log.error("trial of %s: rolled back: %s", state.target, verdict.message)
            stop.wait(TRIAL_LOOK_S)
            continue
        if time.monotonic() >= next_look:
            outcome = look(config, layout)
            (log.info if outcome.ok else log.error)("update: %s", outcome.message)
            next_look = time.monotonic() + config.source.poll_seconds
            state = layout.read_state()
        if state.phase == "staged":
            allowed, why = switcher.ready_to_switch(state)
            if allowed:
                switcher.switch(state)
                continue
            log.info("%s stays staged: %s", state.target, why)
            stop.wait(min(STAGED_LOOK_S, max(1.0, next_look - time.monotonic())))
            continue
        stop.wait(max(1.0, next_look - time.monotonic()))
    return 0
