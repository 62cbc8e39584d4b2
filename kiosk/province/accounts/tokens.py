"""Board and API tokens: 256 random bits, shown once, kept only as their SHA-256.

A fast hash is right for random tokens (no dictionary to guess from) and lets a heartbeat find
its board's hash in one indexed lookup; a slow password hash would cost every heartbeat."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.db import connection
from django.utils import timezone

from kiosk.province.accounts.models import ApiToken

PREFIX_BOARD, PREFIX_API = "bt_", "bta_"
MAX_HEADER = 200


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header, or None."""
    if not header or len(header) > MAX_HEADER:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def board_for(device_id: str, header: str | None) -> bool:
    """Whether the header carries this board's token (one small indexed read: this runs for
    every heartbeat, before its body is read)."""
    token = bearer(header)
    if token is None:
        return False
    with connection.cursor() as cursor:  # plain SQL: the ORM's query building cost more
        cursor.execute(
            "SELECT token_hash FROM fleet_board WHERE device_id = %s AND in_inventory = %s",
            [device_id, True],
        )
        row = cursor.fetchone()
    found = row[0] if row else ""
    return bool(found) and hmac.compare_digest(found, token_hash(token))


def api_user(header: str | None):
    """The active account an API token belongs to, or None."""
    token = bearer(header)
    if token is None:
        return None
    found = (
        ApiToken.objects.select_related("user", "user__profile")
        .filter(token_hash=token_hash(token), user__is_active=True)
        .first()
    )
    if found is None:
        return None
    ApiToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
    return found.user
