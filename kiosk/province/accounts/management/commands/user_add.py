"""`user_add`: an account with its role (and the channels of an author or approver)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.db import transaction

from kiosk.core.model import CHANNEL_NAME
from kiosk.province.accounts.models import Profile
from kiosk.province.accounts.officers import ask_new_password, usage


class Command(BaseCommand):
    help = "An account; the password is asked, or read from stdin."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")
        parser.add_argument("--role", required=True, choices=Profile.Role.values)
        parser.add_argument("--channel", action="append", default=[], metavar="C")

    def handle(self, *args: object, name: str, role: str, channel: list[str], **_: object) -> None:
        for one in channel:
            if not CHANNEL_NAME.match(one):
                raise usage(f"--channel {one!r} is not a channel name")
        if channel and role not in (Profile.Role.AUTHOR, Profile.Role.APPROVER):
            raise usage("--channel limits an author or an approver, not a " + role)
        users = get_user_model()
        if users.objects.filter(username=name).exists():
            raise usage(f"the account {name!r} exists")
        user = users(username=name)
        try:
            users.username_validator(name)
        except ValidationError as exc:
            raise usage(f"{name!r}: {' '.join(exc.messages)}") from None
        user.set_password(ask_new_password(user))
        user.is_superuser = user.is_staff = role == Profile.Role.ADMIN
        with transaction.atomic():
            user.save()
            Profile.objects.create(user=user, role=role, channels=list(channel))
        self.stdout.write(f"account {name} ({role}) added")
