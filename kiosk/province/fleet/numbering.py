"""Each board's number: its bit in the sets of boards of proof of play (boardsets.py).
Given once, in device-id order to the boards that have none, and never reused, so a set
kept for years still names the same boards."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from kiosk.province.fleet.models import Board


def number_boards() -> int:
    """Numbers for the boards that have none; returns how many were given."""
    with transaction.atomic():
        waiting = list(
            Board.objects.select_for_update()
            .filter(number=None)
            .order_by("device_id")
            .values_list("device_id", flat=True)
        )
        if not waiting:
            return 0
        top = Board.objects.aggregate(top=Max("number"))["top"]
        first = 0 if top is None else top + 1
        Board.objects.bulk_update(
            [Board(device_id=d, number=first + n) for n, d in enumerate(waiting)],
            ["number"],
            batch_size=1000,
        )
    return len(waiting)
