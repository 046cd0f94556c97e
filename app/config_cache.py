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

if TYPE_CHECKING:
    from app.config import Config

FORMAT = b"replydesk config cache 1"
_APP = Path(__file__).resolve().parent
_VALIDATION_CODE = ("config.py", "placeholders.py", "config_cache.py")


def cache_dir() -> Path:
    import platformdirs
    return Path(platformdirs.user_cache_dir("replydesk")) / "config"


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
    entry = _entry(path)
    try:
        with open(entry, "rb") as fh:
            st = os.fstat(fh.fileno())
            if st.st_uid != os.getuid() or st.st_mode & 0o022:
                return None  # only an entry this user wrote and nobody else can
            key, config = pickle.load(fh)
    except Exception:  # noqa: BLE001 - a missing, partial or outdated entry: validate again
        return None
    return config if key == _key(path, raw) else None


def write(path: Path, raw: bytes, config: Config) -> None:
    """Remember ``config`` as the validation of ``raw``; a cache that cannot be written is skipped."""
    import tempfile
    entry = _entry(path)
    try:
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump((_key(path, raw), config), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, entry)
        except BaseException:
            os.unlink(tmp)
            raise
        _prune(entry.parent)
    except (OSError, pickle.PicklingError):
        pass


KEEP = 64
"""Entries kept at most: a cache is for the few configs a user runs; every temporary one (a demo's,
a script's) would otherwise stay a month, and each write looks at them all."""


def _prune(directory: Path, max_age: float = 30 * 86400, keep: int = KEEP) -> None:
    """Entries of configs not read for a month go, and past ``keep`` those read longest ago; a
    write is rare."""
    import time
    now = time.time()
    entries: list[tuple[float, Path]] = []
    for entry in directory.glob("*.pickle"):
        try:
            st = entry.stat()
        except OSError:
            continue
        used = max(st.st_atime, st.st_mtime)
        entries.append((used, entry))
    entries.sort(reverse=True)
    for place, (used, entry) in enumerate(entries):
        if place >= keep or now - used > max_age:
            try:
                entry.unlink()
            except OSError:
                pass
