"""The files an installer leaves on a board's boot partition, and the two firmware files we
touch there. Pure text in, text out: `kiosk provision` (on a laptop) and `kiosk firstboot`
(on the board) share these, and the tests check them without a disk.

On the boot partition (FAT, readable by anyone who holds the card):
- kiosk.toml       the board's configuration (no secret in it)
- kiosk-token      the device token, one line (a secret: firstboot moves it off at once)
- kiosk-wifi.toml  ssid, password, country, hidden (a secret, moved off the same way)
"""

from __future__ import annotations

import json
import re
import tomllib
import uuid
from dataclasses import dataclass
from typing import Any

from kiosk.core import tomlsafe

BOOT_CONFIG = "kiosk.toml"
BOOT_TOKEN = "kiosk-token"
BOOT_WIFI = "kiosk-wifi.toml"
REJECTED_SUFFIX = ".rejected"  # a kiosk.toml the board refused, kept for the installer
BOARD_TOKEN = "/etc/kiosk/token"  # where firstboot puts the token; kiosk.toml must say so
DEFAULT_MODE = "1920x1080"  # the mode of a screen that is off at boot, when size is "auto"
MAX_TOKEN = 4096


class BootFileError(ValueError):
    """A boot partition file that cannot be used; the text names the file and the field."""


# --- cmdline.txt -------------------------------------------------------------------------


def kernel_params(size: tuple[int, int] | None, wifi_country: str | None) -> list[str]:
    """What a board's kernel command line needs.

    consoleblank=0: the console never blanks the panel behind the kiosk's back;
    vt.global_cursor_default=0: no blinking cursor on the panel while the kiosk restarts.
    vc4.force_hotplug=1: HDMI0 counts as connected when the screen is off or on another
    input at boot, so the kiosk still gets a display. video=: the mode to use then (the
    screen's own mode is only known when it answers). cfg80211 regdom: the Wi-Fi country.
    """
    width, height = size or tuple(int(n) for n in DEFAULT_MODE.split("x"))
    params = [
        "consoleblank=0",
        "vt.global_cursor_default=0",
        "vc4.force_hotplug=1",
        f"video=HDMI-A-1:{width}x{height}@60D",
    ]
    if wifi_country:
        params.append(f"cfg80211.ieee80211_regdom={wifi_country}")
    return params


def _param_key(token: str) -> str:
    """The part of a parameter that names it: "video=HDMI-A-1:" for a video mode (one per
    connector), else the text up to "=" (or the flag itself)."""
    if token.startswith("video=") and ":" in token:
        return token.split(":", 1)[0] + ":"
    return token.split("=", 1)[0] + "=" if "=" in token else token


