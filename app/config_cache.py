"""The last validated config, kept so a command does not validate the same file again.

Validating a config loads pydantic and builds its schemas: about a quarter of a second, longer
than everything else `replydesk list` does. A config is only ever validated as a whole, so the
result of reading the same bytes from the same path with the same validation code is the same:
the resolved ``Config`` is pickled in the user's cache dir (0600, in a 0700 directory) under a key
made of the file's bytes, its path, the Python version and the validation code's files (size and
modification time). Any change to them, or an unreadable entry, means a fresh validation. The
config holds no secrets (they never are in it), so neither does this.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app import cachefiles

if TYPE_CHECKING:
    from app.config import Config

FORMAT = b"replydesk config cache 1"
_APP = Path(__file__).resolve().parent
_VALIDATION_CODE = ("config.py", "placeholders.py", "config_cache.py")


def cache_dir() -> Path:
    return cachefiles.cache_dir() / "config"


def _key(path: Path, raw: bytes) -> bytes:
    h = hashlib.sha256(FORMAT)
    h.update(sys.version.encode())
    for name in _VALIDATION_CODE:
        try:
            st = os.stat(_APP / name)
            h.update(f"{name} {st.st_size} {st.st_mtime_ns}".encode())
        except OSError:
            h.update(name.encode())
    h.update(str(path).encode() + b"\0")
    h.update(raw)
    return h.digest()


def _entry(path: Path) -> Path:
    return cache_dir() / (hashlib.sha256(str(path.absolute()).encode()).hexdigest()[:24] + ".pickle")


def read(path: Path, raw: bytes) -> Config | None:
    """The config validated from exactly these bytes at this path before, or None."""
    data = cachefiles.read_own(_entry(path))
    if data is None:
        return None
    try:
        key, config = pickle.loads(data)
    except Exception:  # noqa: BLE001 - a partial or outdated entry: validate again
        return None
    return config if key == _key(path, raw) else None


def write(path: Path, raw: bytes, config: Config) -> None:
    """Remember ``config`` as the validation of ``raw``; a cache that cannot be written is skipped."""
    entry = _entry(path)
    try:
        data = pickle.dumps((_key(path, raw), config), protocol=pickle.HIGHEST_PROTOCOL)
    except pickle.PicklingError:
        return
    if cachefiles.write_own(entry, data):
        # a cache is for the few configs a user runs; every temporary one (a demo's, a
        # script's) would otherwise stay a month, and each write looks at them all
        cachefiles.prune(entry.parent, "*.pickle", KEEP)


KEEP = 64
"""Entries kept at most."""
