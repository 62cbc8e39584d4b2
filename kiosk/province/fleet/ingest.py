"""A checked heartbeat into the database, in one transaction: the 2xx is sent only after it
commits, so a board drops only plays that are durably stored, and counted once in the daily
sums every report reads (playsums.py says how a resend is told).

This runs about 170 times a second for 10,000 boards, so it is five plain statements
(lock the board's row, insert the raw plays, add the new ones to their days' sums, update
the board, commit) written in SQL that SQLite and PostgreSQL both speak, with every value a
parameter. The ORM's query building cost more than the database's work here
(bench/heartbeats.py); everything else uses the ORM.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from kiosk.province.fleet.fleetdata import province_tz
from kiosk.province.fleet.heartbeatdoc import Heartbeat, Play, storable
from kiosk.province.fleet.models import STATUS_HISTORY, Board, Command, Screenshot, StatusChange
from kiosk.province.fleet.playsums import day_sums, latest, sort_arrival

_ROW5 = "(%s, %s, %s, %s, %s)"
_ROW6 = "(%s, %s, %s, %s, %s, %s)"


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


def _stored_raw(cursor: Any, device_id: str, plays: list[Play]) -> list[Play]:
    """Inserts the raw plays; returns those that were not there already."""
    if not plays:
        return []
    adapt = connection.ops.adapt_datetimefield_value
    by_key = {(p.channel, p.item, p.started_at): p for p in plays}
    cursor.execute(
        "INSERT INTO fleet_play (board_id, channel, item, started_at, duration_s) "
        f"VALUES {', '.join([_ROW5] * len(by_key))} "
        "ON CONFLICT (board_id, channel, item, started_at) DO NOTHING "
        "RETURNING channel, item, started_at",
        [v for p in plays for v in (device_id, p.channel, p.item, adapt(p.started_at),
                                    p.duration_s)],
    )  # fmt: skip
    return [by_key[(channel, item, _aware(at))] for channel, item, at in cursor.fetchall()]


def _aware(moment: datetime | str) -> datetime:
    """A moment as the database hands it back: PostgreSQL's aware, SQLite's naive UTC (or
    its text, without Django's converters)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _add_to_sums(cursor: Any, device_id: str, plays: list[Play]) -> None:
    sums = day_sums(plays, province_tz())
    if not sums:
        return
    adapt = connection.ops.adapt_datefield_value
    cursor.execute(
        "INSERT INTO fleet_playday (board_id, channel, item, day, plays, seconds) "
        f"VALUES {', '.join([_ROW6] * len(sums))} "
        "ON CONFLICT (board_id, channel, item, day) DO UPDATE SET "
        "plays = fleet_playday.plays + excluded.plays, "
        "seconds = fleet_playday.seconds + excluded.seconds",
        # in the key's order, as the rollup updates them: two transactions that lock a
        # board's rows in one order cannot deadlock
        [v for (channel, item, day), (n, seconds) in sorted(sums.items())
         for v in (device_id, channel, item, adapt(day), n, seconds)],
    )  # fmt: skip


def software_columns(hb: Heartbeat) -> tuple[str, str, str, str]:
    """The board's software columns; a board that sends no software block runs a release
    older than updates, which the rollout page counts as "not reported"."""
    sw = hb.software
    if sw is None:
        return ("", "", "", "")
    failed = f" {' '.join(sw.failed)} " if sw.failed else ""
    return (sw.version, sw.state, sw.target, failed)


def store_heartbeat(device_id: str, hb: Heartbeat, now: datetime) -> list[dict[str, str]] | None:
    """Store hb; returns the commands waiting for this board (SPEC 1.6), or None when the
    board left the inventory since its token was checked (nothing is stored)."""
    ops = connection.ops
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    problems = " ".join(hb.problems)
    plays, late = storable(hb.plays, now)
    rejected = late + hb.plays_malformed
    raw_from = now - timedelta(days=settings.KIOSK_PROVINCE.plays_raw_days)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT status, problems, online_noted, commands_pending, plays_through "
            "FROM fleet_board WHERE device_id = %s AND in_inventory = %s" + lock,
            [device_id, True],
        )
        row = cursor.fetchone()
        if row is None:
            return None
        status, old_problems, online_noted, pending, through = row
        through = _aware(through) if through is not None else None
        arrival = sort_arrival(plays, raw_from, through)
        new = _stored_raw(cursor, device_id, arrival.recent) + arrival.unseen
        _add_to_sums(cursor, device_id, new)
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
            "online_noted = %s, commands_pending = %s, plays_rejected = plays_rejected + %s, "
            "plays_stored = plays_stored + %s, plays_through = %s, software_version = %s, "
            "software_state = %s, software_target = %s, software_failed = %s "
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
                len(new),
                ops.adapt_datetimefield_value(latest(through, plays)),
                *software_columns(hb),
                device_id,
            ],
        )
    if not pending:
        return []
    waiting = Command.objects.filter(board_id=device_id, done_at=None).order_by("requested_at")
    return [{"id": c.ident, "type": c.type} for c in waiting]
