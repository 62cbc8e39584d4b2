"""Kiosk for Vietnam's public electronic bulletin boards."""

__version__ = "0.1.0"

import os as _os

# pygame prints a banner on import; a kiosk's journal and a CLI's output have no use for it.
_os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
