"""The audit log: who did what to which bulletin, when, with the bulletin before and after.
Written in the same transaction as the change it records, so one never exists without the
other. It holds bulletins' fields and names, never a password, token or key."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from kiosk.province.bulletins.models import AuditEntry, Bulletin


def record(
    user,
    action: str,
    bulletin: Bulletin | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str = "",
) -> AuditEntry:
    return AuditEntry.objects.create(
        at=timezone.now(),
        user=user if user is not None and user.is_authenticated else None,
        username=user.username if user is not None and user.is_authenticated else "hệ thống",
        action=action,
        bulletin=bulletin,
        detail=detail[:500],
        before=before,
        after=after,
    )
