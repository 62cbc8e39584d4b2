"""`user_unlock`: an admin lifts a lockout: the account's failed logins from every address go."""

from __future__ import annotations

from kiosk.province.accounts.accountwork import unlock
from kiosk.province.accounts.officers import OneAccountCommand


class Command(OneAccountCommand):
    help = "Lift a login lockout (every address)."

    def change(self, user) -> str:
        gone = unlock(user)
        return f"account {user.username} unlocked ({gone} lockout records cleared)"
