"""`user_reset_password`: a new password for an account, asked as user_add does."""

from __future__ import annotations

from kiosk.province.accounts.accountwork import set_password
from kiosk.province.accounts.officers import OneAccountCommand, ask_new_password


class Command(OneAccountCommand):
    help = "A new password, asked as user_add does."

    def change(self, user) -> str:
        set_password(user, ask_new_password(user))
        return f"account {user.username}: new password set"
