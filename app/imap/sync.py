"""UID sync of one folder into the store.

Per folder the store keeps UIDVALIDITY, the highest UID stored and (CONDSTORE) the highest
MODSEQ seen. New mail is ``UID SEARCH`` past that UID, fetched in batches, each batch stored with
the folder's new high-water mark in one transaction; the store's (account, folder, UIDVALIDITY,
UID) key makes any refetch after a fault harmless. A first sync reaches back
``initial_sync_days`` (``UID SEARCH SINCE``). A changed UIDVALIDITY drops the folder's rows and
rescans as far back as they went; user labels live on, keyed on Message-ID.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable

from app.config import Account
from app.imap.connection import ImapConnection
from app.imap.protocol import CHANGED
from app.imap.responses import search_date, uid_set
from app.imap.storage import ParsePool, store_batch
from app.mail import NoiseContext
from app.store.thread import StoreThread

log = logging.getLogger(__name__)

BATCH = 100
"""Messages in a sync's first batch (its first rows come soon) and fewest in any other."""
BATCH_MOST = 400
"""Messages in a batch at most."""
BATCH_BYTES = 1_000_000
"""A big sync's later batches hold about this many bytes, by the average size of the messages it
fetched so far: between ``BATCH`` and ``BATCH_MOST`` messages. Short replies come in batches of
hundreds (each batch costs a FETCH round trip, a frame to the parse worker and a store
transaction), while a batch of big mail holds no more bytes than before."""
MAX_FETCH_BYTES = 4_000_000
"""Bytes of one message fetched; the rest of a bigger one (attachments) is not downloaded."""
FLAG_BATCH = 5000
RECENT_FLAGS = 200
"""Without CONDSTORE, the flags of this many newest messages are read again after each re-SELECT
and every ``FLAG_REFRESH_SECONDS``: a change made elsewhere while another folder was selected, or
on a server that pushes no flag changes, shows without a reconnect (one small FETCH a minute)."""
FLAG_REFRESH_SECONDS = 60.0
EXAMPLES_REFRESH_SECONDS = 5.0
"""How old the labelled replies a big sync classifies with may get (a label made meanwhile)."""
_STATE_OF = {"UIDVALIDITY": "uidvalidity", "UIDNEXT": "uidnext", "MESSAGES": "message_count",
             "HIGHESTMODSEQ": "highestmodseq"}
"""A STATUS item -> the field of the store's folder state it is compared with."""
PARSE_AHEAD = 3
"""Fetched batches waiting to be stored (parsed meanwhile): bounds memory on a big first sync."""
STORE_TOGETHER = 4
"""Batches stored in one transaction at most: the one whose turn it is and those after it that
are parsed already (a store that falls behind commits less often, not later)."""


