"""One look at the rollout, and what follows from it (SPEC 8.3): fetch the release it names
for this board, verify it, fetch the wheels the board lacks, install it beside the current
release. The switch and the trial are `kiosk/board/switch.py`'s.

Two keys: the rollout must verify against `[source] public_keys` (the province chose this
board), the release against `[update] release_keys` (the software's builder made it).
"""

from __future__ import annotations

import errno
import json
import logging
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from packaging.tags import Tag, sys_tags

from kiosk import __version__
from kiosk.board.releasedir import ReleaseDir
from kiosk.board.releaseinstall import install_release
from kiosk.board.source import ManifestFetch, NotFound, SourceError
from kiosk.core.config import Config
from kiosk.core.fsutil import atomic_write, free_bytes, sha256_file
from kiosk.core.release import (
    Release,
    Rollout,
    UpdateError,
    Wheel,
    parse_release,
    parse_rollout,
    python_refusal,
    rollout_refusal,
    version_wanted,
)
from kiosk.core.signing import RELEASE_TYPE, ROLLOUT_TYPE, EnvelopeError, verify_envelope
from kiosk.core.timeutil import format_rfc3339
from kiosk.core.updatestate import Failure, SoftwareState

log = logging.getLogger(__name__)
ROOM_FACTOR = 4  # an installed wheel takes up to ~3 times its size; and the wheel itself
MIN_FREE_AFTER = 200 * 1024 * 1024  # what the board keeps free for its cache and logs


class ReleaseSource(Protocol):
    def fetch_signed(self, path: str, etag: str | None) -> ManifestFetch: ...

    def fetch_asset(self, sha256: str, size: int, partial: Path) -> datetime | None: ...


@dataclass(frozen=True)
class Outcome:
    """What one look did: `ok` False is exit 1, with `failure` naming why."""

    ok: bool
    message: str
    version: str | None = None  # the release now staged (ready to switch to), if any
    fetched_bytes: int = 0
    failure: Failure | None = None


