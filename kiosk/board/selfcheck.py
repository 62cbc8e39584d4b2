"""`kiosk selfcheck`: run by the updater with a new release's own Python, beside the running
one, before any switch (SPEC 8.3): it imports, reads the board's configuration and cache,
and draws one frame off screen. Writes nothing: it may run as root over the kiosk's cache.

Its exit code is the whole answer: 0 fit to run; anything else (an import error, a bad
configuration, a crash while drawing) refuses the release before the board ever runs it.
"""

from __future__ import annotations

import argparse
import os
import sys

from kiosk import __version__


def selfcheck_command(args: argparse.Namespace) -> int:
    os.environ["SDL_VIDEODRIVER"] = "dummy"  # never the panel: the running kiosk owns it
    from kiosk.board.app import make_syncer
    from kiosk.board.boardconfig import resolve_config
    from kiosk.board.clock import SourceClock
    from kiosk.board.content import ContentBox
    from kiosk.board.display import PygameDisplay
    from kiosk.board.player import Player
    from kiosk.board.store import Store
    from kiosk.render.screen import Orientation

    config = resolve_config(args.config)
    store = Store(config.storage_dir)
    size = config.display.size or store.remembered_screen() or (1920, 1080)
    orientation = Orientation(size, config.display.rotation)
    clock = SourceClock()
    syncer = make_syncer(config, store, orientation.logical, clock)
    content = syncer.load_content()
    display = PygameDisplay(size, headless=True)
    try:
        box = ContentBox(content)
        player = Player(
            box,
            display,
            orientation,
            config.device.tz,
            config.device.unit_name,
            clock=clock.now,
        )
        player.step()
        drawn = player.state.frames
    finally:
        display.close()
        syncer.source.close()
    if not drawn:
        print("selfcheck: no frame was drawn", file=sys.stderr)
        return 1
    print(
        f"selfcheck: kiosk {__version__} read {config.path or 'the configuration'} and "
        f"{len(content.channels)} cached channel(s), and drew a {size[0]}x{size[1]} frame"
    )
    return 0
