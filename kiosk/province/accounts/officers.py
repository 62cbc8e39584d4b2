"""Accounts as an administrator keeps them from the shell: a password asked twice (or read
from standard input, for scripts) and checked by Django's rules, an account found by name,
each change in the audit log."""

from __future__ import annotations

import getpass
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from kiosk.province.bulletins import audit


def usage(message: str) -> CommandError:
    """A mistake of the one who typed the command: exit 2."""
    return CommandError(message, returncode=2)


def _password(name: str) -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    first = getpass.getpass(f"Password for {name}: ")
    if getpass.getpass("Again: ") != first:
        raise usage("the two passwords differ")
    return first


def set_new_password(user) -> None:
    """A password asked for (or read from stdin), checked by Django's rules, and set."""
    password = _password(user.username)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise usage("the password is refused: " + " ".join(exc.messages)) from None
    user.set_password(password)


def account(name: str, active_only: bool = False):
    found = get_user_model().objects.filter(username=name)
    user = (found.filter(is_active=True) if active_only else found).first()
    if user is None:
        raise usage(f"no {'active ' if active_only else ''}account {name!r}")
    return user


def audited(user, action: str, detail: str) -> None:
    audit.record(None, action, detail=f"{user.username}: {detail}")


class OneAccountCommand(BaseCommand):
    """A command on one account named on the command line: `change` does the work on the
    account found (or the command ends with exit 2) and returns the line to print."""

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")

    def handle(self, *args: object, name: str, **_: object) -> None:
        self.stdout.write(self.change(account(name)))

    def change(self, user) -> str:
        raise NotImplementedError
