"""The device configuration, `kiosk.toml` (SPEC 3.1), read and validated.

Every problem is reported at once, each naming the file, the key and what is wrong, so
an installer fixes a file in one pass. Unknown keys are refused (with a suggestion):
a mistyped key silently ignored is a board that misbehaves for years.
"""

from __future__ import annotations

import base64
import dataclasses
import difflib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kiosk.core import tomlsafe
from kiosk.core.model import CHANNEL_NAME
from kiosk.core.textrules import shown, text_problem
from kiosk.core.timeutil import HourWindow, parse_window
from kiosk.paths import DEFAULT_CONFIG

DEVICE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}\Z")
UNIT_KINDS = ("xa", "phuong", "dac_khu", "thi_tran", "huyen", "tinh")
COMMUNE_LEVEL = ("xa", "phuong", "dac_khu", "thi_tran")
POWER_MODES = ("blank", "cec", "relay")
GPIO_PINS = ("status_led", "fan", "screen_relay", "service_button", "door_switch")
MAX_STRING = 300  # characters of any text value: a name, a path, a URL
_SIZE = re.compile(r"^(\d{3,5})x(\d{3,5})\Z")
_MQTT = re.compile(r"^mqtts?://[A-Za-z0-9.-]+(:\d{1,5})?\Z")
_LISTEN = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})\Z")


