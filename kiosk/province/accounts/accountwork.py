"""What an administrator does to accounts, from the admin page or the shell alike: the
accounts listed with their lockouts, a lockout lifted, a password set, an account disabled.
Each change is in the audit log under who did it (the page's admin, or "hệ thống" from the
shell); the shell's commands and the page share these, so they cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass

from axes.models import AccessAttempt
from axes.utils import reset
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from kiosk.province.accounts.models import ApiToken
from kiosk.province.bulletins import audit
from kiosk.province.server.setup import LOGIN_FAILURES

# Django's Vietnamese catalogue leaves some of its password messages in English: the
# officer reads ours, one language, by the validators' codes
PASSWORD_VI = {
    "password_too_short": "Mật khẩu quá ngắn: cần ít nhất {min_length} ký tự.",
    "password_too_common": "Mật khẩu này quá phổ biến, dễ bị đoán.",
    "password_entirely_numeric": "Mật khẩu không được chỉ gồm chữ số.",
    "password_too_similar": "Mật khẩu quá giống tên đăng nhập.",
}


@dataclass(frozen=True)
class AccountRow:
    name: str
    role: str  # admin | approver | author | technician | "-"
    channels: tuple[str, ...]  # empty: every channel
    active: bool
    locked_from: tuple[str, ...]  # the addresses it is locked out from


def accounts() -> list[AccountRow]:
    locked: dict[str, set[str]] = {}
    for name, ip in AccessAttempt.objects.filter(
        failures_since_start__gte=LOGIN_FAILURES
    ).values_list("username", "ip_address"):
        locked.setdefault(name, set()).add(ip or "?")
    rows = []
    for user in get_user_model().objects.select_related("profile").order_by("username"):
        profile = getattr(user, "profile", None)
        rows.append(
            AccountRow(
                name=user.username,
                role="admin" if user.is_superuser else (profile.role if profile else "-"),
                channels=tuple(profile.channels) if profile and profile.channels else (),
                active=user.is_active,
                locked_from=tuple(sorted(locked.get(user.username, ()))),
            )
        )
    return rows


def password_problems_vi(password: str, user) -> list[str]:
    """Why Django's password rules refuse this password, in Vietnamese; [] when they do not."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return [
            PASSWORD_VI[e.code].format(**(e.params or {}))
            if e.code in PASSWORD_VI
            else e.message % (e.params or {})
            for e in exc.error_list
        ]
    return []


def unlock(user, by=None) -> int:
    """The account's failed logins from every address cleared; how many records went."""
    gone = reset(username=user.username)
    audit.record(by, "unlocked", detail=f"{user.username}: {gone} failed logins cleared")
    return gone


def set_password(user, password: str, by=None) -> None:
    """A password already checked by the caller (password_problems_vi or the shell's)."""
    user.set_password(password)
    user.save(update_fields=["password"])
    audit.record(by, "password_reset",
                 detail=f"{user.username}: password set by an administrator")  # fmt: skip


def disable(user, by=None) -> int:
    """Nobody logs in with it any more and its API tokens go; its history stays. Returns
    how many API tokens were revoked."""
    with transaction.atomic():
        user.is_active = False
        user.save(update_fields=["is_active"])
        tokens, _ = ApiToken.objects.filter(user=user).delete()
        audit.record(by, "disabled", detail=f"{user.username}: {tokens} API tokens revoked")
    return tokens
