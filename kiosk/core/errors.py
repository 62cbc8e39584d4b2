"""The error every program shares, and the exit contract of SPEC 4: 0 done, 1 the work
failed, 2 bad usage or input.

Library code (the board, the province, the installer) raises UsageError, or an error of its
own derived from it, when what it was given is wrong; only `kiosk.cli` turns it into exit 2.
Here, in the core, so no part of the product depends on the command line.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """Bad input on the command line or in a file it names: exit 2 with one clear message."""
