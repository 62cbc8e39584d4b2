"""`user_reset_password`: a new password for an account, asked as user_add does."""

from __future__ import annotations

from kiosk.province.accounts.officers import OneAccountCommand, audited, set_new_password


class Command(OneAccountCommand):
    help = "A new password, asked as user_add does."

    def change(self, user) -> str:
        set_new_password(user)
        user.save(update_fields=["password"])
        audited(user, "password_reset", "password set by an administrator")
        return f"account {user.username}: new password set"
