"""Board and API tokens: 256 random bits, shown once, kept only as their SHA-256.

A fast hash is right for random tokens (no dictionary to guess from) and lets a heartbeat find
its board's hash in one indexed lookup; a slow password hash would cost every heartbeat."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.utils import timezone

from kiosk.province.server.models import ApiToken, Board, Counter

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


def board_for(device_id: str, header: str | None) -> Board | None:
    """The board whose token this is, or None: a wrong board, token or header."""
    token = bearer(header)
    if token is None:
        return None
    board = Board.objects.filter(pk=device_id).first()
    if board is None or not board.token_hash or not board.in_inventory:
        return None
    return board if hmac.compare_digest(board.token_hash, token_hash(token)) else None


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


def count(name: str) -> None:
    """One more of a named count (refused heartbeats by reason), shared by every worker."""
    from django.db.models import F

    if not Counter.objects.filter(name=name).update(value=F("value") + 1):
        Counter.objects.get_or_create(name=name, defaults={"value": 1})
