"""`user_list`: the accounts, their roles and channels, and where each is locked out."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from kiosk.province.accounts.accountwork import accounts


class Command(BaseCommand):
    help = "The accounts, their roles and channels, and the addresses each is locked out from."

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write("name\trole\tchannels\tactive\tlocked from")
        for a in accounts():
            channels = " ".join(a.channels) or "*"
            where = " ".join(a.locked_from) or "-"
            active = "yes" if a.active else "no"
            self.stdout.write(f"{a.name}\t{a.role}\t{channels}\t{active}\t{where}")
