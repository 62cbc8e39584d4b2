"""`release_add` (kiosk province release add DIR): SPEC 7.2."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kiosk.province.updates.releases import ReleaseRefused, add_release


class Command(BaseCommand):
    help = "Take a release that `kiosk release build` wrote into the site."

    def add_arguments(self, parser) -> None:
        parser.add_argument("dir")

    def handle(self, *args: object, dir: str, **_: object) -> None:
        try:
            added = add_release(Path(dir), datetime.now().astimezone(), "kiosk province")
        except ReleaseRefused as exc:
            raise CommandError(f"no release added: {exc}", returncode=2) from None
        except OSError as exc:
            raise CommandError(f"no release added: {exc}", returncode=1) from None
        for a in added:
            if a.already:
                self.stdout.write(f"{a.version}: already in the site")
            else:
                self.stdout.write(f"{a.version}: added, {a.wheels} wheels ({a.copied} new), "
                                  f"{a.size / 1e6:.1f} MB")  # fmt: skip
