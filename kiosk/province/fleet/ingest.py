"""A checked heartbeat into the database, in one transaction: the 2xx is sent only after it
commits, so a board drops only plays that are durably stored.

This runs about 170 times a second for 10,000 boards, so it is four plain statements
(lock the board's row, insert the plays, update the board, commit) written in SQL that
SQLite and PostgreSQL both speak, with every value a parameter. The ORM's query building
cost more than the database's work here (bench/heartbeats.py); everything else uses the ORM.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction

from kiosk.province.fleet.heartbeatdoc import Heartbeat, storable
from kiosk.province.fleet.models import STATUS_HISTORY, Board, Command, Screenshot, StatusChange

_PLAY = "(%s, %s, %s, %s, %s)"


def note_change(device_id: str, at: datetime, status: str, problems: str) -> None:
    """A line of the board's history, keeping only the last STATUS_HISTORY."""
    StatusChange.objects.create(board_id=device_id, at=at, status=status, problems=problems)
    old = list(
        StatusChange.objects.filter(board_id=device_id).values_list("id", flat=True)[
            STATUS_HISTORY:
        ]
    )
    if old:
        StatusChange.objects.filter(id__in=old).delete()


def store_heartbeat(device_id: str, hb: Heartbeat, now: datetime) -> list[dict[str, str]] | None:
    """Store hb; returns the commands waiting for this board (SPEC 1.6), or None when the
    board left the inventory since its token was checked (nothing is stored)."""
    ops = connection.ops
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    problems = " ".join(hb.problems)
    plays, late = storable(hb.plays, now)
    rejected = late + hb.plays_malformed
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT status, problems, online_noted, commands_pending FROM fleet_board "
            "WHERE device_id = %s AND in_inventory = %s" + lock,
            [device_id, True],
        )
        row = cursor.fetchone()
        if row is None:
            return None
        status, old_problems, online_noted, pending = row
        if plays:
            cursor.execute(
                "INSERT INTO fleet_play (board_id, channel, item, started_at, duration_s) "
                f"VALUES {', '.join([_PLAY] * len(plays))} "
                "ON CONFLICT (board_id, channel, item, started_at) DO NOTHING",
                [
                    value
                    for p in plays
                    for value in (
                        device_id,
                        p.channel,
                        p.item,
                        ops.adapt_datetimefield_value(p.started_at),
                        p.duration_s,
                    )
                ],
            )
        if not online_noted or status != hb.status or old_problems != problems:
            note_change(device_id, now, hb.status, problems)
        if hb.done and pending:
            Command.objects.filter(board_id=device_id, ident__in=hb.done, done_at=None).update(
                done_at=now
            )
            pending = Command.objects.filter(board_id=device_id, done_at=None).count()
        if hb.screenshot is not None:
            Screenshot.objects.update_or_create(
                board_id=device_id, defaults={"taken_at": now, "jpeg": hb.screenshot}
            )
        channel, item = hb.current_item or ("", "")
        health = Board._meta.get_field("health").get_db_prep_save(hb.health, connection)
        cursor.execute(
            "UPDATE fleet_board SET last_heartbeat_at = %s, status = %s, problems = %s, "
            "health = %s, current_channel = %s, current_item = %s, current_title = %s, "
            "online_noted = %s, commands_pending = %s, plays_rejected = plays_rejected + %s "
            "WHERE device_id = %s",
            [
                ops.adapt_datetimefield_value(now),
                hb.status,
                problems,
                health,
                channel,
                item,
                hb.current_title or "",
                True,
                pending,
                rejected,
                device_id,
            ],
        )
    if not pending:
        return []
    waiting = Command.objects.filter(board_id=device_id, done_at=None).order_by("requested_at")
    return [{"id": c.ident, "type": c.type} for c in waiting]
