"""The start of a parse worker's process, or of their fork server: ``python -m
app.imap.parsestart`` with app.imap.parsework's arguments. The regular expressions the last start
compiled (app.mail.regex_cache, kept in the user's cache folder) are put in place before the
reader's modules compile theirs, then app.imap.parsework runs."""

from __future__ import annotations

import sys
from pathlib import Path

from app import cachefiles
from app.mail import regex_cache


def kept_patterns() -> Path:
    """Where this build's compiled expressions are kept."""
    return cachefiles.cache_dir() / regex_cache.name()


if __name__ == "__main__":
    regex_cache.start(cachefiles.read_own(kept_patterns()))
    from app.imap import parsework
    parsework.main(sys.argv[1:])
