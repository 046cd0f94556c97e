"""Running one of replydesk's own modules in a child process (``python -m``) as this process
runs it: the same replydesk, whatever folder the user is in.

``python -m`` puts the current folder first on the child's path: a folder of the user's named like
one of ours (an ``app`` package of their own project, say) would be imported in place of
replydesk, and the child would fail or run the wrong code. ``-P`` (Python 3.11) leaves the
current folder out, and the folder this replydesk was imported from goes first on the child's
``PYTHONPATH`` (an installed one, a checkout run in place, or a wheel unpacked for the tests)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

HOME = str(Path(__file__).resolve().parents[1])
"""The folder holding this replydesk's ``app`` package."""


def argv(module: str, *args: str) -> list[str]:
    """The command line that runs ``module`` of replydesk with ``args``."""
    return [sys.executable, "-P", "-m", module, *args]


def env() -> dict[str, str]:
    """This process's environment with this replydesk's folder first on the path."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (HOME, os.environ.get("PYTHONPATH", "")) if p)}
