"""kiosk province: serve, housekeeping, boards, user, api-token, rebuild-site, import-cap,
import-feed, manage (SPEC 7.2)."""

from __future__ import annotations

import argparse
import csv
import getpass
import io
import logging
import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from kiosk.core.errors import UsageError
from kiosk.core.fsutil import atomic_write
from kiosk.core.inventory import load_inventory
from kiosk.province.provinceconf import ProvinceConfig, load_province_config

log = logging.getLogger(__name__)


def _setup(args: argparse.Namespace) -> ProvinceConfig:
    """PROVINCE.toml read, Django configured, and the database created or migrated: every
    command can be the first one a province runs."""
    config = load_province_config(Path(args.config))
    from django.core.management import call_command
    from django.db.utils import DatabaseError

    from kiosk.province.server.setup import configure

    configure(config)
    try:
        call_command("migrate", interactive=False, verbosity=0)
    except DatabaseError as exc:
        raise UsageError(f"the database cannot be used: {exc}") from None
    return config


def register_boards(config: ProvinceConfig) -> list:
    """The inventory's boards into the database (labels refreshed; those it no longer
    lists keep their plays but lose their token's use). Returns the boards without a token."""
    from django.db import transaction

    from kiosk.province.fleet.models import Board

    boards = load_inventory(config.inventory)
    listed = {b.device_id for b in boards}
    labels = ("unit_name", "unit_kind", "province_code", "commune_code", "district")
    with transaction.atomic():
        Board.objects.bulk_create(
            [
                Board(
                    device_id=b.device_id,
                    unit_name=b.unit_name,
                    unit_kind=b.unit_kind,
                    province_code=b.province_code,
                    commune_code=b.commune_code or "",
                    district=b.district or "",
                    health_url=b.health_url,
                    installed_on=b.installed_on,
                    in_inventory=True,
                )
                for b in boards
            ],
            batch_size=1000,
            update_conflicts=True,  # a board already known gets the inventory's labels
            unique_fields=["device_id"],
            update_fields=[*labels, "health_url", "installed_on", "in_inventory"],
        )
        Board.objects.exclude(device_id__in=listed).update(in_inventory=False)
    return list(Board.objects.filter(in_inventory=True, token_hash=""))


def boards_command(args: argparse.Namespace) -> int:
    config = _setup(args)
    out = Path(args.tokens_out)
    if out.exists():
        raise UsageError(f"{out} exists: keep its tokens safe, then move it away and run again")

    from kiosk.province.accounts.tokens import PREFIX_BOARD, new_token, token_hash
    from kiosk.province.fleet.models import Board

    unknown = sorted(set(args.reissue) - {b.device_id for b in load_inventory(config.inventory)})
    if unknown:
        raise UsageError(f"--reissue: not in the inventory: {', '.join(unknown)}")
    Board.objects.filter(device_id__in=args.reissue).update(token_hash="")
    waiting = register_boards(config)
    tokens = {b.device_id: new_token(PREFIX_BOARD) for b in waiting}
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["device_id", "token"])
    writer.writerows(sorted(tokens.items()))
    # The file first: a token the database knows but nobody has would strand a board.
    atomic_write(out, text.getvalue().encode(), mode=0o600)
    Board.objects.bulk_update(
        [Board(device_id=d, token_hash=token_hash(t)) for d, t in tokens.items()],
        ["token_hash"],
        batch_size=1000,
    )
    total = Board.objects.filter(in_inventory=True).count()
    print(f"{total} boards registered; {len(tokens)} new tokens written to {out} (mode 0600)")
    return 0


def _password(name: str) -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    first = getpass.getpass(f"Password for {name}: ")
    if getpass.getpass("Again: ") != first:
        raise UsageError("the two passwords differ")
    return first


