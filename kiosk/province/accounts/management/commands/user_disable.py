"""`user_disable`: nobody logs in with the account any more; its history stays."""

from __future__ import annotations

from kiosk.province.accounts.accountwork import disable
from kiosk.province.accounts.officers import OneAccountCommand


class Command(OneAccountCommand):
    help = "Nobody logs in with it any more, its API tokens are revoked; its history stays."

    def change(self, user) -> str:
        tokens = disable(user)
        return f"account {user.username} disabled; {tokens} API tokens revoked"