def edit_cmdline(text: str, params: list[str], keep_video: bool = False) -> str:
    """cmdline.txt with each parameter set, or the same text when nothing changes.

    The firmware reads one line; a second line would be silently ignored, so a file with
    more than one is refused rather than guessed at. keep_video leaves a video= mode the
    installer chose by hand (install.sh on a board whose screen size we do not know).
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) > 1:
        raise BootFileError(f"cmdline.txt: has {len(lines)} lines; the kernel reads only one")
    tokens = lines[0].split() if lines else []
    changed = False
    for param in params:
        key = _param_key(param)
        found = [i for i, t in enumerate(tokens) if _param_key(t) == key]
        if found and (tokens[found[0]] == param or (keep_video and key.startswith("video="))):
            continue
        if found:
            tokens[found[0]] = param
            for extra in reversed(found[1:]):
                del tokens[extra]
        else:
            tokens.append(param)
        changed = True
    return " ".join(tokens) + "\n" if changed else text


# --- config.txt --------------------------------------------------------------------------

_KMS = re.compile(r"^\s*dtoverlay\s*=\s*vc4-f?kms-v3d\b")


def edit_config_txt(text: str) -> str:
    """config.txt with the KMS display driver on (SDL's kmsdrm needs it), or the same text.

    Stock Raspberry Pi OS has it; only a config.txt that lost it gets it back, in an [all]
    section at the end so no conditional section above can hide it.
    """
    if any(_KMS.match(line) for line in text.splitlines()):
        return text
    tail = "" if not text or text.endswith("\n") else "\n"
    return (
        f"{text}{tail}\n# Added by kiosk provision: the display driver the kiosk needs\n"
        "[all]\ndtoverlay=vc4-kms-v3d\n"
    )


# --- kiosk-token -------------------------------------------------------------------------


def parse_token(data: bytes, where: str = BOOT_TOKEN) -> str:
    """The token, from a file that holds it on one line."""
    try:
        text = data.decode("ascii").strip()
    except UnicodeDecodeError:
        raise BootFileError(f"{where}: the token must be ASCII text") from None
    if not text:
        raise BootFileError(f"{where}: is empty")
    if len(data) > MAX_TOKEN or any(c.isspace() or not c.isprintable() for c in text):
        raise BootFileError(
            f"{where}: must be one token of at most {MAX_TOKEN} printable characters, "
            "without spaces or line breaks"
        )
    return text


# --- kiosk-wifi.toml ---------------------------------------------------------------------


@dataclass(frozen=True)
class Wifi:
    ssid: str
    password: str  # "" for an open network
    country: str = "VN"
    hidden: bool = False

    def __repr__(self) -> str:  # never print the password, even in a traceback
        return f"Wifi(ssid={self.ssid!r}, country={self.country!r}, hidden={self.hidden})"


def check_wifi(ssid: Any, password: Any, country: Any, hidden: Any, where: str) -> Wifi:
    """A Wifi, or BootFileError naming each wrong field (the password's value never)."""
    problems = []
    if not isinstance(ssid, str) or not 1 <= len(ssid.encode()) <= 32:
        problems.append("ssid: must be 1 to 32 bytes of text")
    if not isinstance(password, str):
        problems.append("password: must be text")
    elif password and not (
        (8 <= len(password) <= 63 and all(" " <= c <= "~" for c in password))
        or re.fullmatch(r"[0-9a-fA-F]{64}", password)
    ):
        problems.append("password: a WPA password has 8 to 63 printable ASCII characters")
    if not isinstance(country, str) or not re.fullmatch(r"[A-Z]{2}", country):
        problems.append(f"country: must be a two-letter country code such as VN, got {country!r}")
    if not isinstance(hidden, bool):
        problems.append("hidden: must be true or false")
    if problems:
        raise BootFileError("\n".join(f"{where}: {p}" for p in problems))
    return Wifi(ssid, password, country, hidden)


def parse_wifi(data: bytes, where: str = BOOT_WIFI) -> Wifi:
    try:
        doc = tomlsafe.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BootFileError(f"{where}: invalid TOML: {exc}") from None
    unknown = sorted(set(doc) - {"ssid", "password", "country", "hidden"})
    if unknown:
        raise BootFileError(f"{where}: {unknown[0]}: unknown key")
    return check_wifi(
        doc.get("ssid"),
        doc.get("password", ""),
        doc.get("country", "VN"),
        doc.get("hidden", False),
        where,
    )


def toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, but for DEL, which TOML forbids raw)."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def render_wifi(wifi: Wifi) -> bytes:
    return (
        f"ssid = {toml_string(wifi.ssid)}\npassword = {toml_string(wifi.password)}\n"
        f"country = {toml_string(wifi.country)}\nhidden = {'true' if wifi.hidden else 'false'}\n"
    ).encode()


def _keyfile_value(text: str) -> str:
    """GKeyFile escaping, as NetworkManager's keyfiles read it."""
    out = text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")
    out = out.replace("\r", "\\r")
    return "\\s" + out[1:] if out.startswith(" ") else out


def nm_keyfile(wifi: Wifi) -> bytes:
    """A NetworkManager connection profile (Bookworm and Trixie use NetworkManager)."""
    security = (
        f"\n[wifi-security]\nkey-mgmt=wpa-psk\npsk={_keyfile_value(wifi.password)}\n"
        if wifi.password
        else ""
    )
    return (
        "[connection]\nid=kiosk-wifi\n"
        f"uuid={uuid.uuid5(uuid.NAMESPACE_URL, 'kiosk-wifi:' + wifi.ssid)}\n"
        "type=wifi\nautoconnect=true\n\n"
        f"[wifi]\nmode=infrastructure\nssid={_keyfile_value(wifi.ssid)}\n"
        f"hidden={'true' if wifi.hidden else 'false'}\n"
        f"{security}\n[ipv4]\nmethod=auto\n\n[ipv6]\nmethod=auto\n"
    ).encode()
