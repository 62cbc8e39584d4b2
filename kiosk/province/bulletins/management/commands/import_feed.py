"""`import_feed`: an RSS or Atom feed's entries into text bulletins waiting for approval."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from kiosk.core.model import CHANNEL_NAME
from kiosk.province.bulletins.importing import import_feed, report_import


class Command(BaseCommand):
    help = "An RSS or Atom feed into drafts for approval."

    def add_arguments(self, parser) -> None:
        parser.add_argument("source", metavar="URL")
        parser.add_argument("--channel", required=True, metavar="C")

    def handle(self, *args: object, source: str, channel: str, **_: object) -> None:
        if not CHANNEL_NAME.match(channel):
            raise CommandError(f"--channel {channel!r} is not a channel name", returncode=2)
        report_import(self, lambda now: import_feed(source, channel, now))
