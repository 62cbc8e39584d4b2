"""The command line of SPEC 4. Exit codes: 0 done, 1 the work failed, 2 bad usage or input."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from kiosk import __version__
from kiosk.core.config import ConfigError, load_config, push_url
from kiosk.core.errors import EXIT_USAGE, UsageError


def _check_config(args: argparse.Namespace) -> int:
    cfg = load_config(Path(args.path))
    print(
        f"{args.path}: ok: device {cfg.device.id} ({cfg.device.unit_name}), "
        f"channels {', '.join(cfg.source.channels)}, {len(cfg.source.public_keys)} key(s)"
    )
    return 0


def _later(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    """A command whose module is imported only when it runs: `kiosk check-config` on an
    installer's laptop need not load pygame, and `--help` stays fast."""

    def command(args: argparse.Namespace) -> int:
        return getattr(importlib.import_module(module), name)(args)

    return command


def _whole(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not text.isdigit() or int(text) < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number {minimum} or more")
        return int(text)

    return parse


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage from 0 to 100")
    return value


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 0 to 600")
    return value


def _mqtt_url(text: str) -> str:
    try:
        url = push_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not url:
        raise argparse.ArgumentTypeError("give mqtt://host:port or mqtts://host:port")
    return url


def _fleet_parser(sub: argparse._SubParsersAction) -> None:
    fleet = sub.add_parser("fleet", help="many boards at once, from the province's inventory")
    verbs = fleet.add_subparsers(dest="verb", required=True, metavar="VERB")
    asking = argparse.ArgumentParser(add_help=False)
    asking.add_argument("inventory", metavar="INVENTORY.csv", help="the province's boards")
    asking.add_argument(
        "--timeout",
        type=_positive,
        default=5.0,
        metavar="S",
        help="seconds for each board (default 5)",
    )
    asking.add_argument(
        "--parallel",
        type=_whole(1),
        default=32,
        metavar="N",
        help="boards asked at once (default 32)",
    )
    asking.add_argument(
        "--server",
        metavar="URL",
        help="the province server: boards it hears from count by their heartbeats (SPEC 7)",
    )
    asking.add_argument(
        "--api-token-file", metavar="F", help="the API token for --server (a file, mode 0600)"
    )

    status = verbs.add_parser("status", parents=[asking], help="every board's health, as a table")
    status.add_argument("--out", metavar="DIR", help="also write DIR/status.csv and status.json")
    status.set_defaults(func=_later("kiosk.technician.fleetcmd", "status_command"))

    report = verbs.add_parser(
        "report", parents=[asking], help="the yearly report: boards per area against targets"
    )
    report.add_argument("--out", required=True, metavar="DIR", help="report.csv, report.html")
    report.add_argument("--targets", metavar="TARGETS.toml", help="the targets in force")
    report.add_argument(
        "--min-wards-towns",
        type=_whole(0),
        metavar="N",
        help="per area: wards and towns with a board (default 1)",
    )
    report.add_argument(
        "--min-communes",
        type=_whole(0),
        metavar="N",
        help="per area: communes with a board (default 2)",
    )
    report.add_argument(
        "--wards-towns-percent",
        type=_percent,
        metavar="P",
        help="per area: percent of its wards and towns (needs the totals of --targets)",
    )
    report.add_argument(
        "--communes-percent",
        type=_percent,
        metavar="P",
        help="per area: percent of its communes (needs the totals of --targets)",
    )
    report.add_argument(
        "--basis",
        choices=("installed", "online"),
        help="count boards installed (default) or only those that answer",
    )
    report.add_argument("--as-of", metavar="DATE", help="count boards installed by this day")
    report.set_defaults(func=_later("kiosk.technician.fleetcmd", "report_command"))

    prom = verbs.add_parser("prometheus", help="Prometheus file_sd targets of every board")
    prom.add_argument("inventory", metavar="INVENTORY.csv", help="the province's boards")
    prom.add_argument("--out", metavar="FILE", help="the targets file (default: stdout)")
    prom.set_defaults(func=_later("kiosk.technician.fleetcmd", "prometheus_command"))


def _province_parser(sub: argparse._SubParsersAction) -> None:
    province = sub.add_parser("province", help="the province server (SPEC 7)")
    verbs = province.add_subparsers(dest="verb", required=True, metavar="VERB")
    config = argparse.ArgumentParser(add_help=False)
    config.add_argument("--config", required=True, metavar="PROVINCE.toml")

    def later(name: str) -> Callable[[argparse.Namespace], int]:
        return _later("kiosk.province.provincecmd", name)

    serve = verbs.add_parser(
        "serve", parents=[config], help="create or migrate the database, then serve"
    )
    serve.set_defaults(func=later("serve_command"))
    trial = verbs.add_parser(
        "try",
        help="the province on this machine: server, signed site and (--board) a board, "
        "on loopback, no setup",
    )
    trial.add_argument(
        "--dir", help="the trial's folder (default ~/.cache/bangtin-kiosk/province), kept"
    )
    trial.add_argument("--port", type=int, default=8700, help="the console (default 8700)")
    trial.add_argument("--site-port", type=int, default=8765, help="the signed site (default 8765)")
    trial.add_argument(
        "--board-port", type=int, default=8080, help="the board's status page (default 8080)"
    )
    trial.add_argument("--board", action="store_true", help="run a board against it too")
    trial.add_argument("--headless", action="store_true", help="the board draws off-screen")
    trial.set_defaults(func=_later("kiosk.province.trial", "try_command"))
    keep = verbs.add_parser(
        "housekeeping",
        parents=[config],
        help="the minute's chores once: boards gone dark, old plays folded, channels re-signed",
    )
    keep.set_defaults(func=later("housekeeping_command"))
    boards = verbs.add_parser(
        "boards", parents=[config], help="register the inventory's boards; new tokens to a CSV"
    )
    boards.add_argument("--tokens-out", required=True, metavar="TOKENS.csv")
    boards.add_argument(
        "--reissue",
        action="append",
        default=[],
        metavar="DEVICE_ID",
        help="a new token for this board; its old one stops working (a lost or leaked token)",
    )
    boards.set_defaults(func=later("boards_command"))
    user = verbs.add_parser("user", help="accounts").add_subparsers(
        dest="user_verb", required=True, metavar="VERB"
    )
    add = user.add_parser(
        "add", parents=[config], help="an account; the password is asked, or read from stdin"
    )
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=("admin", "approver", "author", "technician"))
    add.add_argument("--channel", action="append", default=[], metavar="C")
    add.set_defaults(func=later("user_add_command"))
    listing = user.add_parser("list", parents=[config], help="the accounts, their roles and locks")
    listing.set_defaults(func=later("user_list_command"))
    for verb, what in (
        ("unlock", "lift a login lockout (every address)"),
        ("reset-password", "a new password, asked as add does"),
        ("disable", "nobody logs in with it any more; its history stays"),
    ):
        one = user.add_parser(verb, parents=[config], help=what)
        one.add_argument("name")
        one.set_defaults(func=later("user_" + verb.replace("-", "_") + "_command"))
    token = verbs.add_parser(
        "api-token", parents=[config], help="a new API token for an account (kiosk fleet --server)"
    )
    token.add_argument("name")
    token.set_defaults(func=later("api_token_command"))
    rebuild = verbs.add_parser(
        "rebuild-site",
        parents=[config],
        help="write the static site again from the database (after a lost or restored disk)",
    )
    rebuild.add_argument(
        "--all", action="store_true", help="every channel, not only those the site lacks"
    )
    rebuild.set_defaults(func=later("rebuild_site_command"))
    cap = verbs.add_parser(
        "import-cap", parents=[config], help="a CAP 1.2 alert into an emergency for approval"
    )
    cap.add_argument("source", metavar="FILE_OR_URL")
    cap.set_defaults(func=later("import_cap_command"))
    feed = verbs.add_parser(
        "import-feed", parents=[config], help="an RSS or Atom feed into drafts for approval"
    )
    feed.add_argument("source", metavar="URL")
    feed.add_argument("--channel", required=True, metavar="C")
    feed.set_defaults(func=later("import_feed_command"))
    rel = verbs.add_parser("release", help="software releases (SPEC 8)").add_subparsers(
        dest="release_verb", required=True, metavar="VERB"
    )
    rel_add = rel.add_parser(
        "add", parents=[config], help="take a release `kiosk release build` wrote into the site"
    )
    rel_add.add_argument("dir", metavar="DIR")
    rel_add.set_defaults(func=later("release_add_command"))
    rollout = verbs.add_parser(
        "rollout", parents=[config], help="sign which boards take a release (SPEC 8.2)"
    )
    rollout.add_argument("version", metavar="VERSION")
    how = rollout.add_mutually_exclusive_group(required=True)
    how.add_argument("--devices", nargs="+", metavar="ID", help="these boards first (canaries)")
    how.add_argument("--percent", type=int, metavar="P", help="this share of the fleet, 0 to 100")
    how.add_argument("--halt", action="store_true", help="boards not started do not start")
    rollout.set_defaults(func=later("rollout_command"))
    manage = verbs.add_parser(
        "manage",
        parents=[config],
        help="a Django management command with this PROVINCE.toml (check --deploy, shell, ...)",
    )
    manage.add_argument("django_args", nargs=argparse.REMAINDER, metavar="ARGS")
    manage.set_defaults(func=later("manage_command"))


