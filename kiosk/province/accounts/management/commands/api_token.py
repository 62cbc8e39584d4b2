"""`api_token`: a new API token for an account, for `kiosk fleet ... --server`."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from kiosk.province.accounts.models import ApiToken
from kiosk.province.accounts.officers import account
from kiosk.province.accounts.tokens import PREFIX_API, new_token, token_hash


class Command(BaseCommand):
    help = "A new API token for an account (kiosk fleet --server); shown once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")

    def handle(self, *args: object, name: str, **_: object) -> None:
        user = account(name, active_only=True)
        token = new_token(PREFIX_API)
        ApiToken.objects.create(user=user, token_hash=token_hash(token), created_at=timezone.now())
        self.stdout.write(token)
