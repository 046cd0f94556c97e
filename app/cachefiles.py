"""Files replydesk keeps in the user's cache folder to start faster: a validated config
(app/config_cache.py), the reader's compiled regular expressions (app/mail/regex_cache.py).
Nothing in them is secret, and any of them may go at any time: what is in one is made again.

Each is the user's own: written whole (a new file put in place) in a folder only the user can
enter, readable by the user alone, and read only where the user wrote it and no one else can
change it."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path


def cache_dir() -> Path:
    import platformdirs
    return Path(platformdirs.user_cache_dir("replydesk"))


def read_own(path: Path) -> bytes | None:
    """The file's bytes, where this user wrote it and no one else can write it; None otherwise
    (missing, unreadable, someone else's)."""
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if st.st_uid != os.getuid() or st.st_mode & 0o022:
                return None
            return fh.read()
    except OSError:
        return None


def write_own(path: Path, data: bytes) -> bool:
    """Put ``data`` at ``path`` whole (0600, its folder made 0700); False where it cannot be."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        return False
    return True


def prune(directory: Path, pattern: str, keep: int, max_age: float = 30 * 86400) -> None:
    """Of the files matching ``pattern``, those not used for ``max_age`` seconds go, and past
    ``keep`` those used longest ago."""
    now = time.time()
    entries: list[tuple[float, Path]] = []
    for entry in directory.glob(pattern):
        try:
            st = entry.stat()
        except OSError:
            continue
        entries.append((max(st.st_atime, st.st_mtime), entry))
    entries.sort(reverse=True)
    for place, (used, entry) in enumerate(entries):
        if place >= keep or now - used > max_age:
            try:
                entry.unlink()
            except OSError:
                pass
