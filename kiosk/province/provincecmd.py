"""kiosk province (SPEC 7.2): PROVINCE.toml read, Django set up and the database migrated,
then the work: `serve` starts gunicorn; every other verb is a management command of the
apps (fleet: boards, housekeeping; accounts: user_*, api_token; bulletins: rebuild_site,
import_cap, import_feed; updates: release_add, rollout), which `kiosk province manage`
reaches too."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from kiosk.core.errors import UsageError
from kiosk.province.provinceconf import ProvinceConfig, load_province_config

log = logging.getLogger(__name__)


def _setup(args: argparse.Namespace) -> ProvinceConfig:
    return setup(Path(args.config))


def setup(path: Path) -> ProvinceConfig:
    """PROVINCE.toml read, Django configured, and the database created or migrated: every
    command can be the first one a province runs."""
    config = load_province_config(path)
    from django.core.management import call_command
    from django.db.utils import DatabaseError

    from kiosk.province.server.setup import configure

    configure(config)
    try:
        call_command("migrate", interactive=False, verbosity=0)
    except DatabaseError as exc:
        raise UsageError(f"the database cannot be used: {exc}") from None
    return config


def _django(name: str, *argv: str) -> int:
    """A management command of the apps (kiosk/province/*/management/commands), with its
    CommandError turned into the CLI's contract: 2 for a mistake of the input, else 1."""
    from django.core.management import call_command
    from django.core.management.base import CommandError

    try:
        call_command(name, *argv)
    except CommandError as exc:
        if exc.returncode == 2:
            raise UsageError(str(exc)) from None
        print(f"error: {exc}", file=sys.stderr)
        return exc.returncode or 1
    return 0


def boards_command(args: argparse.Namespace) -> int:
    _setup(args)
    reissued = [a for device in args.reissue for a in ("--reissue", device)]
    return _django("boards", "--tokens-out", args.tokens_out, *reissued)


def user_add_command(args: argparse.Namespace) -> int:
    _setup(args)
    channels = [a for channel in args.channel for a in ("--channel", channel)]
    return _django("user_add", args.name, "--role", args.role, *channels)


def user_list_command(args: argparse.Namespace) -> int:
    _setup(args)
    return _django("user_list")


def user_unlock_command(args: argparse.Namespace) -> int:
    _setup(args)
    return _django("user_unlock", args.name)


def user_reset_password_command(args: argparse.Namespace) -> int:
    _setup(args)
    return _django("user_reset_password", args.name)


def user_disable_command(args: argparse.Namespace) -> int:
    _setup(args)
    return _django("user_disable", args.name)


def api_token_command(args: argparse.Namespace) -> int:
    _setup(args)
    return _django("api_token", args.name)


def rebuild_site_command(args: argparse.Namespace) -> int:
    _setup(args)
    return _django("rebuild_site", *(["--all"] if args.all else []))


def import_cap_command(args: argparse.Namespace) -> int:
    _setup(args)
    return _django("import_cap", args.source)


def import_feed_command(args: argparse.Namespace) -> int:
    _setup(args)
    return _django("import_feed", args.source, "--channel", args.channel)


def release_add_command(args: argparse.Namespace) -> int:
    _setup(args)
    return _django("release_add", str(Path(args.dir).resolve()))


def rollout_command(args: argparse.Namespace) -> int:
    _setup(args)
    if args.halt:
        how = ["--halt"]
    elif args.devices:
        how = ["--devices", *args.devices]
    else:
        how = ["--percent", str(args.percent)]
    return _django("rollout", args.version, *how)


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
    from kiosk.province.fleet.registry import register_boards

    register_boards(config)

    from kiosk.province.bulletins.publishing import PublishError, announce, rebuild_site

    try:  # a site lost or restored from an older copy is written again before boards ask
        rebuilt = rebuild_site(datetime.now().astimezone())
        if rebuilt.sequences or rebuilt.failed:
            log.warning("the site was behind the database: %s", rebuilt.detail())
            announce(rebuilt.sequences)
    except PublishError as exc:
        log.error("the site could not be rebuilt: %s", exc)
    from kiosk.province.updates.rollouts import RolloutRefused, restore_site

    try:
        written, signed = restore_site(datetime.now().astimezone())
        if written or signed:
            log.warning("the site's releases were behind the database: %d release documents "
                        "written, rollout signed again: %s", written, signed)  # fmt: skip
    except (RolloutRefused, OSError) as exc:
        log.error("the site's releases could not be written again: %s", exc)
    return serve_until_stopped(config)


def serve_until_stopped(config: ProvinceConfig) -> int:
    """gunicorn's workers, until SIGTERM or Ctrl+C (exit 0) or until gunicorn dies (1)."""
    from django.db import connections

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
    return _django("housekeeping")


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
