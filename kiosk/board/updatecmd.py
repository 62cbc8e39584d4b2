"""`kiosk update --once [--config PATH] [--apply]` (SPEC 4): one look at the rollout; exit 0
when up to date or done, 1 when it failed (the problem code and reason printed)."""

from __future__ import annotations

import argparse
import sys

from kiosk.board.app import resolve_config
from kiosk.board.releasedir import ReleaseDir
from kiosk.board.source import HttpSource
from kiosk.board.updater import Updater


def update_command(args: argparse.Namespace) -> int:
    config = resolve_config(args.config)
    if not config.update.release_keys:
        print("update: [update] has no release_keys: this board takes no software updates")
        return 0
    source = HttpSource(config.source.url, config.device.id)
    try:
        outcome = Updater(config, source, ReleaseDir(config.update.dir)).check()
    finally:
        source.close()
    if not outcome.ok:
        print(f"update_failed: {outcome.message}", file=sys.stderr)
        return 1
    print(f"update: {outcome.message}")
    return 0
