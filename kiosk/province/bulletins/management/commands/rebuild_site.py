"""`rebuild_site`: the static site written again from the database (SPEC 7.4): each channel
the site lacks or holds behind the database (every one with --all), at a sequence above
anything issued, so boards take it."""

from __future__ import annotations

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from kiosk.province.bulletins.publishing import PublishError, announce, rebuild_site
from kiosk.province.updates.rollouts import restore_site


class Command(BaseCommand):
    help = "Write the static site again from the database (after a lost or restored disk)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--all", action="store_true", help="every channel")

    def handle(self, *args: object, all: bool, **_: object) -> None:
        try:
            outcome = rebuild_site(datetime.now().astimezone(), every=all)
        except PublishError as exc:
            raise CommandError(f"nothing rebuilt: {exc}", returncode=1) from None
        for channel, sequence in outcome.sequences.items():
            self.stdout.write(f"{channel}: sequence {sequence}")
        if not outcome.sequences and not outcome.failed:
            self.stdout.write("the site holds every channel as the database says; nothing to do")
        announce(outcome.sequences)
        written, signed = restore_site(datetime.now().astimezone())
        if written:
            self.stdout.write(f"{written} release documents written again")
        if signed:
            self.stdout.write("the rollout in force signed again")
        if outcome.failed:
            raise CommandError(
                "; ".join(f"{channel}: could not be written" for channel in outcome.failed),
                returncode=1,
            )
