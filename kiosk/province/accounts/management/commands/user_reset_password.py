"""`user_reset_password`: a new password for an account, asked as user_add does."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from kiosk.province.accounts.officers import account, audited, set_new_password


class Command(BaseCommand):
    help = "A new password, asked as user_add does."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")

    def handle(self, *args: object, name: str, **_: object) -> None:
        user = account(name)
        set_new_password(user)
        user.save(update_fields=["password"])
        audited(user, "password_reset", "password set by an administrator")
        self.stdout.write(f"account {user.username}: new password set")