class FolderSync:
    """Syncs the folders of one account over its connection."""

    def __init__(self, conn: ImapConnection, db: StoreThread, parser: ParsePool, account: Account,
                 initial_sync_days: int, noise: Callable[[], NoiseContext] | None = None, *,
                 flag_refresh_seconds: float = FLAG_REFRESH_SECONDS, batch_most: int = BATCH_MOST) -> None:
        self.conn = conn
        self.batch_most = batch_most
        self.noise = noise
        """The account's warmup tags and own addresses, read for every batch (a tag learned in the
        UI applies from the next message on)."""
        self.db = db
        self.parser = parser
        self.account = account
        self.initial_sync_days = initial_sync_days
        self.flag_refresh_seconds = flag_refresh_seconds
        self._flags_read: dict[str, float] = {}
        """folder -> ``time.monotonic()`` of its last flag read (servers without CONDSTORE)."""
        self._status_seen: dict[str, dict[str, int]] = {}
        """folder -> the last STATUS answer that matched the store: the same answer again needs
        no look at the store (at 5,000 mailboxes the polls come 83 a second)."""

    def quiet(self, folder: str) -> bool:
        """``folder`` is selected, the server announced nothing since its last sync and no flag
        refresh is due: a sync would find nothing (and need no store round trip to say so)."""
        conn = self.conn
        return conn.selected == folder and not conn.proto.changes and (
            conn.condstore or time.monotonic() - self._flags_read.get(folder, 0.0) < self.flag_refresh_seconds)

    async def sync(self, folder: str, role: str, *, full: bool = False) -> None:
        """Bring ``folder`` up to date. ``full``: also re-read every flag and look for messages
        deleted on the server (after a reconnect: pushes may have been missed)."""
        acct = self.account.id
        conn = self.conn
        self._status_seen.pop(folder, None)
        fresh = conn.selected != folder
        info = await conn.select(folder) if fresh else conn.select_info
        assert info is not None
        changes = conn.take_changes()
        state = await self.db.call(lambda s: s.folder_state(acct, folder))
        same = state is not None and state.uidvalidity == info.uidvalidity
        highest = state.highest_uid if same and state else 0
        modseq = state.highestmodseq if same and state else None
        since: float | None = None
        if state is not None and state.uidvalidity and not same:
            oldest = await self.db.call(lambda s: s.oldest_in_folder(acct, folder))
            dropped = await self.db.call(lambda s: s.forget_folder(acct, folder, info.uidvalidity))
            log.info("%s: %s UIDVALIDITY changed (%s -> %s): rescanning %d messages",
                     acct, folder, state.uidvalidity, info.uidvalidity, dropped)
            since = min(oldest or time.time(), time.time() - self.initial_sync_days * 86400)
        elif highest == 0:
            since = time.time() - self.initial_sync_days * 86400

        if since is not None:
            uids = await conn.uid_search("SINCE", search_date(since))
            floor = (info.uidnext - 1) if fresh and info.uidnext else 0
        elif (fresh and info.uidnext is not None and info.uidnext <= highest + 1) or \
                (not fresh and not changes.exists and not full):
            uids, floor = [], 0
        else:
            uids, floor = [u for u in await conn.uid_search("UID", f"{highest + 1}:*") if u > highest], 0

        synced_before = highest
        fields = {"role": role, "uidvalidity": info.uidvalidity}
        # How many messages the server had after our last look, plus the new ones: fewer now means
        # some were expunged while another folder was selected (the server tells only the
        # selected folder's session), so that EXPUNGE was never pushed to us.
        known = state.message_count if same and state is not None else None
        new_count = len(set(uids))
        missed_expunge = fresh and role == "inbox" and bool(synced_before) and (
            known is None or (info.exists is not None and info.exists < known + new_count))
        if fresh:
            fields.update(uidnext=info.uidnext, message_count=info.exists)
        elif known is not None:
            fields["message_count"] = None if changes.expunge else known + new_count
        if fresh and info.highestmodseq is not None and not synced_before:
            # nothing stored before: every message comes with its flags as of this SELECT (the
            # folder's STATUS then matches the store, and an announcement of it costs no sync)
            modseq = info.highestmodseq
        highest = await self._fetch_new(folder, role, info.uidvalidity, sorted(set(uids)), highest, fields)
        highest = max(highest, floor)

        if synced_before:
            recent = not conn.condstore and (
                fresh or time.monotonic() - self._flags_read.get(folder, 0.0) >= self.flag_refresh_seconds)
            modseq = await self._sync_flags(folder, info, synced_before, modseq, fresh, changes.flags, full, recent)
            # Junk and Sent are not watched between polls: a fresh look may find messages gone
            if changes.expunge or full or missed_expunge or (fresh and role != "inbox"):
                await self._remove_vanished(folder, info.uidvalidity, synced_before)
        fields.update(highest_uid=highest, highestmodseq=modseq)
        await self.db.call(lambda s: s.save_folder(acct, folder, **fields))

    async def _fetch_new(self, folder: str, role: str, uidvalidity: int, uids: list[int], highest: int,
                         fields: dict) -> int:
        """Fetch, parse and store ``uids`` in batches; the next batch downloads while one is stored.
        Returns the new highest UID stored."""
        if not uids:
            return highest
        direction = "out" if role == "sent" else "in"
        items = f"(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[]<0.{MAX_FETCH_BYTES}>)"
        done = 0
        acct = self.account.id
        # a pipeline: the connection fetches the next batches while earlier ones are parsed (off
        # the event loop) and stored, in order
        parsing: asyncio.Queue[tuple[list[int], asyncio.Future] | None] = asyncio.Queue(PARSE_AHEAD)
        # each batch holds a place at the engine's gate from before its FETCH until it is stored;
        # a sync of one batch (new mail) goes ahead of history
        gate, urgent = self.parser.gate, len(uids) <= BATCH
        held = 0

        async def fetch_all() -> None:
            nonlocal held
            examples: tuple[tuple[str, str], ...] = ()
            examples_read = -EXAMPLES_REFRESH_SECONDS
            taken = got = got_bytes = 0
            while taken < len(uids):
                size = BATCH if not got else max(BATCH, min(self.batch_most, BATCH_BYTES * got // max(1, got_bytes)))
                chunk = uids[taken:taken + size]
                taken += len(chunk)
                await gate.acquire(urgent)
                held += 1
                fetched = await self.conn.uid_fetch(uid_set(chunk), items)
                got += len(fetched)
                got_bytes += sum(len(f.body or b"") for f in fetched)
                # The user's labelled replies, which the classifier learns from. Read every few
                # seconds, not for every batch: the store's one thread is busy writing the batch
                # before, and waiting on it here would hold the next fetch and parse behind it.
                if direction == "in" and time.monotonic() - examples_read >= EXAMPLES_REFRESH_SECONDS:
                    examples = await self.db.call(lambda s: s.intent_examples())
                    examples_read = time.monotonic()
                await parsing.put((chunk, asyncio.ensure_future(
                    self.parser.parse(folder, uidvalidity, direction, fetched,
                                      self.noise() if self.noise else None, examples))))
                # not held while this mailbox waits at the gate for its next batch: with many
                # mailboxes waiting, each would keep a batch of mail the gate no longer counts
                del fetched
            await parsing.put(None)

        fetcher = asyncio.ensure_future(fetch_all())
        # taken from the queue to look at before their turn: they come next
        ready: deque[tuple[list[int], asyncio.Future] | None] = deque()

        def next_parsed() -> tuple[list[int], asyncio.Future] | None:
            """The next batch where it is parsed already (without error), else None."""
            if not ready:
                if parsing.empty():
                    return None
                ready.append(parsing.get_nowait())
            head = ready[0]
            if head is None or not head[1].done() or head[1].cancelled() or head[1].exception() is not None:
                return None
            return ready.popleft()

        try:
            while True:
                if ready:
                    item = ready.popleft()
                else:
                    getter = asyncio.ensure_future(parsing.get())
                    await asyncio.wait({getter, fetcher}, return_when=asyncio.FIRST_COMPLETED)
                    if not getter.done():
                        getter.cancel()
                        fetcher.result()  # the fetch failed: raise its error
                        continue
                    item = getter.result()
                    del getter
                if item is None:
                    break
                chunk, parsed = item
                del item
                batch = await parsed
                taken = 1
                done += len(chunk)
                while taken < STORE_TOGETHER and (more := next_parsed()) is not None:
                    chunk = more[0]
                    batch = batch + more[1].result()
                    done += len(chunk)
                    taken += 1
                    del more
                highest = max(highest, chunk[-1])
                progress = {"sync_done": done, "sync_total": len(uids)} if len(uids) > BATCH else {}
                await self.db.call(store_batch, acct, folder, batch, {**fields, "highest_uid": highest}, progress)
                # stored: the batch (its future holds it too) is not kept while the next one waits
                del batch, parsed
                held -= taken
                for _ in range(taken):
                    gate.release()
        finally:
            fetcher.cancel()
            while not parsing.empty():
                ready.append(parsing.get_nowait())
            for queued in ready:
                if queued is not None:
                    queued[1].cancel()
            for _ in range(held):
                gate.release()
        return highest

    async def _sync_flags(self, folder: str, info, upto: int, modseq: int | None, fresh: bool,
                          pushed: bool, full: bool, recent: bool) -> int | None:
        """Flags changed by another client: CHANGEDSINCE where the server has CONDSTORE, else a
        fetch of every flag (after a reconnect or a flag push) or of the ``RECENT_FLAGS`` newest
        (``recent``: re-selected, or the periodic look). Returns the MODSEQ to keep."""
        conn = self.conn
        if conn.condstore and modseq is not None:
            if not (pushed or full or (fresh and info.highestmodseq != modseq)):
                return modseq
            fetched = await conn.uid_fetch(f"1:{upto}", f"(UID FLAGS) (CHANGEDSINCE {modseq})")
            new_modseq: int | None = max([modseq, *(f.modseq or 0 for f in fetched)])
            if fresh and info.highestmodseq:
                new_modseq = max(new_modseq or 0, info.highestmodseq)
        elif pushed or full:
            fetched = []
            for start in range(1, upto + 1, FLAG_BATCH):
                fetched += await conn.uid_fetch(f"{start}:{min(upto, start + FLAG_BATCH - 1)}", "(UID FLAGS)")
            new_modseq = info.highestmodseq if fresh else modseq
            self._flags_read[folder] = time.monotonic()
        elif recent:
            fetched = await conn.uid_fetch(f"{max(1, upto - RECENT_FLAGS + 1)}:{upto}", "(UID FLAGS)")
            new_modseq = modseq
            self._flags_read[folder] = time.monotonic()
        else:
            return modseq
        if not fetched:
            return new_modseq
        acct = self.account.id
        flags = {f.uid: f.flags for f in fetched}
        modseqs = {f.uid: f.modseq for f in fetched if f.modseq is not None}
        await self.db.call(lambda s: s.apply_server_flags(acct, folder, info.uidvalidity, flags, modseqs))
        return new_modseq

    async def _remove_vanished(self, folder: str, uidvalidity: int, upto: int) -> None:
        """Messages deleted or moved away on the server (by another client) leave the store."""
        on_server = set(await self.conn.uid_search("UID", f"1:{upto}"))
        acct = self.account.id
        stored = await self.db.call(lambda s: s.stored_uids(acct, folder, uidvalidity))
        gone = sorted(u for u in stored if u <= upto and u not in on_server)
        if gone:
            await self.db.call(lambda s: s.remove_uids(acct, folder, uidvalidity, gone))

    async def announced(self, folders: dict[str, tuple[str, dict[str, int]]]) -> bool:
        """Sync the folders the server said changed (NOTIFY; ``folders``: name -> its role and the
        STATUS items announced) where those items differ from the store's; True if any was synced.
        A server may announce a folder that did not change (Dovecot names every watched folder
        when another client logs in): that costs a store read, no IMAP command."""
        changed = False
        acct = self.account.id
        for folder, (role, items) in folders.items():
            known = {k: v for k, v in items.items() if k in _STATE_OF and (k != "HIGHESTMODSEQ" or self.conn.condstore)}
            if known and CHANGED not in items:
                state = await self.db.call(lambda s, folder=folder: s.folder_state(acct, folder))
                if state is not None and all(getattr(state, _STATE_OF[k]) == v for k, v in known.items()):
                    continue
            await self.sync(folder, role)
            changed = True
        return changed

    async def first_look(self, folders: dict[str, str]) -> None:
        """Junk and Sent when a session begins (``folders``: name -> role): one LIST-STATUS (or
        STATUS each) first. A folder whose numbers match the store's (with CONDSTORE, its flags
        too), or that is empty on the server and was never synced, needs no SELECT: at a cold
        start of 5,000 mailboxes that is six commands a mailbox fewer. Any other is synced in full
        (flags re-read, messages deleted meanwhile removed)."""
        acct = self.account.id
        statuses = await self.conn.statuses(list(folders))
        states = await self.db.call(lambda s: {f.name: f for f in s.folders(acct)})
        empty: dict[str, dict] = {}
        to_sync = []
        for folder, status in statuses.items():
            role, state = folders[folder], states.get(folder)
            if self.conn.condstore and status and state is not None and self._matches(state, status):
                self._status_seen[folder] = status
                continue
            uidvalidity, uidnext = status.get("UIDVALIDITY"), status.get("UIDNEXT")
            if status.get("MESSAGES") == 0 and uidvalidity and uidnext and (state is None or not state.uidvalidity):
                # what a sync of the empty folder would record, without going there
                empty[folder] = {"role": role, "uidvalidity": uidvalidity, "uidnext": uidnext, "message_count": 0,
                                 "highest_uid": uidnext - 1, "highestmodseq": status.get("HIGHESTMODSEQ")}
                self._status_seen[folder] = status
                continue
            to_sync.append(folder)
        if empty:
            def save(s) -> None:
                with s.db.tx():
                    for folder, fields in empty.items():
                        s.save_folder(acct, folder, **fields)
            await self.db.call(save)
        for folder in to_sync:
            await self.sync(folder, folders[folder], full=True)

    def _matches(self, state, status: dict[str, int]) -> bool:
        """The store's state of a folder says what its STATUS answer says."""
        return state.uidvalidity == status.get("UIDVALIDITY") and state.uidnext == status.get("UIDNEXT") \
            and state.message_count == status.get("MESSAGES") \
            and (not self.conn.condstore or state.highestmodseq == status.get("HIGHESTMODSEQ"))

    async def poll(self, folders: dict[str, str], looked: dict[str, dict[str, int]] | None = None) -> bool:
        """STATUS the folders we do not idle on (``folders``: name -> role; one command where the
        server has LIST-STATUS), or read the answers of a look made already (``looked``); sync
        each whose answer says it changed. True if any did. The store is read only for an
        answer that differs from the last one that matched it."""
        changed = False
        acct = self.account.id
        statuses = looked if looked is not None else await self.conn.statuses(list(folders))
        for folder, status in ((f, statuses.get(f, {})) for f in folders):
            if status and self._status_seen.get(folder) == status:
                continue
            state = await self.db.call(lambda s, folder=folder: s.folder_state(acct, folder))
            if status and state is not None and self._matches(state, status):
                self._status_seen[folder] = status
                continue
            await self.sync(folder, folders[folder])
            changed = True
        return changed
