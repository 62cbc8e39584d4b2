"""`import_cap`: a CAP alert into an emergency waiting for approval (or a Cancel
withdrawing the alert it names)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from kiosk.province.bulletins.importing import import_cap, report_import


class Command(BaseCommand):
    help = "A CAP 1.2 alert into an emergency for approval."

    def add_arguments(self, parser) -> None:
        parser.add_argument("source", metavar="FILE_OR_URL")

    def handle(self, *args: object, source: str, **_: object) -> None:
        report_import(self, lambda now: import_cap(source, now))
