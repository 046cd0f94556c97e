"""One watcher per account: connect, sync, IDLE on INBOX, wake, work, IDLE again.

Wakes on a server push, the refresh timer (``idle_refresh_minutes``), a local command (pending
ops, ``wake()``) or a poll being due. Junk and Sent: where the server has NOTIFY (RFC 5465) it
says when they change, also during IDLE, and they are never polled; elsewhere they are looked at
every ``poll_interval_seconds`` (one LIST-STATUS where offered, else STATUS each).
Network errors reconnect with exponential backoff and jitter (1 s to 5 min) and always resync by
UID. Authentication and configuration errors stop the account with a hint: no retry storm.
Every state change is one log line and one row update (the UI's health view).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import sqlite3
import time
from collections.abc import Callable

from app.config import Account, GeneralConfig
from app.errors import AccountConfigError, AuthError, ReauthNeeded, ReplydeskError, SecretError
from app.folders import assign_roles
from app.imap.connection import ImapConnection, ImapNo
from app.imap.ops import OpsRunner
from app.imap.pace import ConnectPace
from app.imap.protocol import ANY_FOLDER
from app.imap.storage import ParsePool
from app.imap.sync import FolderSync
from app.mail import NoiseContext
from app.store.health import store_problem_text
from app.store.lifecycle import ACCOUNT_STOPPED_BY_ERROR, AccountState, IllegalTransition
from app.store.thread import StoreThread

log = logging.getLogger(__name__)

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 300.0
POLLED_ROLES = ("junk", "sent")
SYNCED_REFRESH_SECONDS = 300.0
"""A wake that found nothing new (a poll, the IDLE refresh) writes the account's ``last_sync``
at most this often: one write a minute per mailbox is 83 a second at 5,000 mailboxes."""
POLL_JITTER = 0.1
"""Each poll comes after ``poll_interval_seconds`` less up to this share of it, at random: the
polls of accounts that connected together drift apart instead of coming in bursts."""


class Backoff:
    """Exponential, with jitter so that 500 accounts cut off together do not return together."""

    def __init__(self, first: float = BACKOFF_FIRST, cap: float = BACKOFF_MAX) -> None:
        self.first, self.cap, self.failures = first, cap, 0

    def next(self) -> float:
        ceiling = min(self.cap, self.first * 2 ** self.failures)
        self.failures += 1
        return max(self.first, random.uniform(ceiling / 2, ceiling))

    def reset(self) -> None:
        self.failures = 0


class AccountWatcher:
    def __init__(self, account: Account, general: GeneralConfig, db: StoreThread, parser: ParsePool,
                 connect_slots: ConnectPace, *,
                 noise: Callable[[], NoiseContext] | None = None) -> None:
        self.account = account
        self.noise = noise
        self.general = general
        self.db = db
        self.parser = parser
        self.connect_slots = connect_slots
        self.state: str | None = None
        self.roles: dict[str, str] = {}
        self.backoff = Backoff()
        self._wake = asyncio.Event()
        self._synced_at = 0.0

    def wake(self) -> None:
        """A local command is waiting (pending ops): leave IDLE and run it."""
        self._wake.set()

    @property
    def stopped(self) -> bool:
        return self.state in ACCOUNT_STOPPED_BY_ERROR

    async def _set_state(self, state: str, error: str | None = None, hint: str | None = None) -> None:
        if state == self.state and error is None:
            return
        self.state = state
        acct = self.account.id
        if error:
            log.info("%s: %s after %s%s", acct, state, error, f" ({hint})" if hint else "")
        else:
            log.info("%s: %s", acct, state)
        try:
            await self.db.call(lambda s: s.set_account_state(acct, state, error=error, hint=hint))
        except sqlite3.Error as exc:
            # the database cannot take even this row: say it beside the store, keep watching
            self.db.status.failed(exc)
        except IllegalTransition as exc:
            # the row is not where this watcher left it (a write lost to a full disk, the account
            # removed meanwhile): the table refused the move; the next start writes from anywhere
            log.warning("%s: state not recorded: %s", acct, exc)
        else:
            self.db.status.recovered()  # it took a write: the disk has room again

    async def run(self) -> None:
        acct = self.account
        await self.db.call(lambda s: s.ensure_account(acct.id, acct.email, acct.name))
        while True:
            conn: ImapConnection | None = None
            try:
                await self._set_state(AccountState.CONNECTING)
                async with self.connect_slots.slot(acct.imap.host):
                    conn = ImapConnection(acct)
                    await conn.open()
                await self._session(conn)
            except ReauthNeeded as exc:
                await self._set_state(AccountState.REAUTH_NEEDED, exc.message, exc.hint)
                return
            except AuthError as exc:
                await self._set_state(AccountState.AUTH_FAILED, exc.message, exc.hint)
                return
            except (AccountConfigError, SecretError) as exc:
                await self._set_state(AccountState.CONFIG_ERROR, exc.message, exc.hint)
                return
            except sqlite3.Error as exc:
                # a full disk, an I/O error: nothing is lost (a folder's UID mark moves only with
                # its rows), the mail waits on the server; back off and try again by ourselves
                self.db.status.failed(exc)
                what, fix = store_problem_text(exc)
                await self._retry_later(exc, state=AccountState.STORE_ERROR, text=what, hint=fix)
            except (ReplydeskError, ImapNo, OSError, TimeoutError) as exc:
                await self._retry_later(exc)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug must not end the account's watch: log it, retry
                log.exception("%s: unexpected error", acct.id)
                await self._retry_later(exc)
            finally:
                if conn is not None:
                    await conn.close()

    async def _retry_later(self, exc: BaseException, *, state: str = AccountState.BACKOFF, text: str | None = None,
                           hint: str | None = None) -> None:
        delay = self.backoff.next()
        if text is None:
            text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            text = f"{type(exc).__name__}: {text}"
        await self._set_state(state, text[:500], f"{hint + '; ' if hint else ''}retrying in {delay:.0f} s")
        await asyncio.sleep(delay)

    async def _session(self, conn: ImapConnection) -> None:
        acct = self.account.id
        await self._set_state(AccountState.SYNCING)
        self.roles = roles = assign_roles(await conn.list_folders(), self.account.folders)
        caps = " ".join(sorted(conn.capabilities))

        def save_roles(s) -> None:
            with s.db.tx():  # one commit, not one per folder (5,000 mailboxes start at once)
                s.update_account(acct, capabilities=caps)
                for role, name in roles.items():
                    s.save_folder(acct, name, role=role)
        await self.db.call(save_roles)

        polled = {roles[role]: role for role in POLLED_ROLES if role in roles}
        # before the first look at them, so that no change after it goes unsaid
        notified = await conn.notify(list(polled))
        syncer = FolderSync(conn, self.db, self.parser, self.account, self.general.initial_sync_days,
                            self.noise)
        ops = OpsRunner(conn, self.db, self.account, roles, conn.select)
        inbox = roles["inbox"]
        poll_every = self.general.poll_interval_seconds
        # the user's intents first, so a flag resync cannot undo them before they reach the server
        await ops.run()
        await syncer.sync(inbox, "inbox", full=True)
        await syncer.first_look(polled)
        if not syncer.quiet(inbox):  # INBOX was left for Junk or Sent, or news came meanwhile
            await syncer.sync(inbox, "inbox")
        await ops.run()  # what the sync itself queued (a label's keyword to put back) goes out now
        await self._synced()
        self.backoff.reset()
        refresh = self.general.idle_refresh_minutes * 60
        # spread the polls of accounts that connected together; none where the server notifies
        next_poll = math.inf if notified else time.monotonic() + poll_every * random.uniform(0.5, 1.0)
        while True:
            await self._set_state(AccountState.IDLE)
            due = min(next_poll, ops.next_retry() or next_poll)  # a refused op's next try
            wait = max(0.0, min(refresh, due - time.monotonic()))
            # a poll due when the wait is up goes out with the DONE that ends it
            look = list(polled) if next_poll <= time.monotonic() + wait else None
            reason = await conn.idle(self._wake, wait, look)
            if reason == "push":
                now = time.time()
                await self.db.call(lambda s, now=now: s.update_account(acct, last_push=now))
            if self._wake.is_set():
                self._wake.clear()
            retry = ops.next_retry()
            if reason != "refresh" or (retry is not None and retry <= time.monotonic()):
                # a new op wakes us (the engine follows the store); a refused one has its timer
                await ops.run()
            announced = conn.take_announced()
            if notified and conn.proto.notify_overflow:
                log.info("%s: the server stopped notifying (NOTIFICATIONOVERFLOW): polling Junk and Sent", acct)
                notified, next_poll = False, time.monotonic()
            news = {f: (role, announced.get(f) or announced.get(ANY_FOLDER) or {})
                     for f, role in polled.items() if f in announced or ANY_FOLDER in announced}
            changed = await syncer.announced(news)
            looked = conn.take_looked()
            if looked is not None or time.monotonic() >= next_poll:
                rest = {f: role for f, role in polled.items() if f not in news}
                changed = await syncer.poll(rest, looked) or changed
                next_poll = time.monotonic() + poll_every * random.uniform(1.0 - POLL_JITTER, 1.0)
            if reason == "refresh" and not changed and syncer.quiet(inbox):
                # nothing announced, nothing found: no INBOX sync, no store round trip
                if time.monotonic() - self._synced_at >= SYNCED_REFRESH_SECONDS:
                    await self._synced()
                continue
            before = await self.db.call(lambda s: s.folder_state(acct, inbox))
            await syncer.sync(inbox, "inbox")
            if before is not None and before.uidvalidity:
                via = "push" if reason == "push" else "poll"
                await self.db.call(lambda s, b=before, via=via:
                                   s.note_arrival(acct, inbox, b.uidvalidity, b.highest_uid, via))
            await self._synced()

    async def _synced(self) -> None:
        acct, now = self.account.id, time.time()
        self._synced_at = time.monotonic()
        await self.db.call(lambda s: s.update_account(acct, last_sync=now, sync_done=0, sync_total=0))