class ConfigError(Exception):
    """A configuration that cannot be used: each line names file, key and problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class DeviceConfig:
    id: str
    name: str
    unit_name: str
    unit_kind: str
    province_code: str
    commune_code: str | None
    district: str | None
    timezone: str

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class SourceConfig:
    url: str
    channels: tuple[str, ...]
    public_keys: tuple[str, ...]
    token_file: Path | None = None
    poll_seconds: int = 300
    heartbeat_seconds: int = 60
    heartbeat_url: str = ""
    push_url: str = ""  # an MQTT broker (SPEC 1.7), or none


@dataclass(frozen=True)
class DisplayConfig:
    size: tuple[int, int] | None = None  # None: the screen's own size
    rotation: int = 0
    on_hours: tuple[HourWindow, ...] = (HourWindow(0, 86400),)
    power: str = "blank"


@dataclass(frozen=True)
class UpdateConfig:
    """SPEC 3.1 [update]: no release key, no software update (the board runs what it has)."""

    release_keys: tuple[str, ...] = ()
    dir: Path = Path("/opt/kiosk")
    trial_seconds: int = 600


@dataclass(frozen=True)
class Config:
    device: DeviceConfig
    source: SourceConfig
    display: DisplayConfig = field(default_factory=DisplayConfig)
    listen: tuple[str, int] = ("0.0.0.0", 8080)
    storage_dir: Path = Path("/var/lib/kiosk")
    gpio: dict[str, int] = field(default_factory=dict)
    path: Path | None = None
    update: UpdateConfig = field(default_factory=UpdateConfig)


class _Section:
    """Reads one table of the file, noting every problem rather than stopping at the first."""

    def __init__(self, doc: dict[str, Any], name: str, where: str, problems: list[str]) -> None:
        raw = doc.get(name, {})
        self.name, self.where, self.problems = name, where, problems
        self.raw: dict[str, Any] = raw if isinstance(raw, dict) else {}
        if not isinstance(raw, dict):
            self.problem(None, "must be a table")
        self.seen: set[str] = set()

    def problem(self, key: str | None, text: str) -> None:
        self.problems.append(f"{self.where}: [{self.name}]{' ' + key if key else ''}: {text}")

    def get(
        self,
        key: str,
        check: Callable[[Any], Any],
        default: Any = None,
        required: bool = False,
    ) -> Any:
        self.seen.add(key)
        if key not in self.raw:
            if required:
                self.problem(key, "is required")
            return default
        try:
            return check(self.raw[key])
        except ValueError as exc:
            self.problem(key, str(exc))
            return default

    def finish(self) -> None:
        for key in self.raw:
            if key not in self.seen:
                near = difflib.get_close_matches(key, sorted(self.seen), n=1)
                hint = f" (did you mean {near[0]}?)" if near else ""
                self.problem(key, f"unknown key{hint}")


def _string(pattern: re.Pattern[str] | None = None, what: str = "", empty: bool = False):
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(f"must be a string, got {type(value).__name__}")
        if len(value) > MAX_STRING:
            raise ValueError(f"has {len(value)} characters; at most {MAX_STRING} are allowed")
        if problem := text_problem(value):
            raise ValueError(problem)
        if not empty and not value.strip():
            raise ValueError("must not be empty")
        if pattern is not None and not pattern.match(value):
            raise ValueError(f"{shown(value)} is not {what}")
        return value

    return check


def _choice(allowed: tuple[str, ...]):
    def check(value: Any) -> str:
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}, got {shown(value)}")
        return value

    return check


def _integer(low: int, high: int):
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number, got {shown(value)}")
        if not low <= value <= high:
            raise ValueError(f"must be from {low} to {high}, got {value}")
        return value

    return check


def _list(item: Callable[[Any], Any], non_empty: bool = True, unique: bool = True):
    def check(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise ValueError(f"must be an array, got {type(value).__name__}")
        if non_empty and not value:
            raise ValueError("must not be empty")
        out = []
        for n, v in enumerate(value):
            try:
                out.append(item(v))
            except ValueError as exc:
                raise ValueError(f"entry {n + 1}: {exc}") from None
        if unique and len(set(out)) != len(out):
            raise ValueError("has the same entry twice")
        return tuple(out)

    return check


def _url(value: Any) -> str:
    text = _string()(value)
    if not re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?\Z", text):
        raise ValueError(
            f"{shown(text)} is not an http:// or https:// URL without query or fragment"
        )
    return text.rstrip("/")


def _optional_url(value: Any) -> str:
    return "" if value == "" else _url(value)


def push_url(value: Any) -> str:
    """An MQTT broker (SPEC 1.7), or "" for none."""
    text = _string(empty=True)(value)
    if text and not _MQTT.match(text):
        raise ValueError(f"{shown(text)} is not mqtt://host:port or mqtts://host:port")
    return text


def public_key_bytes(value: str) -> bytes:
    """The 32 raw bytes of an "ed25519:<base64>" public key."""
    if not isinstance(value, str) or not value.startswith("ed25519:"):
        raise ValueError('a public key is written "ed25519:<base64 of 32 bytes>"')
    try:
        raw = base64.b64decode(value[len("ed25519:") :], validate=True)
    except ValueError:
        raise ValueError("the public key is not valid base64") from None
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 public key has 32 bytes, this one {len(raw)}")
    return raw


def _public_key(value: Any) -> str:
    public_key_bytes(value)
    return value


def _timezone(value: Any) -> str:
    text = _string()(value)
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{shown(text)} is not a known time zone, such as Asia/Ho_Chi_Minh"
        ) from None
    return text


def _size(value: Any) -> tuple[int, int] | None:
    if value == "auto":
        return None
    match = _SIZE.match(value) if isinstance(value, str) else None
    if not match or not all(320 <= int(g) <= 7680 for g in match.groups()):
        raise ValueError(f'must be "auto" or WIDTHxHEIGHT from 320 to 7680, got {shown(value)}')
    return int(match.group(1)), int(match.group(2))


def _rotation(value: Any) -> int:
    if value not in (0, 90, 180, 270) or isinstance(value, bool):
        raise ValueError(f"must be 0, 90, 180 or 270, got {shown(value)}")
    return value


def _listen(value: Any) -> tuple[str, int]:
    match = _LISTEN.match(value) if isinstance(value, str) else None
    if not match or not 1 <= int(match.group(2)) <= 65535:
        raise ValueError(f'must be "HOST:PORT", such as "0.0.0.0:8080", got {shown(value)}')
    return match.group(1).strip("[]"), int(match.group(2))


def _path(value: Any) -> Path:
    text = _string()(value)
    if not text.startswith("/"):
        raise ValueError(f"must be an absolute path, got {shown(text)}")
    return Path(text)


def parse_config(doc: dict[str, Any], where: str = "kiosk.toml") -> Config:
    """A Config from the parsed TOML document, or ConfigError listing every problem."""
    problems: list[str] = []
    known = ("device", "source", "display", "health", "storage", "update", "gpio")
    for name in doc:
        if name not in known:
            near = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean [{near[0]}]?)" if near else ""
            problems.append(f"{where}: [{name}]: unknown table{hint}")

    d = _Section(doc, "device", where, problems)
    unit_name = d.get("unit_name", _string(), "", required=True)
    unit_kind = d.get("unit_kind", _choice(UNIT_KINDS), "xa", required=True)
    device = DeviceConfig(
        id=d.get("id", _string(DEVICE_ID, "a device id like 08-02263-01"), "", required=True),
        name=d.get("name", _string(), unit_name),
        unit_name=unit_name,
        unit_kind=unit_kind,
        province_code=d.get(
            "province_code", _string(re.compile(r"^[0-9]{2}\Z"), "2 digits"), "", required=True
        ),
        commune_code=d.get(
            "commune_code",
            _string(re.compile(r"^[0-9]{5}\Z"), "5 digits"),
            None,
            required=unit_kind in COMMUNE_LEVEL,
        ),
        district=d.get("district", _string(empty=True), None) or None,
        timezone=d.get("timezone", _timezone, "Asia/Ho_Chi_Minh"),
    )
    d.finish()

    s = _Section(doc, "source", where, problems)
    source = SourceConfig(
        url=s.get("url", _url, "", required=True),
        channels=s.get(
            "channels", _list(_string(CHANNEL_NAME, "a channel name")), (), required=True
        ),
        public_keys=s.get("public_keys", _list(_public_key), (), required=True),
        token_file=s.get("token_file", _path),
        poll_seconds=s.get("poll_seconds", _integer(5, 86400), 300),
        heartbeat_seconds=s.get("heartbeat_seconds", _integer(5, 3600), 60),
        heartbeat_url=s.get("heartbeat_url", _optional_url, ""),
        push_url=s.get("push_url", push_url, ""),
    )
    s.finish()

    v = _Section(doc, "display", where, problems)
    display = DisplayConfig(
        size=v.get("size", _size, None),
        rotation=v.get("rotation", _rotation, 0),
        on_hours=v.get("on_hours", _list(parse_window), DisplayConfig.on_hours),
        power=v.get("power", _choice(POWER_MODES), "blank"),
    )
    v.finish()

    h = _Section(doc, "health", where, problems)
    listen = h.get("listen", _listen, ("0.0.0.0", 8080))
    h.finish()

    st = _Section(doc, "storage", where, problems)
    storage_dir = st.get("dir", _path, Path("/var/lib/kiosk"))
    st.finish()

    u = _Section(doc, "update", where, problems)
    update = UpdateConfig(
        release_keys=u.get("release_keys", _list(_public_key, non_empty=False), ()),
        dir=u.get("dir", _path, Path("/opt/kiosk")),
        trial_seconds=u.get("trial_seconds", _integer(60, 3600), 600),
    )
    u.finish()

    g = _Section(doc, "gpio", where, problems)
    gpio = {}
    for pin in GPIO_PINS:
        number = g.get(pin, _integer(0, 27))
        if number is not None:
            if number in gpio.values():
                g.problem(pin, f"BCM pin {number} is already used by another function")
            gpio[pin] = number
    g.finish()
    if display.power == "relay" and "screen_relay" not in gpio:
        v.problem("power", 'is "relay", but [gpio] has no screen_relay pin')

    if problems:
        raise ConfigError(problems)
    return Config(device, source, display, listen, storage_dir, gpio, update=update)


def parse_config_text(data: bytes, where: str) -> Config:
    """A kiosk.toml's bytes (from a file, a boot partition, a CSV row) validated;
    ConfigError naming where on any problem."""
    return parse_config(toml_document(data, where), where)


def toml_document(data: bytes, where: str) -> dict[str, Any]:
    """A configuration file's bytes as TOML; ConfigError naming where when they are not."""
    try:
        return tomlsafe.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError([f"{where}: is not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{where}: invalid TOML: {exc}"]) from None


def load_config(path: Path) -> Config:
    """Read and validate a kiosk.toml; ConfigError (naming the file) on any problem."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read: {exc.strerror}"]) from None
    return dataclasses.replace(parse_config_text(data, str(path)), path=path)


def default_config() -> Config:
    """The embedded default (the sample board of a developer's checkout)."""
    return parse_config(tomlsafe.loads(DEFAULT_CONFIG.read_text("utf-8")), str(DEFAULT_CONFIG))
