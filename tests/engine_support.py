"""Helpers for the IMAP engine tests (tests/test_imap_*.py, tests/test_engine_*.py): an engine
running on a config, an account on the Dovecot fixture, another IMAP client, waits with
deadlines, and looks into the store."""

from __future__ import annotations

import asyncio
import imaplib
import re
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from app.config import Account, Config, load_config, parse_config
from app.engine import Engine
from app.store import Store


@asynccontextmanager
async def running_engine(config_path: Path) -> AsyncIterator[tuple[Engine, Config, Store]]:
    config = load_config(config_path)
    engine = Engine(config)
    await engine.start()
    store = Store(config.database)
    try:
        yield engine, config, store
    finally:
        await engine.stop()
        store.close()


def account(dovecot, user, *, port: int, security: str, ca_file=None, auth: str = "password",
            host: str | None = None) -> Account:
    """``user``'s account with its IMAP side on ``port`` of the Dovecot fixture (or ``host``)."""
    data = {"accounts": [{
        "email": user.email, "provider": "generic", "password_env": user.env, "auth": auth,
        "imap": {"host": host or dovecot.host, "port": port, "security": security,
                 **({"ca_file": str(ca_file)} if ca_file else {})},
        "smtp": {"host": dovecot.host, "port": 1},
        **({"oauth": {"client_id": "test"}} if auth == "oauth2" else {}),
    }]}
    return parse_config(data).accounts[0]


@contextmanager
def other_client(dovecot, user) -> Iterator[imaplib.IMAP4_SSL]:
    """Another IMAP client (a phone's mail app, a colleague's replydesk, a spam filter), logged
    in to ``user``'s mailbox."""
    ctx = ssl.create_default_context(cafile=str(dovecot.ca_file))
    with imaplib.IMAP4_SSL(dovecot.host, dovecot.imaps_port, ssl_context=ctx) as imap:
        imap.login(user.email, user.password)
        yield imap


async def until(predicate: Callable[[], object], timeout: float, what: str = "condition",
                interval: float = 0.02) -> float:
    """Seconds until ``predicate()`` is true; fails the test past ``timeout``."""
    started = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(interval)


def rows(store: Store, account: str | None = None) -> list[dict]:
    sql = "SELECT * FROM messages" + (" WHERE account = ?" if account else "")
    return [dict(r) for r in store.db.query(sql, [account] if account else [])]


def state(store: Store, account: str) -> str | None:
    row = store.account_row(account)
    return row["state"] if row else None


def failed_logins(dovecot, email: str) -> int:
    """Password checks Dovecot refused for ``email`` (its auth log: one line per attempt)."""
    return len(re.findall(rf"passwd-file\({re.escape(email)},[^)]*\): Password mismatch", dovecot.log_text()))


def logins(dovecot, email: str) -> int:
    return dovecot.log_text().count(f"Login: user=<{email}>")
