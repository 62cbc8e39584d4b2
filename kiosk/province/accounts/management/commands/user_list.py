"""`user_list`: the accounts, their roles and channels, and where each is locked out."""

from __future__ import annotations

from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from kiosk.province.server.setup import LOGIN_FAILURES


class Command(BaseCommand):
    help = "The accounts, their roles and channels, and the addresses each is locked out from."

    def handle(self, *args: object, **options: object) -> None:
        locked = {
            (a.username, a.ip_address)
            for a in AccessAttempt.objects.filter(failures_since_start__gte=LOGIN_FAILURES)
        }
        self.stdout.write("name\trole\tchannels\tactive\tlocked from")
        for user in get_user_model().objects.select_related("profile").order_by("username"):
            profile = getattr(user, "profile", None)
            role = "admin" if user.is_superuser else (profile.role if profile else "-")
            channels = " ".join(profile.channels) if profile and profile.channels else "*"
            where = " ".join(sorted(ip or "?" for name, ip in locked if name == user.username))
            active = "yes" if user.is_active else "no"
            self.stdout.write(f"{user.username}\t{role}\t{channels}\t{active}\t{where or '-'}")
