"""The province server's configuration, `PROVINCE.toml` (SPEC 7.1), read and validated with
the same rules and messages as kiosk.toml: every problem at once, each naming the key."""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from kiosk.core.config import (
    ConfigError,
    _integer,
    _list,
    _listen,
    _path,
    _public_key,
    _Section,
    _string,
    _timezone,
    push_url,
    toml_document,
)
from kiosk.core.textrules import shown


@dataclass(frozen=True)
class Database:
    """Where the server keeps its data: one SQLite file, or a PostgreSQL database."""

    engine: str  # "sqlite" | "postgresql"
    name: str  # the SQLite file, or the PostgreSQL database's name
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ProvinceConfig:
    listen: tuple[str, int]
    database: Database
    site_dir: Path
    signing_key: Path
    inventory: Path
    timezone: str = "Asia/Ho_Chi_Minh"
    secret_key_file: Path | None = None  # default: beside site_dir
    hosts: tuple[str, ...] = ("*",)
    secure_cookies: bool = True
    workers: int = 4
    plays_raw_days: int = 3
    push_url: str = ""
    uploads_dir: Path | None = None  # default: beside site_dir
    expires_days: int = 14
    # CAP senders whose alerts are imported; empty: any sender (a Cancel or Update still acts
    # only on its own sender's alerts, SPEC 7.4)
    cap_senders: tuple[str, ...] = ()
    # the life of a CAP alert that has no <expires>, from its <sent> (CAP makes expires
    # optional: such an alert must not become an open-ended emergency)
    cap_hours: int = 24
    # [update] (SPEC 7.1): the keys whose releases may be rolled out; none, no rollouts
    release_keys: tuple[str, ...] = ()
    halt_after_failures: int = 2
    path: Path | None = None

    @property
    def secret_key_path(self) -> Path:
        return self.secret_key_file or self.site_dir.parent / "secret.key"

    @property
    def uploads_path(self) -> Path:
        """Where the console keeps uploaded images until (and after) they are published."""
        return self.uploads_dir or self.site_dir.parent / "uploads"

    @property
    def exports_path(self) -> Path:
        """The large CSVs made in the background: beside the uploads, in the server's own
        state (kiosk-province.service may write there), never where nginx serves files."""
        return self.uploads_path.parent / "exports"


def parse_database_url(value: Any) -> Database:
    """`sqlite:////absolute/path.db` or `postgresql://user:password@host:port/name?opt=v`."""
    text = _string()(value)
    parts = urlsplit(text)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        if parts.netloc or not path.startswith("/"):
            raise ValueError(f"{shown(text)}: write a SQLite file as sqlite:////absolute/path.db")
        return Database("sqlite", path)
    if parts.scheme in ("postgresql", "postgres"):
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ValueError(f"{shown(text)} names no database (postgresql://user@host/name)")
        options = tuple(
            (k, unquote(v)) for k, _, v in (p.partition("=") for p in parts.query.split("&") if p)
        )
        return Database(
            "postgresql",
            name,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            host=parts.hostname or "",
            port=str(parts.port or ""),
            options=options,
        )
    raise ValueError(f"{shown(text)} is neither sqlite:////path nor postgresql://…")


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {shown(value)}")
    return value


TABLES = ("server", "push", "import", "update")


def parse_province_config(doc: dict[str, Any], where: str = "PROVINCE.toml") -> ProvinceConfig:
    problems: list[str] = []
    for name in doc:
        if name not in TABLES:
            near = difflib.get_close_matches(name, TABLES, n=1)
            hint = f" (did you mean [{near[0]}]?)" if near else ""
            problems.append(f"{where}: [{name}]: unknown table{hint}")
    s = _Section(doc, "server", where, problems)
    listen = s.get("listen", _listen, ("127.0.0.1", 8700))
    database = s.get("database", parse_database_url, None, required=True)
    site_dir = s.get("site_dir", _path, None, required=True)
    signing_key = s.get("signing_key", _path, None, required=True)
    inventory = s.get("inventory", _path, None, required=True)
    timezone = s.get("timezone", _timezone, "Asia/Ho_Chi_Minh")
    secret = s.get("secret_key_file", _path, None)
    hosts = s.get("hosts", _list(_string()), ("*",))
    secure = s.get("secure_cookies", _boolean, True)
    workers = s.get("workers", _integer(1, 64), 4)
    raw_days = s.get("plays_raw_days", _integer(1, 3660), 3)
    uploads = s.get("uploads_dir", _path, None)
    expires_days = s.get("expires_days", _integer(2, 3650), 14)
    s.finish()
    p = _Section(doc, "push", where, problems)
    url = p.get("url", push_url, "")
    p.finish()
    i = _Section(doc, "import", where, problems)
    cap_senders = i.get("cap_senders", _list(_string()), ())
    cap_hours = i.get("cap_hours", _integer(1, 720), 24)
    i.finish()
    u = _Section(doc, "update", where, problems)
    release_keys = u.get("release_keys", _list(_public_key, non_empty=False), ())
    halt_after = u.get("halt_after_failures", _integer(1, 100_000), 2)
    u.finish()
    if problems:
        raise ConfigError(problems)
    return ProvinceConfig(
        listen=listen,
        database=database,
        site_dir=site_dir,
        signing_key=signing_key,
        inventory=inventory,
        timezone=timezone,
        secret_key_file=secret,
        hosts=hosts,
        secure_cookies=secure,
        workers=workers,
        plays_raw_days=raw_days,
        push_url=url,
        uploads_dir=uploads,
        expires_days=expires_days,
        cap_senders=tuple(cap_senders),
        cap_hours=cap_hours,
        release_keys=tuple(release_keys),
        halt_after_failures=halt_after,
    )


def load_province_config(path: Path) -> ProvinceConfig:
    """PROVINCE.toml from its file; ConfigError (exit 2) naming the file on any problem."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read: {exc.strerror}"]) from None
    config = parse_province_config(toml_document(data, str(path)), str(path))
    return dataclasses.replace(config, path=path.resolve())
