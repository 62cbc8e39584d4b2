"""Sync: the source's signed manifests and verified assets into the cache (SPEC 1, 2.3, 2.4),
and the cache into the content the player shows.

Order is what makes power loss harmless: a new manifest's assets are downloaded, verified,
decoded and pre-scaled first; the manifest is committed last, in one atomic rename; the
content is rebuilt from the cache alone. So the cache never holds a manifest whose assets
are half there, and the player never sees an unverified byte.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from kiosk.board.assets import AssetFetcher
from kiosk.board.clock import SourceClock
from kiosk.board.content import Content
from kiosk.board.source import ManifestFetch, Source, SourceError, usable_etag
from kiosk.board.store import Store, StoredChannel
from kiosk.core.authoring import FileAssets
from kiosk.core.health import Problem
from kiosk.core.model import ImageItem, Item, Manifest, ManifestError, parse_manifest
from kiosk.core.schedule import ChannelContent
from kiosk.core.signing import EnvelopeError, verify_envelope

log = logging.getLogger(__name__)
MAX_PARALLEL_FETCHES = 8  # manifests fetched side by side

# Problems that mean the board does not hold the source's latest content.
NOT_CURRENT = frozenset(
    {
        "sync_failing",
        "signature_invalid",
        "rollback_rejected",
        "manifest_invalid",
        "asset_invalid",
        "disk_low",
    }
)


@dataclass
class ChannelReport:
    channel: str
    sequence: int | None = None  # of the manifest the board now holds
    items: int = 0
    expires_at: datetime | None = None
    changed: bool = False  # a new manifest was accepted by this sync
    problems: list[Problem] = field(default_factory=list)

    @property
    def current(self) -> bool:
        return self.sequence is not None and not any(p.code in NOT_CURRENT for p in self.problems)

    def add(self, code: str, message: str) -> None:
        self.problems.append(Problem(code, message, self.channel))


@dataclass
class SyncReport:
    channels: list[ChannelReport]
    clock_skew_s: float | None
    problems: list[Problem] = field(default_factory=list)  # not of one channel

    @property
    def ok(self) -> bool:
        return all(c.current for c in self.channels)

    @property
    def reachable(self) -> bool:
        """Whether the source answered for every channel (transport failures back off)."""
        return not any(p.code == "sync_failing" for c in self.channels for p in c.problems)


def _etag(stored: StoredChannel | None, held: Manifest | None) -> str | None:
    """The ETag to send: only for a manifest we still trust, and only a sane one."""
    return usable_etag(stored.etag) if stored is not None and held is not None else None


class Syncer:
    """One sync of every channel, and the content the cache holds. The caller holds the
    store's lock around sync(); load_content() only reads files that are replaced atomically."""

    def __init__(
        self,
        source: Source,
        store: Store,
        channels: Sequence[str],
        public_keys: Sequence[str],
        screen: tuple[int, int],
        clock: SourceClock,
    ) -> None:
        self.source, self.store = source, store
        self.channels, self.public_keys = tuple(channels), tuple(public_keys)
        self.screen, self.clock = screen, clock
        self.assets = AssetFetcher(source, store, screen, clock)
        # The last verified parse of each channel's stored envelope: a sync, the content
        # rebuilt after it and the garbage collector all read the same file, verified once.
        self._verified: dict[str, tuple[bytes, Manifest | None, list[str]]] = {}

    # -- reading the cache ------------------------------------------------------------------

    def _stored(self, name: str) -> tuple[StoredChannel | None, Manifest | None, list[str]]:
        """The stored envelope, its manifest when it still verifies (None when not: a key
        was removed from kiosk.toml, or the file was changed), and its item errors."""
        stored = self.store.read_channel(name)
        if stored is None:
            return None, None, []
        cached = self._verified.get(name)
        if cached is None or cached[0] != stored.envelope:
            try:
                manifest, errors = self._parse(name, stored.envelope)
                self.clock.observe_issued(manifest.issued_at)
                cached = (stored.envelope, manifest, [str(e) for e in errors])
            except (EnvelopeError, ManifestError) as exc:  # logged once, not at each poll
                log.warning("%s: the stored manifest is no longer trusted: %s", name, exc)
                cached = (stored.envelope, None, [])
            self._verified[name] = cached
        return stored, cached[1], cached[2]

    def _parse(self, name: str, envelope: bytes) -> tuple[Manifest, list[Exception]]:
        payload = verify_envelope(envelope, self.public_keys)
        try:
            doc = json.loads(payload.decode("utf-8"))
        except RecursionError:
            raise ManifestError("the payload is nested too deeply") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ManifestError(f"the payload is not UTF-8 JSON ({exc})") from None
        manifest, errors = parse_manifest(doc, name)
        return manifest, list(errors)

    def load_content(self) -> Content:
        """What the player shows: each channel's last good manifest, image items only when
        their asset is verified and stored."""
        channels: list[ChannelContent] = []
        files: dict[str, Path] = {}
        for name in self.channels:
            _, manifest, _ = self._stored(name)
            if manifest is None:
                continue
            items: list[Item] = []
            for item in manifest.items:
                if isinstance(item, ImageItem):
                    path = self.assets.image_path(item)
                    if path is None:
                        continue
                    files[item.asset.sha256] = path
                items.append(item)
            channels.append(ChannelContent(name, tuple(items), manifest.expires_at))
        return Content(tuple(channels), FileAssets(files))

    # -- syncing ----------------------------------------------------------------------------

    def sync(self, on_manifests: Callable[[], None] | None = None) -> SyncReport:
        """Every channel's manifest first, then the images they name.

        The manifests are fetched side by side, and each new one is committed as soon as it
        has arrived and verified, then `on_manifests` is called (the content is handed to the
        player): an emergency on one channel never waits for another channel's slow reply,
        nor for any photo. An image that does not arrive only keeps its own item off the
        screen (asset_invalid) until a later sync brings it."""
        self.store.remove_stale_temp()
        steps: dict[str, tuple[ChannelReport, Manifest | None, list[str]]] = {}
        held = {name: self._stored(name) for name in self.channels}
        with ThreadPoolExecutor(min(len(self.channels), MAX_PARALLEL_FETCHES)) as pool:
            futures = {
                pool.submit(self._fetch, name, _etag(stored, manifest)): name
                for name, (stored, manifest, _) in held.items()
            }
            for future in as_completed(futures):
                name = futures[future]
                steps[name] = self._take_manifest(name, *held[name], future.result())
                if on_manifests is not None and steps[name][0].changed:
                    on_manifests()
        reports = [self._sync_assets(*steps[name]) for name in self.channels]
        report = SyncReport(reports, self.clock.skew_s)
        if self.clock.unsynced:
            report.problems.append(
                Problem(
                    "clock_unsynced",
                    f"the board's clock is {self.clock.skew_s:+.0f} s from the source's; "
                    + (
                        "NTP has synchronised the system clock, so it is kept"
                        if self.clock.synchronized()
                        else "scheduling by the source's time"
                    ),
                )
            )
        return report

    def sync_channel(self, name: str) -> ChannelReport:
        """One channel alone: its manifest, then its images."""
        stored, held, item_errors = self._stored(name)
        fetch = self._fetch(name, _etag(stored, held))
        step = self._take_manifest(name, stored, held, item_errors, fetch)
        return self._sync_assets(*step)

    def _fetch(self, name: str, etag: str | None) -> ManifestFetch | SourceError:
        """The network half, run in a worker thread: it touches nothing of ours."""
        try:
            return self.source.fetch_manifest(name, etag)
        except SourceError as exc:
            return exc

    def _take_manifest(
        self,
        name: str,
        stored: StoredChannel | None,
        held: Manifest | None,
        item_errors: list[str],
        fetch: ManifestFetch | SourceError,
    ) -> tuple[ChannelReport, Manifest | None, list[str]]:
        """A fetched manifest verified and, when new and good, committed. Returns the report
        so far, the manifest the board now holds and its item errors."""
        report = ChannelReport(name)
        if isinstance(fetch, SourceError):
            report.add(fetch.code, f"{name}: {fetch}")
            return report, held, item_errors
        if fetch.server_time is not None:
            self.clock.observe(fetch.server_time)
        if fetch.body is None:
            return report, held, item_errors
        try:
            new, errors = self._parse(name, fetch.body)
            if held is not None and new.sequence < held.sequence:
                raise ManifestError(
                    f"sequence {new.sequence} is older than the {held.sequence} this board "
                    "holds (a replayed or misnumbered manifest)",
                    code="rollback_rejected",
                )
        except (EnvelopeError, ManifestError) as exc:
            report.add(
                exc.code, f"{name}: {exc}; keeping sequence {held.sequence if held else 'none'}"
            )
            return report, held, item_errors
        try:
            if held is not None and new.sequence == held.sequence:
                # the same content (SPEC 1.3); remember the ETag so the next poll is a 304
                if stored is not None and fetch.etag != stored.etag:
                    self.store.write_channel(name, StoredChannel(stored.envelope, fetch.etag))
                return report, held, item_errors
            self.store.write_channel(name, StoredChannel(fetch.body, fetch.etag))
        except OSError as exc:  # the cache cannot be written: a full or failing SD card
            report.add("disk_low", f"{name}: the cache cannot be written: {exc}")
            return report, held, item_errors
        log.info("%s: sequence %d accepted (%d items)", name, new.sequence, len(new.items))
        report.changed = True
        self.clock.observe_issued(new.issued_at)
        item_errors = [str(e) for e in errors]
        self._verified[name] = (fetch.body, new, item_errors)
        return report, new, item_errors

    def _sync_assets(
        self, report: ChannelReport, held: Manifest | None, item_errors: list[str]
    ) -> ChannelReport:
        reachable = not any(p.code == "sync_failing" for p in report.problems)
        if held is not None and reachable:
            try:
                self.assets.fetch_all(report.channel, held, report)
            except OSError as exc:
                report.add("disk_low", f"{report.channel}: the cache cannot be written: {exc}")
        return self._describe(report, held, item_errors)

    def _describe(
        self, report: ChannelReport, held: Manifest | None, item_errors: list[str]
    ) -> ChannelReport:
        if held is not None:
            report.sequence, report.items, report.expires_at = (
                held.sequence,
                len(held.items),
                held.expires_at,
            )
            if self.clock.now() >= held.expires_at:
                report.add(
                    "manifest_expired",
                    f"{report.channel}: sequence {held.sequence} expired at "
                    f"{held.expires_at.isoformat()}; its emergency items no longer show",
                )
        for message in item_errors:
            report.add("item_invalid", f"{report.channel}: {message}")
        return report

    def keep_set(self) -> set[Path]:
        """Every file the stored manifests still need: what garbage collection spares."""
        keep: set[Path] = set()
        for name in self.channels:
            _, manifest, _ = self._stored(name)
            for item in manifest.items if manifest else ():
                if isinstance(item, ImageItem):
                    ref = item.asset
                    keep.add(self.store.asset_path(ref.sha256))
                    keep.add(self.store.partial_path(ref.sha256))
                    keep.add(self.assets.derived(ref))
        return keep