def _new_password(user) -> None:
    """A password asked for (or read from stdin), checked by Django's rules, and set."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    password = _password(user.username)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise UsageError("the password is refused: " + " ".join(exc.messages)) from None
    user.set_password(password)


def user_add_command(args: argparse.Namespace) -> int:
    _setup(args)
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from kiosk.core.model import CHANNEL_NAME
    from kiosk.province.accounts.models import Profile

    for channel in args.channel:
        if not CHANNEL_NAME.match(channel):
            raise UsageError(f"--channel {channel!r} is not a channel name")
    if args.channel and args.role not in ("author", "approver"):
        raise UsageError("--channel limits an author or an approver, not a " + args.role)
    users = get_user_model()
    if users.objects.filter(username=args.name).exists():
        raise UsageError(f"the account {args.name!r} exists")
    user = users(username=args.name)
    try:
        users.username_validator(args.name)
    except ValidationError as exc:
        raise UsageError(f"{args.name!r}: {' '.join(exc.messages)}") from None
    _new_password(user)
    user.is_superuser = user.is_staff = args.role == "admin"
    with transaction.atomic():
        user.save()
        Profile.objects.create(user=user, role=args.role, channels=list(args.channel))
    print(f"account {args.name} ({args.role}) added")
    return 0


def _account(name: str):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=name).first()
    if user is None:
        raise UsageError(f"no account {name!r}")
    return user


def _audited(user, action: str, detail: str) -> None:
    from kiosk.province.bulletins import audit

    audit.record(None, action, detail=f"{user.username}: {detail}")


def user_list_command(args: argparse.Namespace) -> int:
    _setup(args)
    from axes.models import AccessAttempt
    from django.contrib.auth import get_user_model

    from kiosk.province.server.setup import LOGIN_FAILURES

    locked = {
        (a.username, a.ip_address)
        for a in AccessAttempt.objects.filter(failures_since_start__gte=LOGIN_FAILURES)
    }
    print("name\trole\tchannels\tactive\tlocked from")
    for user in get_user_model().objects.select_related("profile").order_by("username"):
        profile = getattr(user, "profile", None)
        role = "admin" if user.is_superuser else (profile.role if profile else "-")
        channels = " ".join(profile.channels) if profile and profile.channels else "*"
        where = " ".join(sorted(ip or "?" for name, ip in locked if name == user.username))
        print(f"{user.username}\t{role}\t{channels}\t{'yes' if user.is_active else 'no'}\t"
              f"{where or '-'}")  # fmt: skip
    return 0


def user_unlock_command(args: argparse.Namespace) -> int:
    """An admin lifts a lockout: the account's failed attempts from every address go."""
    _setup(args)
    from axes.utils import reset

    user = _account(args.name)
    gone = reset(username=user.username)
    _audited(user, "unlocked", f"{gone} failed logins cleared")
    print(f"account {user.username} unlocked ({gone} lockout records cleared)")
    return 0


def user_reset_password_command(args: argparse.Namespace) -> int:
    _setup(args)
    user = _account(args.name)
    _new_password(user)
    user.save(update_fields=["password"])
    _audited(user, "password_reset", "password set by an administrator")
    print(f"account {user.username}: new password set")
    return 0


def user_disable_command(args: argparse.Namespace) -> int:
    _setup(args)
    from kiosk.province.accounts.models import ApiToken

    user = _account(args.name)
    user.is_active = False
    user.save(update_fields=["is_active"])
    tokens, _ = ApiToken.objects.filter(user=user).delete()
    _audited(user, "disabled", f"{tokens} API tokens revoked")
    print(f"account {user.username} disabled; {tokens} API tokens revoked")
    return 0


def rebuild_site_command(args: argparse.Namespace) -> int:
    """The static site written again from the database (SPEC 7.4): each channel the site
    lacks or holds behind the database (every one with --all), at a sequence above
    anything issued, so boards take it."""
    _setup(args)
    from kiosk.province.bulletins.publishing import PublishError, announce, rebuild_site

    try:
        outcome = rebuild_site(datetime.now().astimezone(), every=args.all)
    except PublishError as exc:
        print(f"error: nothing rebuilt: {exc}", file=sys.stderr)
        return 1
    for channel, sequence in outcome.sequences.items():
        print(f"{channel}: sequence {sequence}")
    for channel in outcome.failed:
        print(f"error: {channel}: could not be written", file=sys.stderr)
    if not outcome.sequences and not outcome.failed:
        print("the site holds every channel as the database says; nothing to do")
    announce(outcome.sequences)
    return 1 if outcome.failed else 0


def api_token_command(args: argparse.Namespace) -> int:
    _setup(args)
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from kiosk.province.accounts.models import ApiToken
    from kiosk.province.accounts.tokens import PREFIX_API, new_token, token_hash

    user = get_user_model().objects.filter(username=args.name, is_active=True).first()
    if user is None:
        raise UsageError(f"no active account {args.name!r}")
    token = new_token(PREFIX_API)
    ApiToken.objects.create(user=user, token_hash=token_hash(token), created_at=timezone.now())
    print(token)
    return 0


