"""``replydesk db``: the store's database as a whole.

``db copy SRC DST`` copies a whole store between SQLite (a file path) and PostgreSQL (a
``postgresql://USER@HOST:PORT/DBNAME`` URL), either way (``app.store.copy``). ``db password URL``
keeps a PostgreSQL password in the keyring.

A PostgreSQL password is never on the command line, in the URL or in the config. In order:
``--password-command``; then what libpq finds itself (``PGPASSWORD``, ``~/.pgpass``); then the
keyring (service ``replydesk``, entry ``postgresql://USER@HOST:PORT/DBNAME``).
"""

from __future__ import annotations

import argparse
import getpass
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from app import paths
from app.errors import SecretError, StoreError, UsageError

COMMAND_TIMEOUT = 60.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    sub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    cp = sub.add_parser("copy", parents=[common], help="copy a whole store: SQLite to PostgreSQL or back",
                        description="Copy a whole store (every table) from SRC to DST, each a SQLite file or a "
                                    "postgresql:// URL. DST ends as an exact copy of SRC; it must be empty or hold "
                                    "the same store (a re-run). The password comes from --password-command, "
                                    "PGPASSWORD, ~/.pgpass or the keyring (replydesk db password URL).")
    cp.add_argument("source", metavar="SRC", help="a SQLite store's path or a postgresql:// URL")
    cp.add_argument("target", metavar="DST", help="a SQLite path or a postgresql:// URL (an existing database)")
    cp.add_argument("--password-command", metavar="CMD",
                    help="a command printing the PostgreSQL password (e.g. \"pass show db/replydesk\")")
    pw = sub.add_parser("password", parents=[common], help="store a PostgreSQL password in the keyring")
    pw.add_argument("url", metavar="URL", help="postgresql://USER@HOST:PORT/DBNAME")
    pw.add_argument("--password-stdin", action="store_true", help="read the password from stdin")


def run(args: argparse.Namespace) -> int:
    if args.db_command == "password":
        return _store_password(args.url, args.password_stdin)
    return _copy(args.source, args.target, args.password_command)


# --- copy ---------------------------------------------------------------------------------------

def _copy(source: str, target: str, password_command: str | None) -> int:
    from app.store import copy

    _check_not_same(source, target)
    urls = [t for t in (source, target) if _is_url(t)]
    started = time.monotonic()
    src = dst = None
    done = False
    lock = None
    if not _is_url(target):
        # no engine may write into the store the copy replaces, nor start on it meanwhile
        from app.engine_lock import EngineLock
        lock = EngineLock(Path(target).expanduser())
        lock.acquire()
    try:
        src = _open(source, password_command, target=False)
        dst = _open(target, password_command, target=True)
        progress = copy.copy_store(src, dst, copy.Progress(on_rows=_reporter()))
        done = True
    except Exception as exc:
        if urls and type(exc).__module__.startswith("psycopg"):
            raise StoreError(f"copy from {source} to {target} failed: {_first_line(exc)}") from None
        raise
    finally:
        for side in (src, dst):
            if side is not None:
                side.close()
        removed = False
        if not done and isinstance(dst, copy.SqliteSide) and dst.created:
            dst.remove()
            removed = True
        if lock is not None:
            lock.release()
            if lock.path is not None and (removed or dst is None and not Path(target).expanduser().exists()):
                lock.path.unlink(missing_ok=True)
    seconds = time.monotonic() - started
    print(f"copied {progress.rows:,} rows of {len(progress.tables)} tables from {source} to {target} "
          f"in {seconds:.1f} s ({progress.rows / max(seconds, 1e-9):,.0f} rows/s)")
    return 0


def _is_url(target: str) -> bool:
    return paths.is_postgres_url(target)


def _check_not_same(source: str, target: str) -> None:
    if _is_url(source) and _is_url(target):
        from app.store import pg
        same = pg.server_and_database(source) == pg.server_and_database(target)
    elif _is_url(source) or _is_url(target):
        same = False
    else:
        same = Path(source).expanduser().resolve() == Path(target).expanduser().resolve()
    if same:
        raise UsageError(f"{source}: source and target are the same store")


def _open(where: str, password_command: str | None, *, target: bool) -> Any:
    from app.store import copy
    if not _is_url(where):
        return copy.SqliteSide(Path(where).expanduser(), target=target)
    from app.store import pg
    pg.parse_url(where)
    if password_command:
        return copy.PostgresSide(where, password_from_command(password_command), target=target)
    try:
        return copy.PostgresSide(where, None, target=target)
    except StoreError as exc:
        if not pg.needs_password(exc):
            raise
    password = password_from_keyring(pg.keyring_name(where))
    if password is None:
        raise StoreError(f"{where}: the server asks for a password and none was found",
                         hint="set PGPASSWORD, add it to ~/.pgpass, store it with: replydesk db password "
                              f"{pg.keyring_name(where)}, or pass --password-command")
    return copy.PostgresSide(where, password, target=target)


def _reporter() -> Any:
    tty = sys.stderr.isatty()
    last = [0.0]

    def report(table: str, done: int, total: int) -> None:
        if tty:
            now = time.monotonic()
            if done == total or now - last[0] > 0.2:
                last[0] = now
                sys.stderr.write(f"\r\x1b[Kcopying {table}: {done:,}/{total:,} rows")
                if done == total:
                    sys.stderr.write("\n")
                sys.stderr.flush()
        elif done == total:
            print(f"copied {table}: {total:,} rows", file=sys.stderr)
    return report


# --- passwords ----------------------------------------------------------------------------------

def password_from_keyring(name: str) -> str | None:
    from app.auth.keyring_store import keyring_get
    try:
        return keyring_get(name)
    except SecretError:
        return None  # no usable keyring: the error names the other ways


def password_from_command(command: str, setting: str = "--password-command") -> str:
    """The first line a password command prints; ``setting`` names where it was given, in errors."""
    import shlex
    try:
        name = shlex.split(command)[0]
    except (ValueError, IndexError):
        name = "password command"
    try:
        proc = subprocess.run(command, shell=True, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=COMMAND_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise SecretError(f"{setting} {name} did not finish in {COMMAND_TIMEOUT:.0f} s") from None
    if proc.returncode != 0:
        raise SecretError(f"{setting} {name} exited with status {proc.returncode}",
                          "run the command yourself to see why")
    lines = proc.stdout.decode("utf-8", "replace").strip().splitlines()
    if not lines or not lines[0].strip():
        raise SecretError(f"{setting} {name} printed nothing")
    return lines[0].strip()


def _store_password(url: str, from_stdin: bool) -> int:
    from app.auth.keyring_store import keyring_set
    from app.store import pg
    if not pg.is_url(url):
        raise UsageError(f"{url}: expected a postgresql:// URL")
    name = pg.keyring_name(url)
    if from_stdin:
        value = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        value = getpass.getpass(f"Password for {name}: ")
    else:
        raise UsageError("no password: pass --password-stdin or run on a terminal")
    if not value:
        raise UsageError("empty password")
    keyring_set(name, value)
    print(f"stored the password for {name} in the keyring")
    return 0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__
