"""`user_unlock`: an admin lifts a lockout: the account's failed logins from every address go."""

from __future__ import annotations

from axes.utils import reset
from django.core.management.base import BaseCommand

from kiosk.province.accounts.officers import account, audited


class Command(BaseCommand):
    help = "Lift a login lockout (every address)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")

    def handle(self, *args: object, name: str, **_: object) -> None:
        user = account(name)
        gone = reset(username=user.username)
        audited(user, "unlocked", f"{gone} failed logins cleared")
        self.stdout.write(f"account {user.username} unlocked ({gone} lockout records cleared)")
