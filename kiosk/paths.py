"""Where the kiosk finds its bundled files, and the defaults of a developer's checkout."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
FONTS_DIR = PACKAGE_DIR / "fonts"
DEFAULT_CONFIG = PACKAGE_DIR / "default.toml"
SYSTEM_CONFIG = Path("/etc/kiosk/kiosk.toml")  # where a provisioned board keeps its own
# The sample playlists live beside the package in a checkout (not inside an installed wheel).
SAMPLE_PLAYLISTS = PACKAGE_DIR.parent / "playlists"


def user_cache_dir() -> Path:
    """A writable folder for a developer's run, where /var/lib/kiosk is not ours."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bangtin-kiosk"
