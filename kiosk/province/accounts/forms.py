"""The admin page's password form: typed twice, checked by Django's rules, every message in
Vietnamese."""

from __future__ import annotations

from typing import Any

from django import forms

from kiosk.province.accounts.accountwork import password_problems_vi


class PasswordForm(forms.Form):
    password = forms.CharField(
        label="Mật khẩu mới",
        strip=False,
        max_length=200,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "Hãy nhập mật khẩu mới."},
    )
    again = forms.CharField(
        label="Nhập lại mật khẩu mới",
        strip=False,
        max_length=200,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "Hãy nhập lại mật khẩu mới."},
    )

    def __init__(self, *args: Any, user, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        password, again = data.get("password"), data.get("again")
        if password and again and password != again:
            self.add_error("again", "Hai lần nhập không giống nhau.")
        elif password:
            for problem in password_problems_vi(password, self.user):
                self.add_error("password", problem)
        return data
