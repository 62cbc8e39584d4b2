"""The heartbeat reply's commands on the board (kiosk/board/commands.py): each carried out
once by its id, reported in the next heartbeat, a restart only once that report was taken,
and anything but the documented shape ignored."""

from __future__ import annotations

import json

from kiosk.board.commands import Commands, commands_of


def reply(*commands: tuple[str, str]) -> bytes:
    return json.dumps({"commands": [{"id": i, "type": t} for i, t in commands]}).encode()


def test_only_well_formed_known_commands_are_read():
    assert commands_of(reply(("a1", "sync_now"), ("b2", "screenshot"))) == [
        ("a1", "sync_now"),
        ("b2", "screenshot"),
    ]
    for bad in (
        b"",
        b"not json",
        b"[" * 10_000,
        b'{"commands": "sync_now"}',
        b'{"commands": [{"id": "x y", "type": "sync_now"}]}',
        b'{"commands": [{"id": "x", "type": "show_this_url"}]}',
        b'{"commands": [{"id": 7, "type": "sync_now"}]}',
        b'{"commands": [["x", "sync_now"]]}',
    ):
        assert commands_of(bad) == [], bad
    many = reply(*[(f"c{n}", "sync_now") for n in range(100)])
    assert len(commands_of(many)) == 16


class Board:
    def __init__(self) -> None:
        self.syncs = self.restarts = self.shots = 0

    def sync_now(self) -> None:
        self.syncs += 1

    def screenshot(self) -> bytes:
        self.shots += 1
        return b"\xff\xd8\xff jpeg"

    def restart(self) -> None:
        self.restarts += 1


def test_each_command_is_carried_out_once_and_reported_until_taken():
    board = Board()
    commands = Commands(board.sync_now, board.screenshot, board.restart)
    assert commands.take(reply(("s1", "sync_now"), ("p1", "screenshot")))
    assert commands.take(reply(("s1", "sync_now"), ("p1", "screenshot")))  # sent again
    assert (board.syncs, board.shots) == (1, 1)
    body = commands.body()
    assert body["done"] == ["s1", "p1"] and body["screenshot"] == "/9j/IGpwZWc="
    commands.taken(body)
    assert commands.body() == {} and not commands.waiting()


def test_a_restart_waits_until_its_report_was_taken():
    board = Board()
    commands = Commands(board.sync_now, board.screenshot, board.restart)
    commands.take(reply(("r1", "restart_player")))
    assert board.restarts == 0  # not yet: the province must first hear it was done
    body = commands.body()
    commands.taken({})  # a heartbeat that did not carry the report
    assert board.restarts == 0
    commands.taken(body)
    assert board.restarts == 1
    commands.take(reply(("r1", "restart_player")))  # the province, not yet up to date
    assert board.restarts == 1 and not commands.waiting()
