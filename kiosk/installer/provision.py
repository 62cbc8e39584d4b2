"""`kiosk provision`: one board's files onto its boot partition, from a kiosk.toml or from a
row of the province's CSV of boards.

Everything is read and validated first; only then is anything written, the kiosk.toml
last (its arrival is what the board's first boot acts on). A bad input leaves the card or
image exactly as it was.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from kiosk.core.bootfiles import (
    BOARD_TOKEN,
    BOOT_CONFIG,
    BOOT_TOKEN,
    BOOT_WIFI,
    REJECTED_SUFFIX,
    BootFileError,
    Wifi,
    check_wifi,
    edit_cmdline,
    edit_config_txt,
    kernel_params,
    parse_token,
    parse_wifi,
    render_wifi,
    toml_string,
)
from kiosk.core.config import Config, load_config, parse_config_text
from kiosk.core.errors import UsageError
from kiosk.core.textrules import shown
from kiosk.installer.bootpart import BootError, BootPartition, FolderBoot, open_boot

# The CSV of boards: one row a board. Columns as kiosk.toml's keys; lists (channels,
# public_keys, on_hours) separated by spaces, commas or semicolons.
CSV_REQUIRED = (
    "device_id",
    "unit_name",
    "unit_kind",
    "province_code",
    "channels",
    "source_url",
    "public_keys",
)
CSV_OPTIONAL = (
    "name",
    "commune_code",
    "district",
    "timezone",
    "size",
    "rotation",
    "on_hours",
    "power",
    "wifi_ssid",
    "wifi_password",
    "wifi_country",
    "wifi_hidden",
)
_DEVICE_KEYS = (
    "id",
    "name",
    "unit_name",
    "unit_kind",
    "province_code",
    "commune_code",
    "district",
    "timezone",
)
_LIST = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class BoardFiles:
    """What one board gets, all of it validated."""

    config: Config
    config_text: bytes
    token: str | None
    wifi: Wifi | None


def _split(cell: str) -> list[str]:
    return [part for part in _LIST.split(cell.strip()) if part]


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(toml_string(i) for i in items) + "]"


def csv_row_toml(row: dict[str, str], source: str, with_token: bool) -> str:
    """The kiosk.toml of one CSV row (cells already known to be in the right columns)."""
    device = {"id": row["device_id"], **row}
    lines = [f"# Written by kiosk provision from {Path(source).name}", "", "[device]"]
    for key in _DEVICE_KEYS:
        if device.get(key, "").strip():
            lines.append(f"{key} = {toml_string(device[key].strip())}")
    lines += [
        "",
        "[source]",
        f"url = {toml_string(row['source_url'].strip())}",
        f"channels = {_toml_list(_split(row['channels']))}",
        f"public_keys = {_toml_list(_split(row['public_keys']))}",
    ]
    if with_token:
        lines.append(f"token_file = {toml_string(BOARD_TOKEN)}")
    display = []
    for key in ("size", "power"):
        if row.get(key, "").strip():
            display.append(f"{key} = {toml_string(row[key].strip())}")
    if row.get("rotation", "").strip():
        rotation = row["rotation"].strip()
        display.append(f"rotation = {rotation if rotation.isdigit() else toml_string(rotation)}")
    if row.get("on_hours", "").strip():
        display.append(f"on_hours = {_toml_list(_split(row['on_hours']))}")
    if display:
        lines += ["", "[display]", *display]
    return "\n".join(lines) + "\n"


def _csv_wifi(row: dict[str, str], where: str) -> Wifi | None:
    ssid = row.get("wifi_ssid", "").strip()
    if not ssid:
        if row.get("wifi_password", "").strip():
            raise UsageError(f"{where}: wifi_password is given but wifi_ssid is empty")
        return None
    hidden = row.get("wifi_hidden", "").strip().lower()
    return check_wifi(
        ssid,
        row.get("wifi_password", ""),
        row.get("wifi_country", "").strip() or "VN",
        {"": False, "no": False, "false": False, "yes": True, "true": True}.get(hidden, hidden),
        where,
    )


def read_csv_row(path: Path, device: str) -> tuple[dict[str, str], str]:
    """The row of one device, and how to name it in messages."""
    try:
        text = path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot be read as UTF-8 text: {exc}") from None
    try:
        return _find_row(path, csv.DictReader(text.splitlines()), device)
    except csv.Error as exc:  # a cell past the csv module's limit (128 KiB), a stray NUL
        raise UsageError(f"{path}: not a CSV file this tool can read: {exc}") from None


def _find_row(path: Path, reader: csv.DictReader, device: str) -> tuple[dict[str, str], str]:
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in CSV_REQUIRED if c not in columns]
    unknown = [c for c in columns if c not in CSV_REQUIRED + CSV_OPTIONAL]
    if missing or unknown:
        what = [f"missing column(s) {', '.join(missing)}"] if missing else []
        what += [f"unknown column(s) {', '.join(unknown)}"] if unknown else []
        raise UsageError(f"{path}: {'; '.join(what)}")
    found = []
    for number, raw in enumerate(reader, start=2):
        row = {k.strip(): (v or "") for k, v in raw.items() if k is not None}
        if row.get("device_id", "").strip() == device:
            found.append((row, f"{path} line {number} (device {device})"))
    if not found:
        raise UsageError(f"{path}: no row with device_id {shown(device)}")
    if len(found) > 1:
        raise UsageError(f"{path}: device_id {shown(device)} is on more than one row")
    return found[0]


def from_csv(path: Path, device: str, token: str | None, wifi: Wifi | None) -> BoardFiles:
    row, where = read_csv_row(path, device)
    text = csv_row_toml(row, str(path), token is not None)
    config = parse_config_text(text.encode(), where)
    row_wifi = _csv_wifi(row, where)
    if wifi and row_wifi:
        raise UsageError(f"{where}: has Wi-Fi columns and --wifi was given; use one")
    return BoardFiles(config, text.encode(), token, wifi or row_wifi)


def from_toml(path: Path, token: str | None, wifi: Wifi | None) -> BoardFiles:
    config = load_config(path)
    if token is not None and str(config.source.token_file) != BOARD_TOKEN:
        raise UsageError(
            f"{path}: [source] token_file: must be {BOARD_TOKEN!r} when --token-file is "
            f"given (the board keeps its token there), got "
            f"{str(config.source.token_file) if config.source.token_file else 'nothing'}"
        )
    return BoardFiles(config, path.read_bytes(), token, wifi)


def firmware_edits(
    boot: BootPartition, size: tuple[int, int] | None, wifi_country: str | None
) -> list[tuple[str, bytes]]:
    """cmdline.txt and config.txt as the board needs them, where they need a change.
    With no screen size (auto), a video= mode already there is kept."""
    edits = []
    cmdline = boot.read("cmdline.txt")
    if cmdline is not None:
        old = cmdline.decode("utf-8", "replace")
        new = edit_cmdline(old, kernel_params(size, wifi_country), keep_video=size is None)
        if new != old:
            edits.append(("cmdline.txt", new.encode()))
    config_txt = boot.read("config.txt")
    if config_txt is not None:
        old = config_txt.decode("utf-8", "replace")
        new = edit_config_txt(old)
        if new != old:
            edits.append(("config.txt", new.encode()))
    return edits


def plan_writes(boot: BootPartition, files: BoardFiles) -> list[tuple[str, bytes | None]]:
    """(name, bytes to write, or None to remove), in order: secrets and firmware files
    first, kiosk.toml last."""
    writes: list[tuple[str, bytes | None]] = []
    if files.token is not None:
        writes.append((BOOT_TOKEN, files.token.encode() + b"\n"))
    if files.wifi is not None:
        writes.append((BOOT_WIFI, render_wifi(files.wifi)))
    writes += firmware_edits(
        boot, files.config.display.size, files.wifi.country if files.wifi else None
    )
    if boot.read(BOOT_CONFIG + REJECTED_SUFFIX) is not None:
        writes.append((BOOT_CONFIG + REJECTED_SUFFIX, None))
    writes.append((BOOT_CONFIG, files.config_text))
    return writes


def _read_secret(path: str, parse, flag: str):
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{flag}: {path}: cannot be read: {exc.strerror}") from None
    try:
        return parse(data, path)
    except BootFileError as exc:
        raise UsageError(str(exc)) from None


def provision_command(args: argparse.Namespace) -> int:
    token = _read_secret(args.token_file, parse_token, "--token-file") if args.token_file else None
    wifi = _read_secret(args.wifi, parse_wifi, "--wifi") if args.wifi else None
    try:
        if args.csv:
            if not args.device:
                raise UsageError("--csv needs --device ID: the row of the board to provision")
            files = from_csv(Path(args.csv), args.device, token, wifi)
        else:
            files = from_toml(Path(args.config), token, wifi)
        boot = open_boot(Path(args.boot))
        writes = plan_writes(boot, files)
    except (BootError, BootFileError) as exc:
        raise UsageError(str(exc)) from None
    try:
        for name, data in writes:
            if data is None:
                boot.remove(name)
            else:
                boot.write(name, data)
    except (BootError, OSError) as exc:
        print(f"error: writing to {boot.where} failed: {exc}", file=sys.stderr)
        return 1
    device = files.config.device
    print(
        f"{device.id} ({device.unit_name}): wrote {', '.join(n for n, d in writes if d)} "
        f"to {boot.where}"
    )
    return 0


def prepare_board_boot(folder: Path) -> list[str]:
    """install.sh's edits of a board's own boot partition (no screen size known yet, so a
    video= mode already there is kept); the names of the files changed."""
    boot = FolderBoot(folder)
    edits = firmware_edits(boot, None, None)
    for name, data in edits:
        boot.write(name, data)
    return [name for name, _ in edits]


if __name__ == "__main__":  # provisioning/install.sh: python -m kiosk.installer.provision BOOT_DIR
    target = Path(sys.argv[1])
    if not (target / "cmdline.txt").is_file():
        print(f"{target}: no cmdline.txt (not a Raspberry Pi?): boot files left alone")
    else:
        print(f"{target}: " + (", ".join(prepare_board_boot(target)) or "nothing") + " changed")
