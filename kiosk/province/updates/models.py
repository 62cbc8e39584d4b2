"""What the province keeps of software updates (SPEC 8): the releases it took into its site,
and the rollouts it signed. The database is the truth: the site's releases/rollout.json is
written from the last Rollout row, and its sequence never goes back (SPEC 7.4)."""

from __future__ import annotations

from django.db import models


class Release(models.Model):
    """A release that `kiosk province release add` verified against a release key and copied
    into the site. Its signed document is kept, so a lost site gets it back (its wheels come
    back with `release add` of the builder's folder)."""

    version = models.CharField(max_length=64, primary_key=True)  # as the release writes it
    issued_at = models.DateTimeField()
    added_at = models.DateTimeField()
    added_by = models.CharField(max_length=150)
    requires_python = models.CharField(max_length=200)
    wheels = models.PositiveIntegerField()
    size = models.PositiveBigIntegerField()  # the bytes of all its wheels
    envelope = models.BinaryField()  # S/releases/<version>.json as the builder signed it


class Rollout(models.Model):
    """One signed rollout document (SPEC 8.2). A row per officer's (or the halt's) decision;
    signing the same decision again before it expires takes a new sequence in the same row."""

    sequence = models.PositiveBigIntegerField(unique=True)
    version = models.CharField(max_length=64, blank=True)  # "": halted (null in the document)
    devices = models.JSONField(default=list)  # the canary boards
    percent = models.PositiveSmallIntegerField(default=0)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    decided_at = models.DateTimeField()
    decided_by = models.CharField(max_length=150)  # an account, or "hệ thống" for the halt
    halted_version = models.CharField(max_length=64, blank=True)  # what a halt stopped
    halt_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-sequence"]

    def payload(self) -> dict[str, object]:
        return {
            "format": 1,
            "sequence": self.sequence,
            "issued_at": self.issued_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "version": self.version or None,
            "devices": list(self.devices),
            "percent": self.percent,
        }