def _release_parser(sub: argparse._SubParsersAction) -> None:
    release = sub.add_parser("release", help="software releases for the boards (SPEC 8)")
    verbs = release.add_subparsers(dest="verb", required=True, metavar="VERB")
    build = verbs.add_parser(
        "build", help="the kiosk's wheel and its dependencies' for the boards, signed"
    )
    build.add_argument("--key", required=True, metavar="RELEASE_KEY", help="from kiosk keygen")
    build.add_argument("--out", required=True, metavar="DIR", help="assets/ and releases/ here")
    build.add_argument("--source", metavar="TREE", help="the project's tree (default: .)")
    build.add_argument(
        "--platform",
        action="append",
        metavar="TAG",
        help="a pip platform tag, as many as needed (default: Raspberry Pi OS Bookworm's, "
        "manylinux2014_aarch64 up to manylinux_2_36_aarch64)",
    )
    build.add_argument("--python", metavar="X.Y", help="the boards' Python (default 3.11)")
    build.set_defaults(func=_later("kiosk.builder.releasebuild", "release_build_command"))

    update = sub.add_parser(
        "update", help="(on the board) take the release the rollout names for this board"
    )
    how = update.add_mutually_exclusive_group(required=True)
    how.add_argument("--once", action="store_true", help="one look at the rollout, then exit")
    how.add_argument(
        "--service", action="store_true", help="(kiosk-update.service) look, switch, judge trials"
    )
    how.add_argument(
        "--recover",
        action="store_true",
        help="(at boot, before the kiosk) finish or undo a switch a power cut interrupted",
    )
    update.add_argument(
        "--config", help="kiosk.toml (default: /etc/kiosk/kiosk.toml; --recover needs none)"
    )
    update.add_argument(
        "--dir", help="with --recover: the releases' folder (default: [update] dir, /opt/kiosk)"
    )
    update.add_argument(
        "--apply", action="store_true", help="then switch to it and start its trial (as root)"
    )
    update.set_defaults(func=_later("kiosk.board.updatecmd", "update_command"))
    os_update = sub.add_parser(
        "os-update",
        help="(on the board, kiosk-os-update.timer) Debian security updates in the off hours",
    )
    os_update.add_argument("--config", help="kiosk.toml (default: /etc/kiosk/kiosk.toml)")
    os_update.set_defaults(func=_later("kiosk.board.osupdate", "os_update_command"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk", description="Public e-bulletin board kiosk (bảng tin điện tử công cộng)."
    )
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="the appliance: sync the channels and show them")
    run.add_argument("--config", help="kiosk.toml (default: /etc/kiosk/kiosk.toml)")
    run.add_argument("--headless", action="store_true", help="no window: draw off-screen")
    run.add_argument(
        "--playlists",
        help="play authoring playlists (*.toml) from this folder instead of syncing "
        "(for authors and developers; without --config, on the embedded demo board)",
    )
    run.add_argument(
        "--snapshot",
        help="write the picture on screen to this PNG whenever the slide changes "
        "(to see a headless kiosk)",
    )
    run.add_argument("--size", help="override the screen size, WxH")
    run.add_argument("--rotation", type=int, help="override the rotation (0, 90, 180, 270)")
    run.set_defaults(func=_later("kiosk.board.app", "run_command"))

    render = sub.add_parser("render", help="preview an item JSON or a playlist TOML as PNG")
    render.add_argument("input", help="an item (.json) or a playlist (.toml)")
    render.add_argument(
        "--out",
        required=True,
        help="a PNG file (for a playlist: one contact sheet), or a folder for one PNG a slide",
    )
    render.add_argument("--size", help="screen size WxH (default: the config's, or 1920x1080)")
    render.add_argument("--rotation", type=int, help="0, 90, 180 or 270 (default: the config's)")
    render.add_argument("--at", help="the clock for the header and schedule, RFC 3339")
    render.add_argument("--config", help="kiosk.toml for the unit name, time zone and screen")
    render.set_defaults(func=_later("kiosk.render.preview", "render_command"))

    demo = sub.add_parser(
        "demo",
        help="publish playlists/ with the demo key to a source on loopback and run the kiosk "
        "against it",
    )
    demo.add_argument("--headless", action="store_true", help="no window: draw off-screen")
    demo.add_argument("--port", type=int, default=8765, help="the loopback source's port")
    demo.add_argument("--playlists", help="the playlists to publish (default: playlists/)")
    demo.add_argument("--snapshot", help="write the picture to this PNG at each slide change")
    demo.add_argument("--size", help="the screen size, WxH (default 1920x1080)")
    demo.set_defaults(func=_later("kiosk.demo.board", "demo_command"))

    sync = sub.add_parser("sync", help="sync every channel from the source once")
    sync.add_argument("--once", action="store_true", required=True, help="one sync, then exit")
    sync.add_argument("--config", help="kiosk.toml (default: /etc/kiosk/kiosk.toml)")
    sync.set_defaults(func=_later("kiosk.board.app", "sync_command"))

    keygen = sub.add_parser("keygen", help="make an Ed25519 signing key for kiosk publish")
    made = keygen.add_mutually_exclusive_group(required=True)
    made.add_argument("--out", help="the private key file to create (0600)")
    made.add_argument(
        "--public-of",
        metavar="KEYFILE",
        help="print the ed25519: public key of an existing key again, for kiosk.toml",
    )
    keygen.set_defaults(func=_later("kiosk.province.publish", "keygen_command"))

    publish = sub.add_parser("publish", help="sign playlists into a static site for the boards")
    publish.add_argument("playlists", nargs="+", metavar="PLAYLIST.toml")
    publish.add_argument("--key", required=True, help="the signing key of kiosk keygen")
    publish.add_argument("--out", required=True, help="the site folder (SPEC 1.1 layout)")
    publish.add_argument(
        "--sequence", type=int, help="the sequence number (default: one past the site's)"
    )
    publish.add_argument(
        "--expires-days", type=float, default=14, help="days until expiry (default 14)"
    )
    publish.add_argument(
        "--notify",
        type=_mqtt_url,
        metavar="mqtt://HOST:PORT",
        help="announce each new sequence on this MQTT broker (push, SPEC 1.7)",
    )
    publish.set_defaults(func=_later("kiosk.province.publish", "publish_command"))

    status = sub.add_parser("status", help="the health of one or many boards, as a table")
    status.add_argument("urls", nargs="+", metavar="URL", help="a board's health address")
    status.add_argument("--json", action="store_true", help="print the documents as JSON")
    status.set_defaults(func=_later("kiosk.technician.statuscmd", "status_command"))

    _fleet_parser(sub)
    _province_parser(sub)
    _release_parser(sub)

    provision = sub.add_parser(
        "provision", help="write a board's kiosk.toml, token and Wi-Fi to its boot partition"
    )
    provision.add_argument(
        "--boot",
        required=True,
        metavar="TARGET",
        help="the mounted boot partition (bootfs), or a Raspberry Pi OS .img file",
    )
    source = provision.add_mutually_exclusive_group(required=True)
    source.add_argument("--config", metavar="KIOSK.toml", help="the board's kiosk.toml")
    source.add_argument("--csv", metavar="DEVICES.csv", help="the province's CSV of boards")
    provision.add_argument("--device", metavar="ID", help="with --csv: the board's device_id")
    provision.add_argument("--token-file", metavar="F", help="the board's device token")
    provision.add_argument(
        "--wifi", metavar="WIFI.toml", help="Wi-Fi: ssid, password, country (default VN)"
    )
    provision.set_defaults(func=_later("kiosk.installer.provision", "provision_command"))

    firstboot = sub.add_parser(
        "firstboot", help="(on the board, as root) import the boot partition's kiosk files"
    )
    firstboot.add_argument("--root", default="/", help="the system to configure (default /)")
    firstboot.add_argument("--boot", help="the boot partition (default: /boot/firmware)")
    firstboot.set_defaults(func=_later("kiosk.board.firstboot", "firstboot_command"))

    setup = sub.add_parser(
        "setup-screen", help="(on the board) what the screen says while it has no configuration"
    )
    setup.add_argument("--config", help="where kiosk.toml belongs (default /etc/kiosk/kiosk.toml)")
    setup.add_argument("--headless", action="store_true", help="no window: draw off-screen")
    setup.add_argument("--snapshot", help="also write the picture to this PNG")
    setup.add_argument("--once", action="store_true", help="draw once and exit")
    setup.set_defaults(func=_later("kiosk.board.setupscreen", "setup_screen_command"))

    selfcheck = sub.add_parser(
        "selfcheck",
        help="(the updater runs it in a new release) read the configuration and cache, draw "
        "one frame off screen, write nothing",
    )
    selfcheck.add_argument("--config", help="kiosk.toml (default: /etc/kiosk/kiosk.toml)")
    selfcheck.set_defaults(func=_later("kiosk.board.selfcheck", "selfcheck_command"))

    check = sub.add_parser("check-config", help="validate a kiosk.toml")
    check.add_argument("path")
    check.set_defaults(func=_check_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # urllib3 logs a reply's malformed headers with a traceback at WARNING: a hostile server
    # could fill the journal with them. The request's own outcome is what we report.
    logging.getLogger("urllib3.connection").setLevel(logging.ERROR)
    try:
        return args.func(args)
    except (ConfigError, UsageError) as exc:
        print(f"error: {exc}" if isinstance(exc, UsageError) else str(exc), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
