"""The frame loop around the player: turns until asked to stop, each guarded so that a bug
in one turn costs that turn, not the board. systemd restarting the kiosk into the same
content would only crash again; the watchdog is fed after every turn (on_turn), so a hung
loop, unlike a failing one, is restarted."""

from __future__ import annotations

import logging
from collections.abc import Callable

from kiosk.board.player import PUMP_S, Player, PlayerState

log = logging.getLogger(__name__)
KINDS_LOGGED = 20  # distinct failures logged with their traceback; all are counted


class GuardedTurns:
    def __init__(self, player: Player) -> None:
        self.player = player
        self._logged: set[str] = set()

    def __call__(self) -> float:
        """One turn; how long to sleep before the next."""
        try:
            return self.player.step()
        except Exception as exc:
            self.player.state.failed_turns += 1
            kind = f"{type(exc).__name__}: {exc}"[:300]
            if kind not in self._logged and len(self._logged) < KINDS_LOGGED:
                self._logged.add(kind)
                log.exception("a turn of the display loop failed; going on")
            return PUMP_S


def run_frames(
    player: Player,
    should_stop: Callable[[], bool],
    on_turn: Callable[[PlayerState], None] | None = None,
) -> None:
    """Loop until asked to stop or the window is closed. on_turn is called after every turn,
    from this thread."""
    turn = GuardedTurns(player)
    while not should_stop():
        pause = turn()
        if not player.display.pump():
            return
        if on_turn is not None:
            on_turn(player.state)
        player.box.wait(pause)