class Updater:
    def __init__(
        self,
        config: Config,
        source: ReleaseSource,
        layout: ReleaseDir,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        tags: Sequence[Tag] | None = None,
        python_version: str | None = None,
        running_version: str = __version__,
        python: str | None = None,
    ) -> None:
        self.config, self.source, self.layout, self.clock = config, source, layout, clock
        self.tags = list(tags) if tags is not None else list(sys_tags())
        self.python_version = python_version or platform.python_version()
        self.running_version = running_version
        self.python = python

    # --- the look -------------------------------------------------------------
    def check(self) -> Outcome:
        """Never raises for what the wire sends: every refusal is an Outcome."""
        self.layout.prepare()
        original = self.state = self.layout.read_state()
        try:
            outcome, state = self._check(self.state)
        except UpdateError as exc:
            state = self.state  # as far as the look got (a rollout accepted stays accepted)
            failure = Failure(exc.version, exc.reason, exc.problem, format_rfc3339(self.clock()))
            if exc.reason == "selfcheck_failed":  # deterministic: never tried again
                state = state.failed(failure)
            else:  # the wire or the disk: tried again at the next look
                state = replace(state, failure=failure)
            if state.phase == "downloading":
                state = replace(state, phase="idle")
            outcome = Outcome(False, f"{exc.reason}: {exc}", failure=failure)
        if same_failure(state.failure, original.failure):
            state = replace(state, failure=original.failure)  # since when, not each look
        if state != original:  # a look that changed nothing writes nothing (SD wear)
            self.layout.write_state(state)
        return outcome

    def _check(self, state: SoftwareState) -> tuple[Outcome, SoftwareState]:
        if state.phase == "trial":
            return Outcome(True, f"{state.target} is on trial; nothing else starts"), state
        rollout, state = self._rollout(state)
        self.state = state
        if rollout is None:
            return Outcome(True, f"no rollout; up to date ({self.running_version})"), state
        newest = state.committed or self.running_version
        wanted = version_wanted(rollout, self.config.device.id, newest, state.failed_versions)
        if wanted is None:
            state = self._clear_passing_failure(state)
            if state.phase == "staged":  # halted, or another version: not switched to now
                state = replace(state, phase="idle", target=None, staged_at=None)
            why = (
                "halted" if rollout.version is None else f"{rollout.version} is not for this board"
            )
            if rollout.version is not None and rollout.chooses(self.config.device.id):
                why = f"{rollout.version} is not newer than {newest} or failed here"
            return Outcome(True, f"up to date ({newest}): {why}"), state
        if self.layout.is_installed(wanted):
            state = self._staged(self._clear_passing_failure(state), wanted)
            return Outcome(True, f"{wanted} is installed, ready to switch", wanted), state
        release = self._release(wanted)
        wheels = release.wheels_for(self.tags)
        state = self.state = replace(state, phase="downloading", target=wanted, staged_at=None)
        self.layout.write_state(state)
        fetched = self._fetch_wheels(wanted, wheels)
        install_release(self.layout, wanted, wheels, self.config.path, self.python)
        state = self._staged(self._clear_passing_failure(state), wanted)
        held = len(wheels) - fetched[0]
        return (
            Outcome(
                True,
                f"{wanted} installed beside {self.running_version}: fetched {fetched[0]} of "
                f"{len(wheels)} wheels ({fetched[1] / 1e6:.1f} MB), {held} already held",
                wanted,
                fetched[1],
            ),
            state,
        )

    def _staged(self, state: SoftwareState, version: str) -> SoftwareState:
        since = state.staged_at if state.target == version and state.staged_at else None
        return replace(
            state, phase="staged", target=version, staged_at=since or format_rfc3339(self.clock())
        )

    @staticmethod
    def _clear_passing_failure(state: SoftwareState) -> SoftwareState:
        """A failure of the wire or the disk is over once a look succeeds; a version that
        failed here stays reported."""
        if state.failure and state.failure.version not in state.failed_versions:
            return replace(state, failure=None)
        return state

    # --- the documents ------------------------------------------------------------
    def _rollout(self, state: SoftwareState) -> tuple[Rollout | None, SoftwareState]:
        etag = state.rollout_etag if self.layout.rollout_file.exists() else None
        try:
            fetched = self.source.fetch_signed("releases/rollout.json", etag)
        except NotFound:
            return None, state
        except SourceError as exc:
            raise UpdateError("fetch_failed", f"the rollout: {exc}") from None
        body = fetched.body
        if body is None:  # unchanged: the copy we accepted
            body = self.layout.rollout_file.read_bytes()
        try:
            payload = verify_envelope(body, self.config.source.public_keys, ROLLOUT_TYPE)
            rollout = parse_rollout(json.loads(payload))
        except EnvelopeError as exc:
            raise UpdateError(exc.code, f"the rollout: {exc}") from None
        except ValueError as exc:  # not JSON
            raise UpdateError("rollout_invalid", f"the rollout: {exc}") from None
        refusal = rollout_refusal(rollout, state.rollout_sequence, self.clock())
        if refusal is not None:
            raise refusal
        if fetched.body is not None and rollout.sequence >= state.rollout_sequence:
            atomic_write(self.layout.rollout_file, fetched.body)
            state = replace(state, rollout_sequence=rollout.sequence, rollout_etag=fetched.etag)
        return rollout, state

    def _release(self, version: str) -> Release:
        try:
            fetched = self.source.fetch_signed(f"releases/{version}.json", None)
        except SourceError as exc:
            raise UpdateError("fetch_failed", f"the release: {exc}", version) from None
        try:
            payload = verify_envelope(
                fetched.body or b"", self.config.update.release_keys, RELEASE_TYPE
            )
            release = parse_release(json.loads(payload))
        except EnvelopeError as exc:
            raise UpdateError(exc.code, f"the release: {exc}", version) from None
        except ValueError as exc:
            raise UpdateError("release_invalid", f"the release: {exc}", version) from None
        if release.version != version:  # releases/1.3.json carrying 1.2's document
            raise UpdateError(
                "release_invalid",
                f"the file of {version} holds release {release.version}",
                version,
            )
        refusal = python_refusal(release, self.python_version)
        if refusal is not None:
            raise refusal
        return release

    # --- the wheels ------------------------------------------------------------------
    def _fetch_wheels(self, version: str, wheels: Sequence[Wheel]) -> tuple[int, int]:
        """The wheels the board lacks, each verified before it is kept; returns how many
        and how many bytes were fetched. A download cut off resumes at the next look."""
        missing = [w for w in wheels if not self.layout.has_wheel(w.sha256, w.size)]
        need = sum(w.size for w in missing) + ROOM_FACTOR * sum(w.size for w in wheels)
        free = free_bytes(self.layout.root)
        if free - need < MIN_FREE_AFTER:
            raise UpdateError(
                "disk_full",
                f"needs {need // 2**20} MiB and {MIN_FREE_AFTER // 2**20} MiB to spare, "
                f"{free // 2**20} MiB are free",
                version,
            )
        fetched = 0
        for wheel in missing:
            partial = self.layout.wheel_partial(wheel.sha256)
            before = partial.stat().st_size if partial.exists() else 0
            try:
                self.source.fetch_asset(wheel.sha256, wheel.size, partial)
            except SourceError as exc:
                if exc.code == "asset_invalid":
                    partial.unlink(missing_ok=True)
                raise UpdateError("fetch_failed", f"{wheel.filename}: {exc}", version) from None
            except OSError as exc:
                partial.unlink(missing_ok=True)
                reason = "disk_full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "io_error"
                raise UpdateError(reason, f"{wheel.filename}: {exc.strerror}", version) from None
            got = partial.stat().st_size
            fetched += got - before
            if got != wheel.size or sha256_file(partial) != wheel.sha256:
                partial.unlink()
                raise UpdateError(
                    "wheel_invalid",
                    f"{wheel.filename}: the bytes do not match the release's size and SHA-256",
                    version,
                )
            partial.replace(self.layout.wheel_path(wheel.sha256))
        return len(missing), fetched


def same_failure(a: Failure | None, b: Failure | None) -> bool:
    return (
        a is not None
        and b is not None
        and (a.version, a.reason, a.message) == (b.version, b.reason, b.message)
    )
