"""`user_unlock`: an admin lifts a lockout: the account's failed logins from every address go."""

from __future__ import annotations

from axes.utils import reset

from kiosk.province.accounts.officers import OneAccountCommand, audited


class Command(OneAccountCommand):
    help = "Lift a login lockout (every address)."

    def change(self, user) -> str:
        gone = reset(username=user.username)
        audited(user, "unlocked", f"{gone} failed logins cleared")
        return f"account {user.username} unlocked ({gone} lockout records cleared)"
