"""`user_disable`: nobody logs in with the account any more; its history stays."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from kiosk.province.accounts.models import ApiToken
from kiosk.province.accounts.officers import account, audited


class Command(BaseCommand):
    help = "Nobody logs in with it any more, its API tokens are revoked; its history stays."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")

    def handle(self, *args: object, name: str, **_: object) -> None:
        user = account(name)
        user.is_active = False
        user.save(update_fields=["is_active"])
        tokens, _ = ApiToken.objects.filter(user=user).delete()
        audited(user, "disabled", f"{tokens} API tokens revoked")
        self.stdout.write(f"account {user.username} disabled; {tokens} API tokens revoked")
