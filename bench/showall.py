"""The kiosk's peak memory with a 200-item playlist of large photos: its own parts (app.
build_board) sync every photo from the source and then show each one once.

Run by bench/run.py in a child process of its own, so the peak is the kiosk's alone:

    .venv/bin/python -m bench.showall KIOSK.toml

The slides are stepped on a simulated clock (at 3 s a slide the rotation would take ten
minutes); each slide costs what it costs on a board: decoding its pre-scaled copy, scaling
it to the slide, painting and a short crossfade.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import procstat
from bench.soak import SimClock
from kiosk.board.app import build_board
from kiosk.board.clock import SourceClock
from kiosk.board.display import PygameDisplay
from kiosk.core.config import load_config


def main() -> int:
    config = load_config(Path(sys.argv[1]))
    clock = SimClock(datetime.now(UTC))
    display = PygameDisplay(config.display.size, headless=True)
    board = build_board(
        config, display, SourceClock(wall=clock.wall), mono=clock.mono, crossfade_s=0.05
    )
    assert board.loop is not None
    started = time.monotonic()
    board.loop.run_once()
    sync_s = time.monotonic() - started
    items = sum(len(c.items) for c in board.box.current()[0].channels)
    shown: set[tuple[str, str]] = set()
    started = time.monotonic()
    for _ in range(20 * items + 100):
        pause = board.player.step()
        board.after_turn(board.player.state)
        if board.player.state.current is not None:
            shown.add(board.player.state.current)
        if len(shown) >= items:
            break
        clock.elapsed += max(pause, 0.25)
    display.close()
    print(
        json.dumps(
            {
                "items": items,
                "shown": len(shown),
                "sync_s": round(sync_s, 1),
                "show_s": round(time.monotonic() - started, 1),
                "rss_peak_mb": round((procstat.status_kb("self", "VmHWM") or 0) / 1024, 1),
                "rss_end_mb": round((procstat.status_kb("self", "VmRSS") or 0) / 1024, 1),
            }
        )
    )
    return 0 if len(shown) == items else 1


if __name__ == "__main__":
    sys.exit(main())
