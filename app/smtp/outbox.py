"""The outbox drainer: sends queued replies, retries what may succeed later, and never sends
one twice.

States (``app.store.outbox``): ``queued`` → ``sending`` → ``sent``, or ``failed`` (a 5xx
reply, refused credentials: the server's words are kept with the text), or ``uncertain``.

Why a crash cannot cause a second delivery:

- ``sending`` is written before connecting, ``submitted_at`` right before DATA, and ``sent``
  (with the Sent copy to APPEND and ``\\Answered`` queued as pending operations) in one
  transaction right after the server's acceptance.
- An item found in ``sending`` at start was interrupted. Without ``submitted_at`` the server
  cannot have it: it is queued again. With it, the server may have accepted it in the
  milliseconds before we recorded that: the account's Sent folder is searched by Message-ID.
  Found → ``sent``. Not found, or the search failed → ``uncertain``: the user decides.
  A connection lost (or timed out) after DATA began is the same case, settled the same way.
- Appending our own copy to Sent *before* DATA would not help: its presence would prove
  nothing about delivery. Only a provider that files submissions in Sent itself
  (``smtp_saves_sent``) gives real evidence, and even there a missing copy may be late, so
  "not found" never counts as "not sent".
- Engines sharing a PostgreSQL store (``owner``): every claim and every move of an item is fenced
  by the lease on its mailbox (``app.store.leases.fence``). An engine that lost the lease without
  knowing it yet cannot begin DATA, nor queue again an item the new holder is sending: the write
  raises ``LeaseLost`` and the item is left to the holder, which settles it as after a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sqlite3
import time
from collections.abc import Awaitable, Callable, Collection
from pathlib import Path
from typing import Any

from app.config import Account, Config
from app.errors import ReplydeskError, SendError
from app.smtp.send import send_message
from app.store import Store
from app.store.changes import TICK, Changes, watch
from app.store.leases import LeaseLost
from app.store.rows import OutboxItem
from app.store.thread import StoreThread

log = logging.getLogger(__name__)

SentLookup = Callable[[Account, str], Awaitable[bool | None]]
"""``(account, message_id) -> True`` found in Sent, ``False`` not there, ``None`` cannot tell."""

UNCERTAIN = ("interrupted while the server was receiving it, and not found in the Sent folder: it may "
             "have been delivered")
UNCERTAIN_HINT = "check the thread with the recipient or the Sent folder, then resend or discard it"
STORE_RETRY = (1.0, 60.0)
"""Seconds before the drainer tries the store again after it refused a write, doubling up to the second."""


class OutboxDrainer:
    """Drains the outbox of one database. The engine runs ``run()``; ``replydesk reply``
    without an engine calls ``recover()`` and ``send_now(item_id)``. What happened to each
    reply is its outbox row (state, attempts, the server's words), which the UI and CLI read.

    ``lookup_sent`` searches an account's Sent folder (``app.imap.sent_lookup.message_in_sent``,
    wired by the engine: this package does not import ``app.imap``). Without it an
    interrupted submission is always ``uncertain``.
    """

    def __init__(self, config: Config, db: StoreThread | Path | str, *,
                 lookup_sent: SentLookup | None = None,
                 backoff: tuple[float, float] = (10.0, 300.0),
                 tick: float = TICK, concurrency: int = 8,
                 accounts: Callable[[], Collection[str]] | None = None, owner: str | None = None) -> None:
        self.config = config
        self.accounts = accounts
        """The mailboxes whose outbox this drainer sends (the engine's leases on a PostgreSQL store
        shared by several engines); None: every one."""
        self.owner = owner
        """The lease owner (``app.store.leases``) whose leases fence this drainer's writes; None:
        nothing is fenced (one engine on SQLite)."""
        self._sending: dict[int, str] = {}
        """Items being sent now, and their mailbox."""
        self._recovered_for: set[str] = set()
        self._own_db = not isinstance(db, StoreThread)
        self.db = db if isinstance(db, StoreThread) else StoreThread(db)
        """The engine's store thread (or one of our own, given a path): no SQLite on the loop."""
        self.lookup_sent = lookup_sent
        self.backoff = backoff
        self.tick = tick
        """How often another process's writes are looked for (``app.store.changes``)."""
        self.concurrency = concurrency
        self._recovered = False
        self._finished = asyncio.Event()
        self._broken: list[int] = []
        """Items whose send task ended with an error before recording how it went."""

    # -- the engine's loop -------------------------------------------------------------

    async def run(self) -> None:
        """Send due items until cancelled, woken by the store's change signal (a reply queued in
        this process at once, in another within a tick), a send ending, or a retry falling due."""
        tasks: set[asyncio.Task[Any]] = set()
        failures = 0
        try:
            with watch(self.db.path, self.tick) as changes:
                while True:
                    seen = changes.count
                    try:
                        await self.recover()
                        await self._settle_broken_sends()
                        due = await self._start_due(tasks)
                    except sqlite3.Error as exc:
                        # a full disk, a lock held past the wait: nothing is lost (the items stay
                        # queued or sending); say it beside the store as the watchers do, and try again
                        self.db.status.failed(exc)
                        delay = min(STORE_RETRY[0] * 2 ** failures, STORE_RETRY[1])
                        failures += 1
                        log.warning("outbox: the store refused a write (%s); trying again in %.0f s", exc, delay)
                        await asyncio.sleep(delay)
                        continue
                    if failures:
                        failures = 0
                        self.db.status.recovered()
                    if len(tasks) >= self.concurrency:
                        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                    else:
                        await self._wait_for_work(changes, seen, due)
        finally:
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            await self.close()

    async def _start_due(self, tasks: set[asyncio.Task[Any]]) -> float | None:
        """Start sending the items that are due, up to ``concurrency`` at once; returns when the
        next queued one is due."""
        # a read first: claiming takes the write lock, which would hold up the store thread the
        # watchers write their batches through, and most wakes are theirs
        held = self._held()
        if held is not None and not held:
            return None
        due = await self.db.call(Store.next_outbox_due, held)
        while len(tasks) < self.concurrency and due is not None and due <= time.time():
            item = await self.db.call(Store.claim_due, None, held, owner=self.owner)
            if item is None:
                break
            self._sending[item["id"]] = item["account"]
            task = asyncio.create_task(self._send(item), name=f"outbox-{item['id']}")
            tasks.add(task)
            task.add_done_callback(self._task_done(tasks, item["id"]))
            due = await self.db.call(Store.next_outbox_due, self._held())
        return due

    def _held(self) -> list[str] | None:
        return None if self.accounts is None else sorted(self.accounts())

    def busy_accounts(self) -> set[str]:
        """The mailboxes with a reply being sent right now: the engine gives one back only after."""
        return set(self._sending.values())

    async def close(self) -> None:
        if self._own_db:
            await self.db.close()

    def _task_done(self, tasks: set[asyncio.Task[Any]], item_id: int) -> Callable[[asyncio.Task[Any]], None]:
        def done(task: asyncio.Task[Any]) -> None:
            tasks.discard(task)
            self._sending.pop(item_id, None)
            self._finished.set()  # a retry time may have been set: look again
            if not task.cancelled() and task.exception() is not None:
                # its outcome was not recorded (the store refused it, or a fault): the item is
                # left in `sending`; the loop settles it as after a crash, not the next start
                log.error("outbox: %s failed", task.get_name(), exc_info=task.exception())
                self._broken.append(item_id)
        return done

    async def _settle_broken_sends(self) -> None:
        """Settle the items whose send ended without its outcome recorded, as ``recover`` does
        after a crash: queued again if the server cannot have it, else looked for in Sent."""
        while self._broken:
            item = await self.db.call(Store.outbox_item, self._broken[0])
            if item is not None and item["state"] == "sending":
                await self._recover(item)
            self._broken.pop(0)

    async def _wait_for_work(self, changes: Changes, seen: int, due: float | None) -> None:
        """Sleep until the next retry is ``due``, a send ends, or the store changes."""
        timeout = 60.0 if due is None else max(due - time.time(), 0.0)
        if not self._finished.is_set():
            changed = asyncio.ensure_future(changes.wait(seen))
            finished = asyncio.ensure_future(self._finished.wait())
            try:
                await asyncio.wait((changed, finished), timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            finally:
                changed.cancel()
                finished.cancel()
        self._finished.clear()

    # -- crash recovery ----------------------------------------------------------------

    async def recover(self) -> None:
        """Settle items a previous run left in ``sending`` (see the module docstring). Sharing
        the mailboxes with other engines, those of each mailbox once it is taken (its engine
        died, or gave it back after its sends ended), and never one of this drainer's own."""
        if self.accounts is None:
            if self._recovered:
                return
            for item in await self.db.call(Store.outbox, ("sending",)):
                await self._recover(item)
            self._recovered = True  # only once every item is settled: a store error tries them again
            return
        held = set(self.accounts())
        self._recovered_for &= held  # a mailbox given back is looked at again if it comes back
        new = held - self._recovered_for
        if not new:
            return
        for item in await self.db.call(Store.outbox, ("sending",)):
            if item["account"] in new and item["id"] not in self._sending:
                await self._recover(item)
        self._recovered_for |= new

    async def _recover(self, item: OutboxItem) -> None:
        try:
            await self._recover_fenced(item)
        except LeaseLost as exc:
            log.warning("outbox %s: %s; left to the engine holding it", item["id"], exc)

    async def _recover_fenced(self, item: OutboxItem) -> None:
        if item["submitted_at"] is None:
            await self.db.call(Store.retry_later, item["id"], "interrupted before the server received it", time.time(),
                               owner=self.owner)
            return
        account = await self._account(item)
        if account is None:
            return
        found = None
        if self.lookup_sent is not None:
            try:
                found = await self.lookup_sent(account, item["message_id"])
            except (TimeoutError, ReplydeskError, OSError) as exc:
                log.warning("outbox %s: Sent folder search failed: %s", item["id"], exc)
        if found:
            # the provider filed it in Sent: no copy of ours to APPEND
            await self.db.call(Store.record_sent, item["id"], append_to_sent=False)
            return
        await self.db.call(Store.set_outbox_state, item["id"], "uncertain", error=f"{UNCERTAIN} ({UNCERTAIN_HINT})",
                           owner=self.owner)

    # -- one item ----------------------------------------------------------------------

    async def send_now(self, item_id: int) -> OutboxItem | None:
        """Send one queued item at once, whatever its retry time. Returns its row afterwards."""
        item = await self.db.call(Store.claim_item, item_id, owner=self.owner)
        if item is not None:
            await self._send(item)
        return await self.db.call(Store.outbox_item, item_id)

    async def _send(self, item: OutboxItem) -> None:
        try:
            await self._send_fenced(item)
        except LeaseLost as exc:
            log.warning("outbox %s: %s; left to the engine holding it", item["id"], exc)

    async def _send_fenced(self, item: OutboxItem) -> None:
        item_id, account_id = item["id"], item["account"]
        account = await self._account(item)
        if account is None:
            return
        submitted = False

        async def before_data() -> None:
            nonlocal submitted
            await self.db.call(Store.mark_submitted, item_id, owner=self.owner)
            submitted = True

        try:
            await send_message(account, item["raw"], item["recipients"], before_data=before_data)
        except SendError as exc:
            # a reply from the server (even a refusal) shows SMTP works; no reply at all does not
            await self.db.call(Store.set_smtp_health, account_id, exc.code is not None,
                               None if exc.code else str(exc))
            if submitted and exc.code is None:
                # the link broke after DATA began, before the server's answer: it may have the
                # reply. Retrying blindly could deliver it twice; decide as after a crash.
                await self._recover({**item, "submitted_at": time.time()})
                return
            if exc.permanent:
                await self._fail(item, str(exc))
            else:
                retry_at = time.time() + self._delay(item["attempts"])
                await self.db.call(Store.retry_later, item_id, str(exc), retry_at, owner=self.owner)
        except ReplydeskError as exc:
            # refused credentials, a missing secret: retrying the same thing cannot help
            await self.db.call(Store.set_smtp_health, account_id, False, str(exc))
            await self._fail(item, str(exc))
        except asyncio.CancelledError:
            if not submitted:
                with contextlib.suppress(LeaseLost):  # then the holder queues it again
                    await self.db.call(Store.retry_later, item_id, "interrupted before the server received it",
                                       time.time(), owner=self.owner)
            raise
        else:
            # the account's health first: whoever sees the reply sent sees the server working
            await self.db.call(Store.set_smtp_health, account_id, True)
            await self.db.call(Store.record_sent, item_id, append_to_sent=not account.smtp_saves_sent)

    async def _fail(self, item: OutboxItem, error: str) -> None:
        await self.db.call(Store.set_outbox_state, item["id"], "failed", error=error, owner=self.owner)

    async def _account(self, item: OutboxItem) -> Account | None:
        try:
            return self.config.account(item["account"])
        except ReplydeskError:
            await self._fail(item, f"account {item['account']!r} is no longer in the config")
            return None

    def _delay(self, attempts: int) -> float:
        """10 s, 20 s, 40 s … up to 5 min, with jitter so many mailboxes do not retry in step."""
        base, cap = self.backoff
        return min(cap, base * 2 ** min(max(attempts - 1, 0), 16)) * random.uniform(0.8, 1.2)
