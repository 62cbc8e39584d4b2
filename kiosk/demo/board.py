"""`kiosk demo`: the whole path on one machine, for a newcomer or an author.

It signs the sample playlists with the demo key, serves them on loopback like a provincial
source system, and runs the kiosk against that source: publish, serve, sync, verify, show.
The demo key's seed is public (its text is below), so nothing it signs may ever be trusted
by a real board; kiosk/default.toml carries its public key.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.board.app import run_kiosk
from kiosk.core.config import default_config
from kiosk.core.errors import UsageError
from kiosk.core.signing import public_key_text, raw_public_key
from kiosk.demo.sitesrv import start_site
from kiosk.paths import SAMPLE_PLAYLISTS, user_cache_dir
from kiosk.province.publish import load_playlists, publish_playlist, site_sequence
from kiosk.render.preview import parse_size

log = logging.getLogger(__name__)

DEMO_SEED_TEXT = b"bangtin-kiosk demo key - public, never trust it"
DEMO_POLL_S = 60


def demo_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(DEMO_SEED_TEXT).digest())


def publish_demo(playlists: Path, site: Path) -> list[str]:
    """Sign every playlist of the folder into the site. Sequences follow the clock, so a
    board cache left by an earlier demo run never sees a rollback."""
    paths = sorted(playlists.glob("*.toml"))
    if not paths:
        raise UsageError(f"{playlists}: no playlists (*.toml) to publish")
    key = demo_key()
    now = time.time()
    lines = []
    for playlist in load_playlists(paths):
        sequence = max(site_sequence(site, playlist.channel) + 1, int(now))
        done = publish_playlist(
            playlist, key, site, datetime.fromtimestamp(int(now), UTC), 14, sequence
        )
        lines.append(f"{done.channel} (sequence {done.sequence}, {done.items} items)")
    return lines


def demo_command(args: argparse.Namespace) -> int:
    base = user_cache_dir() / "demo"
    playlists = Path(args.playlists) if args.playlists else SAMPLE_PLAYLISTS
    if not playlists.is_dir():
        raise UsageError(f"{playlists} is not a folder of playlists")
    config = default_config()
    assert public_key_text(raw_public_key(demo_key())) in config.source.public_keys
    published = publish_demo(playlists, base / "site")
    server = start_site(base / "site", args.port)
    display = config.display
    if args.size:
        display = dataclasses.replace(display, size=parse_size(args.size))
    config = dataclasses.replace(
        config,
        source=dataclasses.replace(config.source, url=server.url, poll_seconds=DEMO_POLL_S),
        display=display,
        storage_dir=base / "board",
    )
    print(
        f"Demo: signed {', '.join(published)} into {base / 'site'}; serving it at {server.url} "
        f"as the source; the board's cache is {base / 'board'}.",
        flush=True,
    )
    snapshot = Path(args.snapshot) if args.snapshot else None
    if args.headless and snapshot is None:
        snapshot = base / "screen.png"
    try:
        return run_kiosk(config, headless=args.headless, snapshot=snapshot)
    finally:
        server.stop()
