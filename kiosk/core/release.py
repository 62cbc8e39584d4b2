"""Software releases and rollouts (SPEC 8.1, 8.2): the signed documents, which boards a
rollout chooses, and which of a release's wheels a board needs.

Pure: no I/O and no clock (the time comes in as an argument). Every refusal is an
UpdateError whose `reason` names the rule, so a technician reading `update_failed` on
/health, and a test, can tell a forged release from an expired rollout.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag
from packaging.utils import (
    InvalidWheelFilename,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from kiosk.core.config import DEVICE_ID
from kiosk.core.model import SHA256_HEX
from kiosk.core.textrules import shown
from kiosk.core.timeutil import parse_rfc3339

RELEASE_FORMAT = 1
ROLLOUT_FORMAT = 1
MAX_WHEELS = 200
MAX_WHEEL_BYTES = 100 * 1024 * 1024
MAX_DEVICES = 10_000  # canaries named in one rollout: a whole country's boards at most
MAX_VERSION_CHARS = 64
KIOSK_PROJECT = "bangtin-kiosk"  # the distribution whose version a release carries
_WHEEL_FILE = re.compile(r"^[A-Za-z0-9_.+!-]{1,200}\.whl\Z")  # no slash: a file name only


class UpdateError(ValueError):
    """A release or rollout a board will not take; reported as `update_failed` (SPEC 3.3).

    `reason` is one word for the rule (release_invalid, signature_invalid, wheel_invalid,
    rollback_rejected, ...), `version` the release concerned when it is known.
    """

    code = "update_failed"

    def __init__(self, reason: str, problem: str, version: str | None = None) -> None:
        self.reason, self.problem, self.version = reason, problem, version
        super().__init__(f"{version}: {problem}" if version else problem)


@dataclass(frozen=True)
class Wheel:
    filename: str
    sha256: str
    size: int

    @property
    def project(self) -> str:
        return str(canonicalize_name(parse_wheel_filename(self.filename)[0]))

    @property
    def tags(self) -> frozenset[Tag]:
        return parse_wheel_filename(self.filename)[3]


@dataclass(frozen=True)
class Release:
    version: str  # as written (a valid PEP 440 version): the name of its file on the site
    issued_at: datetime
    requires_python: SpecifierSet
    wheels: tuple[Wheel, ...]

    def wheels_for(self, supported: Sequence[Tag]) -> tuple[Wheel, ...]:
        """The one wheel of each project that this board installs: of the release's wheels
        for that project, the one whose tag the board ranks first (`supported` is
        packaging.tags.sys_tags() of the board's Python, best first). A project with no
        wheel for this board refuses the whole release: a half-installable release is none."""
        rank = {tag: i for i, tag in enumerate(supported)}
        best: dict[str, tuple[int, Wheel]] = {}
        projects: set[str] = set()
        for wheel in self.wheels:
            projects.add(wheel.project)
            score = min((rank[t] for t in wheel.tags if t in rank), default=None)
            if score is not None and (wheel.project not in best or score < best[wheel.project][0]):
                best[wheel.project] = (score, wheel)
        missing = sorted(projects - best.keys())
        if missing:
            raise UpdateError(
                "platform_unsupported",
                f"no wheel for this board's platform: {', '.join(missing[:5])}",
                self.version,
            )
        return tuple(w for _, w in sorted(best.values(), key=lambda sw: sw[1].filename))


@dataclass(frozen=True)
class Rollout:
    sequence: int
    issued_at: datetime
    expires_at: datetime
    version: str | None  # as written: the bucket hashes these characters; None: halted
    devices: frozenset[str]
    percent: int

    def chooses(self, device_id: str) -> bool:
        """SPEC 8.2: a canary, or a board whose bucket is below the percentage."""
        if self.version is None:
            return False
        return device_id in self.devices or bucket(device_id, self.version) < self.percent


def bucket(device_id: str, version: str) -> int:
    """SPEC 8.2: the first 4 bytes of SHA-256("<device_id>:<version>"), big-endian, mod 100.
    The version is part of it so that the first 10% of one release are not always the
    same boards: no commune is every release's guinea pig."""
    digest = hashlib.sha256(f"{device_id}:{version}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100


def parse_version(value: object, reason: str = "release_invalid") -> str:
    """A PEP 440 version, kept as written."""
    if not isinstance(value, str) or not value or len(value) > MAX_VERSION_CHARS:
        raise UpdateError(reason, f"version {shown(value)} is not a version string")
    try:
        Version(value)
        return value
    except InvalidVersion:
        raise UpdateError(reason, f"version {shown(value)} is not a PEP 440 version") from None


def _object(payload: object, what: str, reason: str) -> Mapping[str, Any]:
    if not isinstance(payload, dict):
        raise UpdateError(reason, f"the {what} is not a JSON object")
    if payload.get("format") != 1 or isinstance(payload.get("format"), bool):
        raise UpdateError(reason, f"the {what}'s format {shown(payload.get('format'))} is not 1")
    return payload


def _time(doc: Mapping[str, Any], field: str, reason: str) -> datetime:
    try:
        return parse_rfc3339(doc.get(field))
    except ValueError as exc:
        raise UpdateError(reason, f"'{field}' {exc}") from None


def _wheel(raw: object, index: int, version: str) -> Wheel:
    def bad(problem: str) -> UpdateError:
        return UpdateError("release_invalid", f"wheels[{index}]: {problem}", version)

    if not isinstance(raw, dict):
        raise bad("is not an object")
    name, digest, size = raw.get("filename"), raw.get("sha256"), raw.get("size")
    if not isinstance(name, str) or not _WHEEL_FILE.match(name):
        raise bad(f"filename {shown(name)} is not a wheel's file name")
    try:
        parse_wheel_filename(name)
    except InvalidWheelFilename as exc:
        raise bad(f"filename {shown(name)}: {exc}") from None
    if not isinstance(digest, str) or not SHA256_HEX.match(digest):
        raise bad("sha256 must be 64 lowercase hex digits")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= MAX_WHEEL_BYTES:
        raise bad(f"size {shown(size)} must be 1 to {MAX_WHEEL_BYTES} bytes")
    return Wheel(name, digest, size)


def parse_release(payload: object) -> Release:
    """SPEC 8.1. The kiosk's own wheel must be among the wheels, of the release's version:
    a release that would install some other version than it names is refused."""
    doc = _object(payload, "release", "release_invalid")
    version = parse_version(doc.get("version"))
    issued_at = _time(doc, "issued_at", "release_invalid")
    spec = doc.get("requires_python")
    try:
        if not isinstance(spec, str) or len(spec) > 200:
            raise InvalidSpecifier(shown(spec))
        requires_python = SpecifierSet(spec)
    except InvalidSpecifier:
        raise UpdateError(
            "release_invalid", f"requires_python {shown(spec)} is not a specifier", version
        ) from None
    raws = doc.get("wheels")
    if not isinstance(raws, list) or not 0 < len(raws) <= MAX_WHEELS:
        raise UpdateError("release_invalid", f"wheels must be a list of 1 to {MAX_WHEELS}", version)
    wheels = tuple(_wheel(raw, i, version) for i, raw in enumerate(raws))
    if len({w.filename for w in wheels}) != len(wheels):
        raise UpdateError("release_invalid", "a wheel is listed twice", version)
    kiosk = [w for w in wheels if w.project == KIOSK_PROJECT]
    if not kiosk or any(parse_wheel_filename(w.filename)[1] != Version(version) for w in kiosk):
        raise UpdateError(
            "release_invalid",
            f"the {KIOSK_PROJECT} wheel of version {version} is missing",
            version,
        )
    return Release(version, issued_at, requires_python, wheels)


def parse_rollout(payload: object) -> Rollout:
    """SPEC 8.2. Whether the rollout is current (sequence, expiry) is the caller's to judge
    with its own memory and clock: see `rollout_refusal`."""
    doc = _object(payload, "rollout", "rollout_invalid")
    sequence = doc.get("sequence")
    if isinstance(sequence, bool) or not isinstance(sequence, int) or not 1 <= sequence < 2**53:
        raise UpdateError("rollout_invalid", f"sequence {shown(sequence)} must be 1 or more")
    issued_at = _time(doc, "issued_at", "rollout_invalid")
    expires_at = _time(doc, "expires_at", "rollout_invalid")
    if expires_at <= issued_at:
        raise UpdateError("rollout_invalid", "expires_at is not after issued_at")
    raw_version = doc.get("version")
    version = None if raw_version is None else parse_version(raw_version, "rollout_invalid")
    devices = doc.get("devices", [])
    if not isinstance(devices, list) or len(devices) > MAX_DEVICES:
        raise UpdateError("rollout_invalid", f"devices must be a list of at most {MAX_DEVICES}")
    for device in devices:
        if not isinstance(device, str) or not DEVICE_ID.match(device):
            raise UpdateError("rollout_invalid", f"device {shown(device)} is not a device id")
    percent = doc.get("percent", 0)
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise UpdateError("rollout_invalid", f"percent {shown(percent)} must be 0 to 100")
    return Rollout(sequence, issued_at, expires_at, version, frozenset(devices), percent)


def rollout_refusal(rollout: Rollout, last_sequence: int, now: datetime) -> UpdateError | None:
    """Why this rollout may not start anything now, or None: an older sequence than one the
    board accepted is a replay (rollback_rejected); an expired one starts nothing."""
    if rollout.sequence < last_sequence:
        return UpdateError(
            "rollback_rejected",
            f"rollout sequence {rollout.sequence} is older than {last_sequence}, already seen",
        )
    if rollout.expires_at <= now:
        return UpdateError("rollout_expired", f"the rollout expired at {rollout.expires_at}")
    return None


def version_wanted(
    rollout: Rollout,
    device_id: str,
    newest_committed: str | None,
    failed_versions: Iterable[str],
) -> str | None:
    """The release this board should move to (SPEC 8.3), or None: chosen, newer than the
    newest release it committed (never a downgrade), and not one that failed here."""
    if rollout.version is None or not rollout.chooses(device_id):
        return None
    wanted = Version(rollout.version)
    if newest_committed is not None and wanted <= Version(newest_committed):
        return None
    if any(wanted == Version(v) for v in failed_versions):
        return None
    return rollout.version


def python_refusal(release: Release, python_version: str) -> UpdateError | None:
    if release.requires_python.contains(python_version, prereleases=True):
        return None
    return UpdateError(
        "python_unsupported",
        f"needs Python {release.requires_python}, this board has {python_version}",
        release.version,
    )
