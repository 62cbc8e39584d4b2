"""The inventory's boards in the database (SPEC 6, 7.2): registered, their labels kept as
the inventory says, and their tokens issued once."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from django.db import transaction

from kiosk.core.fsutil import atomic_write
from kiosk.core.inventory import load_inventory
from kiosk.province.accounts.tokens import PREFIX_BOARD, new_token, token_hash
from kiosk.province.fleet.models import Board, board_search
from kiosk.province.fleet.numbering import number_boards
from kiosk.province.provinceconf import ProvinceConfig

LABELS = ("unit_name", "unit_kind", "province_code", "commune_code", "district")


def register_boards(config: ProvinceConfig) -> list[Board]:
    """The inventory's boards into the database (labels refreshed; those it no longer
    lists keep their plays but lose their token's use). Returns the boards without a token."""
    boards = load_inventory(config.inventory)
    listed = {b.device_id for b in boards}
    with transaction.atomic():
        Board.objects.bulk_create(
            [
                Board(
                    device_id=b.device_id,
                    unit_name=b.unit_name,
                    unit_kind=b.unit_kind,
                    province_code=b.province_code,
                    commune_code=b.commune_code or "",
                    district=b.district or "",
                    health_url=b.health_url,
                    installed_on=b.installed_on,
                    in_inventory=True,
                    search=board_search(b.unit_name, b.district or ""),
                )
                for b in boards
            ],
            batch_size=1000,
            update_conflicts=True,  # a board already known gets the inventory's labels
            unique_fields=["device_id"],
            update_fields=[*LABELS, "health_url", "installed_on", "in_inventory", "search"],
        )
        Board.objects.exclude(device_id__in=listed).update(in_inventory=False)
        number_boards()
    return list(Board.objects.filter(in_inventory=True, token_hash=""))


def issue_tokens(config: ProvinceConfig, out: Path, reissue: list[str]) -> tuple[int, int]:
    """A new token for every board that has none (and each of reissue), written once to out
    (mode 0600) before the database knows its hash. Returns (boards, new tokens)."""
    Board.objects.filter(device_id__in=reissue).update(token_hash="")
    waiting = register_boards(config)
    tokens = {b.device_id: new_token(PREFIX_BOARD) for b in waiting}
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["device_id", "token"])
    writer.writerows(sorted(tokens.items()))
    # The file first: a token the database knows but nobody has would strand a board.
    atomic_write(out, text.getvalue().encode(), mode=0o600)
    Board.objects.bulk_update(
        [Board(device_id=d, token_hash=token_hash(t)) for d, t in tokens.items()],
        ["token_hash"],
        batch_size=1000,
    )
    return Board.objects.filter(in_inventory=True).count(), len(tokens)
