"""`user_disable`: nobody logs in with the account any more; its history stays."""

from __future__ import annotations

from kiosk.province.accounts.models import ApiToken
from kiosk.province.accounts.officers import OneAccountCommand, audited


class Command(OneAccountCommand):
    help = "Nobody logs in with it any more, its API tokens are revoked; its history stays."

    def change(self, user) -> str:
        user.is_active = False
        user.save(update_fields=["is_active"])
        tokens, _ = ApiToken.objects.filter(user=user).delete()
        audited(user, "disabled", f"{tokens} API tokens revoked")
        return f"account {user.username} disabled; {tokens} API tokens revoked"