def _imported(run) -> int:
    """Runs an import; its lines to stdout, its notes to stderr. Hostile or oversized XML
    is exit 2 (UsageError), work that failed exit 1."""
    from kiosk.province.bulletins.importing import ImportFailed
    from kiosk.province.bulletins.publishing import PublishError
    from kiosk.province.bulletins.xmlsafe import XmlRefused

    try:
        done = run(datetime.now().astimezone())
    except XmlRefused as exc:
        raise UsageError(f"nothing imported: {exc}") from None
    except (ImportFailed, PublishError) as exc:
        print(f"error: nothing imported: {exc}", file=sys.stderr)
        return 1
    for line in done.lines:
        print(line)
    for note in done.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def import_cap_command(args: argparse.Namespace) -> int:
    _setup(args)
    from kiosk.province.bulletins.importing import import_cap

    return _imported(lambda now: import_cap(args.source, now))


def import_feed_command(args: argparse.Namespace) -> int:
    _setup(args)
    from kiosk.core.model import CHANNEL_NAME
    from kiosk.province.bulletins.importing import import_feed

    if not CHANNEL_NAME.match(args.channel):
        raise UsageError(f"--channel {args.channel!r} is not a channel name")
    return _imported(lambda now: import_feed(args.source, args.channel, now))


def gunicorn_argv(config: ProvinceConfig) -> list[str]:
    host, port = config.listen
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "kiosk.province.server.wsgi:application",
        "--bind",
        f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "--workers",
        str(config.workers),
        "--timeout",
        "30",
        "--graceful-timeout",
        "10",
        "--max-requests",
        "20000",  # a leak in a worker cannot grow for years
        "--max-requests-jitter",
        "2000",
        "--limit-request-line",
        "4094",
        "--limit-request-fields",
        "50",
        "--no-control-socket",
        "--preload",  # Django loaded once: a worker killed or recycled is back in milliseconds
    ]


def serve_command(args: argparse.Namespace) -> int:
    """Migrate, register the inventory's boards, write the site again where it is behind
    the database, then serve with gunicorn's workers until stopped. The minute's chores are
    kiosk-province-housekeeping.timer's (`kiosk province housekeeping`)."""
    config = _setup(args)
    register_boards(config)
    from django.db import connections

    from kiosk.province.bulletins.publishing import PublishError, announce, rebuild_site

    try:  # a site lost or restored from an older copy is written again before boards ask
        rebuilt = rebuild_site(datetime.now().astimezone())
        if rebuilt.sequences or rebuilt.failed:
            log.warning("the site was behind the database: %s", rebuilt.detail())
            announce(rebuilt.sequences)
    except PublishError as exc:
        log.error("the site could not be rebuilt: %s", exc)
    from kiosk.province.server.setup import CONFIG_ENV

    connections.close_all()
    env = {**os.environ, CONFIG_ENV: str(config.path)}
    server = subprocess.Popen(gunicorn_argv(config), env=env)
    stopping = []

    def on_signal(signum: int, _frame: object) -> None:
        stopping.append(signum)
        server.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    host, port = config.listen
    log.info("the province server listens on %s:%d", host, port)
    code = server.wait()
    if stopping:
        return 0
    log.error("gunicorn stopped with exit code %s", code)
    return 1


def housekeeping_command(args: argparse.Namespace) -> int:
    """The minute's chores, once: kiosk-province-housekeeping.timer runs this each minute."""
    _setup(args)
    from django.core.management import call_command

    call_command("housekeeping")
    return 0


def manage_command(args: argparse.Namespace) -> int:
    """Django's own command line (`check --deploy`, `shell`, `dbshell`, `showmigrations`...)
    on the settings module, with PROVINCE.toml from --config."""
    from django.core.management import execute_from_command_line

    from kiosk.province.server.setup import CONFIG_ENV

    config = load_province_config(Path(args.config))  # its problems, as every command's
    os.environ[CONFIG_ENV] = str(config.path)
    os.environ["DJANGO_SETTINGS_MODULE"] = "kiosk.province.server.settings"
    try:
        execute_from_command_line(["kiosk province manage", *args.django_args])
    except SystemExit as exc:  # Django's commands end this way, with their own code
        return exc.code if isinstance(exc.code, int) else 1
    return 0
