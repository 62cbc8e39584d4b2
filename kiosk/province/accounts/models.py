"""An account's role and channels (the account itself is Django's User), and the API
tokens of `kiosk fleet --server`."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Profile(models.Model):
    """An account's role, and the channels an author or approver may work on."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

    class Role(models.TextChoices):
        ADMIN = "admin", "Quản trị"
        APPROVER = "approver", "Phê duyệt"
        AUTHOR = "author", "Biên soạn"
        TECHNICIAN = "technician", "Kỹ thuật"

    role = models.CharField(max_length=16, choices=Role.choices)
    channels = models.JSONField(default=list)


class ApiToken(models.Model):
    """A token for `kiosk fleet ... --server`: only its SHA-256 is kept, as for boards."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True)
