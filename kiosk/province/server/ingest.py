"""A checked heartbeat into the database, in one transaction: the 2xx is sent only after it
commits, so a board drops only plays that are durably stored."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from kiosk.province.heartbeatdoc import Heartbeat
from kiosk.province.server.models import (
    STATUS_HISTORY,
    Board,
    Command,
    Play,
    Screenshot,
    StatusChange,
)


def note_change(board: Board, at: datetime, status: str, problems: list[str]) -> None:
    """A line of the board's history, keeping only the last STATUS_HISTORY."""
    StatusChange.objects.create(board=board, at=at, status=status, problems=problems)
    old = list(
        StatusChange.objects.filter(board=board).values_list("id", flat=True)[STATUS_HISTORY:]
    )
    if old:
        StatusChange.objects.filter(id__in=old).delete()


def store_heartbeat(device_id: str, hb: Heartbeat, now: datetime) -> list[dict[str, str]]:
    """Store hb; returns the commands waiting for this board (SPEC 1.6)."""
    with transaction.atomic():
        board = Board.objects.select_for_update().get(pk=device_id)
        Play.objects.bulk_create(
            [
                Play(
                    board=board,
                    channel=p.channel,
                    item=p.item,
                    started_at=p.started_at,
                    duration_s=p.duration_s,
                )
                for p in hb.plays
            ],
            ignore_conflicts=True,  # a replayed play is stored once (SPEC 7.3)
            batch_size=500,
        )
        problems = list(hb.problems)
        if not board.online_noted or board.status != hb.status or board.problems != problems:
            note_change(board, now, hb.status, problems)
        if hb.done and board.commands_pending:
            Command.objects.filter(board=board, ident__in=hb.done, done_at=None).update(done_at=now)
            board.commands_pending = Command.objects.filter(board=board, done_at=None).count()
        if hb.screenshot is not None:
            Screenshot.objects.update_or_create(
                board=board, defaults={"taken_at": now, "jpeg": hb.screenshot}
            )
        channel, item = hb.current_item or ("", "")
        board.last_heartbeat_at = now
        board.status, board.problems, board.health = hb.status, problems, hb.health
        board.current_channel, board.current_item = channel, item
        board.current_title = hb.current_title or ""
        board.online_noted = True
        board.save()
        if not board.commands_pending:
            return []
        waiting = Command.objects.filter(board=board, done_at=None).order_by("requested_at")
        return [{"id": c.ident, "type": c.type} for c in waiting]
