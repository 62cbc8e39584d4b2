"""TOML from files people wrote (kiosk.toml, playlists, Wi-Fi, targets), parsed safely.

tomllib recurses for nested arrays and inline tables, so `a = [[[[…]]]]` a few thousand
deep raises RecursionError, which no caller expects: one careless file would be a
traceback in check-config, and firstboot would leave neither a `.rejected` file nor
`import-error.txt`. Here it is a TOMLDecodeError like any other bad file.
"""

from __future__ import annotations

import tomllib
from typing import Any


def loads(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise tomllib.TOMLDecodeError("arrays or tables are nested too deeply") from None
