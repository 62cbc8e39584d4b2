"""`boards`: register the inventory's boards; a new token for each that has none."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kiosk.core.inventory import load_inventory
from kiosk.province.fleet.registry import issue_tokens


class Command(BaseCommand):
    help = "Register the inventory's boards; new tokens to a CSV written once (mode 0600)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tokens-out", required=True, metavar="TOKENS.csv")
        parser.add_argument("--reissue", action="append", default=[], metavar="DEVICE_ID")

    def handle(self, *args: object, tokens_out: str, reissue: list[str], **_: object) -> None:
        config = settings.KIOSK_PROVINCE
        out = Path(tokens_out)
        if out.exists():
            raise CommandError(
                f"{out} exists: keep its tokens safe, then move it away and run again",
                returncode=2,
            )
        unknown = sorted(set(reissue) - {b.device_id for b in load_inventory(config.inventory)})
        if unknown:
            raise CommandError(
                f"--reissue: not in the inventory: {', '.join(unknown)}", returncode=2
            )
        total, new = issue_tokens(config, out, reissue)
        self.stdout.write(
            f"{total} boards registered; {new} new tokens written to {out} (mode 0600)"
        )
