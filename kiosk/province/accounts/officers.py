"""Accounts as an administrator keeps them from the shell: a password asked twice (or read
from standard input, for scripts) and checked by Django's rules, an account found by name.
The changes themselves, each in the audit log, are accountwork's (the admin page's too)."""

from __future__ import annotations

import getpass
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation


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


def ask_new_password(user) -> str:
    """A password asked for (or read from stdin) and checked by Django's rules; the shell's
    messages are English, as every developer CLI message is."""
    password = _password(user.username)
    try:
        with translation.override("en"):
            validate_password(password, user)
    except ValidationError as exc:
        with translation.override("en"):
            raise usage("the password is refused: " + " ".join(exc.messages)) from None
    return password


def account(name: str, active_only: bool = False):
    found = get_user_model().objects.filter(username=name)
    user = (found.filter(is_active=True) if active_only else found).first()
    if user is None:
        raise usage(f"no {'active ' if active_only else ''}account {name!r}")
    return user


class OneAccountCommand(BaseCommand):
    """A command on one account named on the command line: `change` does the work on the
    account found (or the command ends with exit 2) and returns the line to print."""

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")

    def handle(self, *args: object, name: str, **_: object) -> None:
        self.stdout.write(self.change(account(name)))

    def change(self, user) -> str:
        raise NotImplementedError
