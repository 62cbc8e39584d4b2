"""Which kiosk.toml a board's program reads. Its own module so that the root services that
need only the configuration (the updater, its recovery at boot, the OS updates) do not load
the drawing program's pygame: seconds at every boot on a Pi, and a crash of a bad display
driver kept out of the path that rolls a bad release back."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from kiosk.core.config import Config, default_config, load_config
from kiosk.core.errors import UsageError
from kiosk.paths import SYSTEM_CONFIG, user_cache_dir


def resolve_config(path: str | None, dev_playlists: bool = False) -> Config:
    """--config when given, else the board's /etc/kiosk/kiosk.toml. With local playlists
    (development), the embedded demo board, whose files go to the user's cache folder."""
    if path:
        return load_config(Path(path))
    if dev_playlists:
        return dataclasses.replace(default_config(), storage_dir=user_cache_dir() / "board")
    if SYSTEM_CONFIG.exists():
        return load_config(SYSTEM_CONFIG)
    raise UsageError(
        f"no configuration: {SYSTEM_CONFIG} does not exist; pass --config PATH "
        "(or try `kiosk demo` to see the kiosk with sample content)"
    )
