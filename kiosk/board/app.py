"""`kiosk run` and `kiosk sync --once`: the one place where configuration, cache, source,
screen and player are wired."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kiosk.board.boardconfig import resolve_config
from kiosk.board.clock import SourceClock
from kiosk.board.commands import Commands
from kiosk.board.content import ContentBox
from kiosk.board.display import PygameDisplay
from kiosk.board.firstboot import refusal_reasons
from kiosk.board.frameloop import run_frames
from kiosk.board.hardwarewatch import start_hardware
from kiosk.board.healthsrv import HealthServer
from kiosk.board.heartbeat import Heartbeat, PlayRecorder
from kiosk.board.localplaylists import load_local_content
from kiosk.board.netinfo import ipv4_addresses
from kiosk.board.player import CROSSFADE_S, Player, PlayerState
from kiosk.board.plays import PlayQueue
from kiosk.board.push import Push
from kiosk.board.reporter import Reporter
from kiosk.board.resume import read_resume, write_resume
from kiosk.board.screenshot import Screenshots, save_snapshot
from kiosk.board.source import HttpSource
from kiosk.board.statuspage import overlay_text
from kiosk.board.store import Store, StoreBusy, become_cache_owner
from kiosk.board.sync import Syncer, SyncReport
from kiosk.board.syncloop import SyncLoop
from kiosk.board.watchdog import Notifier, Watchdog
from kiosk.core.config import Config
from kiosk.core.errors import UsageError
from kiosk.core.health import one_line
from kiosk.core.schedule import screen_wanted
from kiosk.render.preview import parse_size
from kiosk.render.screen import Orientation

log = logging.getLogger(__name__)


def _config(args: argparse.Namespace) -> Config:
    config = resolve_config(args.config, dev_playlists=bool(args.playlists))
    display = config.display
    if args.size:
        display = dataclasses.replace(display, size=parse_size(args.size))
    if args.rotation is not None:
        if args.rotation not in (0, 90, 180, 270):
            raise UsageError(f"--rotation must be 0, 90, 180 or 270, got {args.rotation}")
        display = dataclasses.replace(display, rotation=args.rotation)
    if args.playlists and not Path(args.playlists).is_dir():
        raise UsageError(f"--playlists: {args.playlists} is not a folder")
    return dataclasses.replace(config, display=display)


def make_syncer(
    config: Config, store: Store, screen: tuple[int, int], clock: SourceClock
) -> Syncer:
    source = HttpSource(config.source.url, config.device.id)
    return Syncer(source, store, config.source.channels, config.source.public_keys, screen, clock)


def run_command(args: argparse.Namespace) -> int:
    config = _config(args)
    return run_kiosk(
        config,
        headless=args.headless,
        snapshot=Path(args.snapshot) if args.snapshot else None,
        playlists=Path(args.playlists) if args.playlists else None,
    )


@dataclass
class Board:
    """The parts of a kiosk, wired: `run_kiosk` drives them in real time; the soak test
    (bench/soak.py) drives the same parts on a simulated clock."""

    config: Config
    display: PygameDisplay
    box: ContentBox
    player: Player
    reporter: Reporter
    screenshots: Screenshots
    loop: SyncLoop | None  # None when playing local playlists
    heartbeat: Heartbeat | None
    recorder: PlayRecorder | None
    turn: list[Callable[[PlayerState], None]]  # called after every turn of the player's loop

    def after_turn(self, state: PlayerState) -> None:
        """The hooks of one turn: watchdog, screenshot hand-over, proof of play."""
        for hook in self.turn:
            hook(state)


def build_board(
    config: Config,
    display: PygameDisplay,
    clock: SourceClock,
    snapshot: Path | None = None,
    playlists: Path | None = None,
    mono: Callable[[], float] = time.monotonic,
    crossfade_s: float = CROSSFADE_S,
) -> Board:
    """Cache, sync, player, health and proof of play, wired; no thread is started."""
    orientation = Orientation(display.surface.get_size(), config.display.rotation)
    syncer: Syncer | None = None
    if playlists is not None:
        content = load_local_content(playlists, config.source.channels)
        log.info("playing local playlists from %s (no sync)", playlists)
    else:
        store = Store(config.storage_dir)
        try:
            store.prepare()
            store.remember_screen(orientation.logical)
        except OSError as exc:
            log.error("the cache %s cannot be written: %s", config.storage_dir, exc)
        syncer = make_syncer(config, store, orientation.logical, clock)
        content = syncer.load_content()  # offline first: the last good content, at once
        log.info(
            "cache %s: %d channel(s) with content; syncing from %s every %d s",
            config.storage_dir,
            len(content.channels),
            config.source.url,
            config.source.poll_seconds,
        )
    box = ContentBox(content)
    loop = None
    if syncer is not None:
        loop = SyncLoop(syncer, syncer.store, box, config.source.poll_seconds, clock.now, mono=mono)
    player = Player(
        box,
        display,
        orientation,
        config.device.tz,
        config.device.unit_name,
        clock=clock.now,
        on_slide=(lambda frame: save_snapshot(snapshot, frame)) if snapshot else None,
        crossfade_s=crossfade_s,
        monotonic=mono,
        screen_on=lambda local, emergency: screen_wanted(config.display.on_hours, local, emergency),
    )
    reporter = Reporter(config, clock, player.state, display.surface.get_size(), loop, mono)
    screenshots = Screenshots(lambda: player.frame)
    watchdog = Watchdog(Notifier(), lambda: one_line(reporter.document()), monotonic=mono)
    turn: list[Callable[[PlayerState], None]] = [watchdog, screenshots]
    heartbeat = recorder = None
    if syncer is not None:  # a board reports what it played; local playlists do not
        plays = PlayQueue(config.storage_dir)
        recorder = PlayRecorder(plays, clock.now, mono)
        heartbeat = Heartbeat(config, plays, reporter.document, clock.now)
        reporter.plays, reporter.heartbeat = plays, heartbeat
        turn.append(recorder)
    if syncer is not None:
        player.resume_at = read_resume(config.storage_dir)
    return Board(
        config, display, box, player, reporter, screenshots, loop, heartbeat, recorder, turn
    )


def run_kiosk(
    config: Config,
    headless: bool,
    snapshot: Path | None = None,
    playlists: Path | None = None,
    stop: threading.Event | None = None,
) -> int:
    """The appliance: the screen in this thread, the sync in its own."""
    display = PygameDisplay(config.display.size, headless)
    if display.mode == "headless":
        how = (
            f"the picture is saved to {snapshot} at every slide change"
            if snapshot
            else "pass --snapshot FILE.png to see the picture"
        )
        print(f"No screen: running headless; {how}. Stop with Ctrl+C.", flush=True)
    board = build_board(config, display, SourceClock(), snapshot, playlists)
    player, reporter, box, loop = board.player, board.reporter, board.box, board.loop
    notice = import_notice(config)
    player.overlay.text = lambda: overlay_text(
        reporter.document(), ipv4_addresses(), config.listen[1], notice
    )
    if notice:  # an installer is standing at the board: say why the new file was refused
        log.error("the last configuration brought was refused: %s", " / ".join(notice))
        player.request_overlay(NOTICE_S)
    health = start_health(config, reporter, board.screenshots)
    stop = stop or threading.Event()

    def stop_player() -> None:
        """Out of the frame loop; under systemd (Restart=always) the kiosk starts again."""
        stop.set()
        box.publish(box.current()[0])  # wake the player at once

    def request_stop(signum: int, _frame: object) -> None:
        log.info("signal %d: stopping", signum)
        stop_player()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
    sync_now = loop.sync_now if loop else lambda: None
    hardware = start_hardware(config, reporter, sync_now, stop, player.request_overlay)
    if loop is not None:
        loop.start()
    if board.heartbeat is not None:
        if loop is not None:
            board.heartbeat.commands = Commands(
                loop.sync_now,
                board.screenshots.jpeg,
                stop_player,
                config.storage_dir / "commands.json",
                reporter.clock.now,
            )
        board.heartbeat.start()
    push = start_push(config, loop)
    try:
        run_frames(player, stop.is_set, on_turn=board.after_turn)
    finally:
        if push is not None:
            push.stop()
        if loop is not None:
            loop.stop()
        if board.heartbeat is not None and board.recorder is not None:
            board.heartbeat.stop()
            board.recorder.close()
            board.heartbeat.queue.flush()  # the plays of this run survive the restart
            write_resume(config.storage_dir, player.state.current)
        if health is not None:
            health.stop()
        if hardware is not None:
            hardware.close()
        display.close()
    return 0


NOTICE_S = 600.0  # how long a refused configuration's reasons stay on screen after a start


def import_notice(config: Config) -> list[str]:
    """Why kiosk firstboot refused the last kiosk.toml, from beside the one in force."""
    return refusal_reasons(config.path.parent) if config.path is not None else []


def start_push(config: Config, loop: SyncLoop | None) -> Push | None:
    """The MQTT subscription of SPEC 1.7, when source.push_url names a broker."""
    if loop is None or not config.source.push_url:
        return None
    push = Push(
        config.source.push_url,
        config.device.id,
        config.source.channels,
        held=loop.held,
        fetch=loop.sync_now,
    )
    push.start()
    return push


def start_health(
    config: Config, reporter: Reporter, screenshots: Screenshots
) -> HealthServer | None:
    """The health endpoints; a port that cannot be opened is logged, and the screen goes on."""
    try:
        server = HealthServer(config.listen, reporter, screenshots)
    except OSError as exc:
        log.error("health endpoints: cannot listen on %s:%d (%s)", *config.listen, exc.strerror)
        return None
    server.start()
    log.info("health endpoints on http://%s:%d/health", *config.listen)
    return server


def logical_screen(config: Config, store: Store) -> tuple[int, int]:
    """The upright picture's size for pre-scaling images outside `kiosk run`: the configured
    size, else the size the kiosk last ran at, else 1920x1080."""
    if config.display.size:
        return Orientation(config.display.size, config.display.rotation).logical
    return store.remembered_screen() or (1920, 1080)


def print_report(report: SyncReport) -> None:
    for channel in report.channels:
        state = "current" if channel.current else "NOT current"
        held = (
            f"sequence {channel.sequence}, {channel.items} items, expires "
            f"{channel.expires_at.isoformat()}"
            if channel.sequence is not None and channel.expires_at is not None
            else "no content"
        )
        print(f"{channel.channel}: {state}: {held}{' (updated)' if channel.changed else ''}")
        for problem in channel.problems:
            print(f"  {problem.code}: {problem.message}")
    for problem in report.problems:
        print(f"{problem.code}: {problem.message}")


def sync_command(args: argparse.Namespace) -> int:
    config = resolve_config(args.config)
    become_cache_owner(config.storage_dir)
    store = Store(config.storage_dir)
    try:
        with store.locked(wait_s=60):
            syncer = make_syncer(config, store, logical_screen(config, store), SourceClock())
            report = syncer.sync()
    except StoreBusy as exc:
        print(f"sync_failing: {exc}; try again later", file=sys.stderr)
        return 1
    except OSError as exc:  # the lock or a folder of the cache (a permission, a dead card)
        print(f"error: the cache {config.storage_dir} cannot be used: {exc}", file=sys.stderr)
        return 1
    print_report(report)
    return 0 if report.ok else 1
