"""The engine: one IMAP watcher per enabled account, the outbox drainer, and the lock that keeps
it the only engine on its database.

    engine = Engine(config)              # store_path defaults to config.database
    await engine.start()                 # EngineLocked if another engine holds the database
    await engine.reload(new_config)      # adds/removes/restarts accounts, others keep running
    await engine.stop()                  # watchers LOGOUT, drainer stops, lock released

The UI (this process or another) writes user intents into ``pending_ops`` and the outbox. The
engine learns of them through the store's change signal (``app.store.changes``): a write in this
process wakes it at once, one in another process within a ``tick`` (0.25 s); then the watchers
that have work leave IDLE, and the outbox drainer looks for a reply to send.

``engine_lock_holder(db_path)`` says who runs an engine on a database (``"pid 123 on host"``),
or None: the TUI calls it to decide whether to start its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

from app.auth.keyring_store import KEYRING_WARNING, plaintext_keyring
from app.collector import fewer_collections
from app.config import Account, Config, GeneralConfig
from app.engine_lock import EngineLock, engine_lock_holder  # noqa: F401 (engine_lock_holder: re-exported)
from app.errors import ConfigError
from app.followups import FollowupClock, FollowupPolicy
from app.imap.pace import ConnectPace, FetchGate
from app.imap.sent_lookup import message_in_sent
from app.imap.storage import ParsePool
from app.imap.watcher import AccountWatcher
from app.mail import NoiseContext
from app.mail.categories import parse_category
from app.mail.rules import Rules, load_rules
from app.noise import noise_contexts, noise_settings
from app.sequencers.dispatch import Dispatcher
from app.smtp.outbox import OutboxDrainer
from app.store import BouncePolicy, Reapplied, Store, is_postgres
from app.store.activity import ENGINE_USER, AssignRule
from app.store.changes import TICK, watch
from app.store.leases import lease_owner
from app.store.lifecycle import AccountState
from app.store.thread import StoreThread

log = logging.getLogger(__name__)

STOP_TIMEOUT = 4.0


# -- connecting many mailboxes --------------------------------------------------------------

TLS_BUFFER = 16 * 1024
"""The read buffer of each of the engine's TLS connections (``small_tls_buffers``)."""


def small_tls_buffers(size: int = TLS_BUFFER) -> None:
    """asyncio gives every TLS connection a 256 KiB read buffer: most of the engine's memory at
    thousands of idle mailboxes. A TLS record carries at most 16 KiB, so a buffer of that size
    reads as fast (measured: 1,000 idle mailboxes 361 MB -> 126 MB, FETCH no slower). The engine
    owns its process's connections, so it sets this once, at start. The size is asyncio's own
    (not documented): a Python without it keeps its buffers as they are."""
    import asyncio.sslproto
    current = getattr(asyncio.sslproto.SSLProtocol, "max_size", None)
    if isinstance(current, int) and current > size:
        asyncio.sslproto.SSLProtocol.max_size = size


# -- logging -------------------------------------------------------------------------------

class QuietFileHandler(logging.FileHandler):
    """A log file that never gets in the way: when a line cannot be written (the disk is full)
    it is dropped, without the traceback on stderr the standard handler prints for each one."""

    dropped = 0

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        self.dropped += 1


def log_to_file(path: Path) -> logging.Handler:
    """Engine log lines (one per state change) into ``path``, created 0600 like the database;
    returns the handler to remove later."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    handler = QuietFileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    root = logging.getLogger("app")
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    return handler


# -- the engine ----------------------------------------------------------------------------

def user_rules(general: GeneralConfig) -> Rules | None:
    """The user's own rules file, added to the shipped rules; a bad one stops the start with one
    line naming the file and the pattern."""
    if general.rules_file is None:
        return None
    path = general.rules_file.expanduser()
    try:
        return load_rules(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"general.rules_file: cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigError(f"general.rules_file: {path}: {exc}") from None


def bounce_policy(general: GeneralConfig) -> BouncePolicy:
    """When repeated soft bounces suppress an address, from ``[general]``."""
    return BouncePolicy(soft_limit=general.soft_bounce_limit, soft_days=general.soft_bounce_days)


def assign_rules(config: Config) -> list[AssignRule]:
    """The config's ``[[assign]]`` rules for the store (categories by their id)."""
    rules = []
    for i, r in enumerate(config.assign):
        try:
            category = parse_category(r.category) if r.category is not None else None
        except ValueError as exc:
            raise ConfigError(f"{config.path or 'config'}: assign[{i}].category: {exc}") from None
        rules.append(AssignRule(r.user.strip(), r.mailbox, r.mailbox_domain, category))
    return rules


def _without_noise(general: GeneralConfig) -> GeneralConfig:
    return dataclasses.replace(general, warmup_tags=[], own_domains=[])


class Engine:
    def __init__(self, config: Config, store_path: Path | str | None = None, *,
                 clock: Callable[[], float] = time.time, tick: float = TICK) -> None:
        self.config = config
        self.clock = clock
        """Time for snoozes and follow-ups (tests move it by days)."""
        self.tick = tick
        """Seconds between two looks for another process's writes (``app.store.changes``)."""
        self.followups: FollowupClock | None = None
        self._followup_task: asyncio.Task | None = None
        self.dispatcher: Dispatcher | None = None
        self._dispatch_task: asyncio.Task | None = None
        self.store_path: Path | str = config.database if store_path is None else (
            store_path if is_postgres(store_path) else Path(store_path))
        self.watchers: dict[str, AccountWatcher] = {}
        self._tasks: dict[str, asyncio.Task] = {}
        self._lock = EngineLock(self.store_path)
        self._db: StoreThread | None = None
        self._parser: ParsePool | None = None
        self._slots = ConnectPace(config.general.connect_concurrency, config.general.connects_per_second)
        self._poller: asyncio.Task | None = None
        self._drainer: asyncio.Task | None = None
        self._outbox: OutboxDrainer | None = None
        self._log_handler: logging.Handler | None = None
        self._noise: Callable[[str], NoiseContext] | None = None
        self._reapplying: set[asyncio.Task] = set()
        self._stopping = threading.Event()
        self.running = False
        # a PostgreSQL store: engines on any hosts share the mailboxes by lease (app/store/leases.py)
        self.leasing = is_postgres(self.store_path)
        self.owner = lease_owner()
        self.held: set[str] = set()
        """The mailboxes this engine holds (leasing), whose IDLE it keeps and whose outbox it drains."""
        self.leader = not self.leasing
        """This engine runs the follow-up clock and the dispatch (one engine of a store does)."""
        self._leaser: asyncio.Task | None = None
        self._lease_ok = 0.0

    def noise(self, account_id: str) -> NoiseContext:
        """The warmup tags and own addresses mail for ``account_id`` is classified with."""
        if self._noise is None:
            self._noise = noise_contexts(self.config)
        return self._noise(account_id)

    @property
    def fetch_gate(self) -> FetchGate | None:
        """The engine's gate on fetched mail held at once (``[general] fetch_ahead_batches``);
        None before ``start``."""
        return self._parser.gate if self._parser is not None else None

    @property
    def parse_workers_ready(self) -> int:
        """Parse worker processes up and ready to read (the first starts with the engine)."""
        return self._parser.ready_workers if self._parser is not None else 0

    async def start(self) -> None:
        small_tls_buffers()
        fewer_collections()
        self._lock.acquire()
        try:
            general = self.config.general
            self._parser = ParsePool(general.parse_workers, general.read_timeout_seconds, user_rules(general),
                                     general.fetch_ahead_batches or 4 * general.parse_workers)
            # its first worker starts (~0.3 s) while the store opens and the connections log in
            self._parser.start()
            self._log_handler = log_to_file(self.config.log_file)
            if self.config.reads_keyring and (plain := plaintext_keyring()) is not None:
                log.warning("engine: %s", KEYRING_WARNING.format(name=plain))
            self._db = StoreThread(self.store_path)
            self._db.status.ready()
            await self._db.call(lambda s: s.data_version())
            await self._db.call(Store.set_bounce_policy, bounce_policy(self.config.general))
            await self._db.call(Store.set_assign_rules, assign_rules(self.config))
        except BaseException:
            if self._parser is not None:
                self._parser.close()
                self._parser = None
            self._lock.release()
            raise
        self.running = True
        log.info("engine: started on %s with %d accounts", self.store_path,
                 sum(a.enabled for a in self.config.accounts))
        if self.leasing:
            await self._renew_leases()  # this engine's share, before anything starts
            self._leaser = asyncio.create_task(self._lease_loop(), name="replydesk-leases")
        else:
            for account in self.config.accounts:
                if account.enabled:
                    self._start_watcher(account)
            self._start_leader_work()
        await self._mark([a for a in self.config.accounts if not a.enabled], AccountState.DISABLED)
        self._poller = asyncio.create_task(self._follow_changes(), name="replydesk-changes")
        self._drainer = asyncio.create_task(self._run_drainer(), name="replydesk-outbox")

    def _start_leader_work(self) -> None:
        """The store-wide work one engine of a store runs: follow-ups, dispatch to the platforms."""
        assert self._db is not None
        self.followups = FollowupClock(self._db, self.config.general, self.clock)
        self._followup_task = asyncio.create_task(self.followups.run(), name="replydesk-followups")
        self._start_dispatcher()

    def _stop_leader_work(self) -> None:
        for task in (self._followup_task, self._dispatch_task):
            if task is not None:
                task.cancel()
        self._followup_task = self._dispatch_task = None
        self.followups = None
        self.dispatcher = None

    # -- sharing the mailboxes with other engines (a PostgreSQL store) --------------------

    async def _lease_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.general.lease_seconds / 3 * random.uniform(0.9, 1.0))
            await self._renew_leases()

    async def _renew_leases(self) -> None:
        """Beat, renew, take this engine's share. A mailbox no longer held is stopped (its IDLE
        and its outbox) before anything else; one over the share is stopped, then given back.
        Unable to renew for most of the lease time, the engine stops every mailbox: their
        leases may have expired and another engine may be taking them."""
        assert self._db is not None
        general = self.config.general
        ids = [a.id for a in self.config.accounts if a.enabled]
        try:
            holding = await self._db.call(Store.hold_leases, self.owner, socket.gethostname(), os.getpid(), ids,
                                          general.max_accounts_per_engine, general.lease_seconds)
        except Exception as exc:
            log.warning("engine: renewing the mailbox leases failed: %s", exc)
            if self.held and time.monotonic() - self._lease_ok > general.lease_seconds * 0.75:
                log.error("engine: the leases could not be renewed for %.0f s: stopping %d mailboxes until they are",
                          time.monotonic() - self._lease_ok, len(self.held))
                await self._let_go(set(self.held))
                if self.leader:
                    self.leader = False
                    self._stop_leader_work()
            return
        self._lease_ok = time.monotonic()
        keep = set(holding.held - holding.over_share)
        await self._let_go(self.held - keep)  # what was lost, and what is over the share, stopped first
        if holding.over_share:
            busy = self._outbox.busy_accounts() if self._outbox is not None else set()
            ready = set(holding.over_share) - busy
            if ready:
                await self._db.call(Store.release_leases, self.owner, ready)
        gained = keep - self.held
        self.held |= gained
        for account in self.config.accounts:
            if account.id in gained and account.enabled:
                self._start_watcher(account)
        if gained or holding.over_share:
            log.info("engine: holds %d mailboxes (%d engines share the store)", len(self.held), holding.engines)
        if holding.leader != self.leader:
            self.leader = holding.leader
            if self.leader:
                self._start_leader_work()
            else:
                self._stop_leader_work()

    async def _let_go(self, ids: set[str]) -> None:
        """Stop these mailboxes: no new send from their outbox first, then their IDLE."""
        if not ids:
            return
        self.held -= ids
        await self._stop_watchers(list(ids))

    def _start_dispatcher(self) -> None:
        """Decisions to the sending platforms and webhooks (app.sequencers), from the event journal."""
        if self._dispatch_task is not None:
            self._dispatch_task.cancel()
        self.dispatcher = Dispatcher(self._db, self.config, self.clock)
        self._dispatch_task = asyncio.create_task(self.dispatcher.run(), name="replydesk-dispatch")

    async def _run_drainer(self) -> None:
        """Replies queued in the outbox are sent by app.smtp; Sent-folder lookups come from app.imap."""
        assert self._db is not None
        self._outbox = OutboxDrainer(self.config, self._db, lookup_sent=message_in_sent, tick=self.tick,
                                     accounts=(lambda: self.held) if self.leasing else None,
                                     owner=self.owner if self.leasing else None)
        await self._outbox.run()

    def _start_watcher(self, account: Account) -> None:
        assert self._db is not None and self._parser is not None
        watcher = AccountWatcher(account, self.config.general, self._db, self._parser, self._slots,
                                 noise=lambda: self.noise(account.id))
        self.watchers[account.id] = watcher
        self._tasks[account.id] = asyncio.create_task(watcher.run(), name=f"imap-{account.id}")

    async def _stop_watchers(self, ids: list[str]) -> None:
        tasks = [self._tasks.pop(i) for i in ids if i in self._tasks]
        for i in ids:
            self.watchers.pop(i, None)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_TIMEOUT)

    async def _mark(self, accounts: list[Account], state: str) -> None:
        if self._db is None or not accounts:
            return

        def mark(s) -> None:
            with s.db.tx():
                for account in accounts:
                    s.ensure_account(account.id, account.email, account.name)
                    s.set_account_state(account.id, state)
        await self._db.call(mark)

    async def reload(self, config: Config, *, reapply_noise: bool = True) -> None:
        """Apply a new config: accounts added start, removed or disabled ones stop, changed ones
        (or ones stopped by an auth/config error, which the user may have just fixed) restart;
        every other watcher keeps its connection. Changed warmup tags or own domains apply to
        the next message, and (``reapply_noise``) to the stored mail in one pass on a thread of
        its own (the inbox passes False: it runs that pass itself, with its progress on screen)."""
        noise_changed = noise_settings(config) != noise_settings(self.config)
        old = {a.id: a for a in self.config.accounts if a.enabled}
        old_targets = (self.config.sequencers, self.config.webhooks)
        new = {a.id: a for a in config.accounts if a.enabled}
        restart = [k for k in new if k in old and (old[k] != new[k] or
                                                   (k in self.watchers and self.watchers[k].stopped))]
        # warmup tags and own domains apply to the next message parsed: no reconnect for them
        general_changed = _without_noise(config.general) != _without_noise(self.config.general)
        if general_changed:
            restart = list(new.keys() & old.keys())
        gone = [k for k in old if k not in new]
        self.config = config
        if self._db is not None:
            await self._db.call(Store.set_bounce_policy, bounce_policy(config.general))
            await self._db.call(Store.set_assign_rules, assign_rules(config))
        if self.followups is not None:
            self.followups.policy = FollowupPolicy(config.general)
            self.followups.kick()
        self._noise = None
        if self.running and (config.sequencers, config.webhooks) != (old_targets):
            self._start_dispatcher()
        if self._outbox is not None:
            self._outbox.config = config  # replies from accounts just added are sent too
        await self._stop_watchers(gone + restart)
        configured = {a.id for a in config.accounts}
        await self._mark([old[k] for k in gone if k in configured], AccountState.DISABLED)
        await self._mark([old[k] for k in gone if k not in configured], AccountState.STOPPED)
        for k in [*restart, *[k for k in new if k not in old]]:
            if not self.leasing or k in self.held:  # leasing: new mailboxes are taken at the next renewal
                self._start_watcher(new[k])
        log.info("engine: reloaded (%d started, %d stopped, %d restarted)",
                 len([k for k in new if k not in old]), len(gone), len(restart))
        if noise_changed and reapply_noise and self.running:
            task = asyncio.create_task(self._reapply_noise(config), name="replydesk-noise")
            self._reapplying.add(task)
            task.add_done_callback(self._reapplying.discard)

    async def _reapply_noise(self, config: Config) -> None:
        """The warmup tags applied to every stored message, on its own connection and thread:
        the store thread the watchers share stays free."""
        path, stop = self.store_path, self._stopping

        def run() -> Reapplied:
            store = Store(path, ENGINE_USER)
            try:
                return store.reapply_warmup(noise_contexts(config), stop=stop.is_set)
            finally:
                store.close()
        log.info("engine: applying the warmup tags to the stored mail")
        try:
            result = await asyncio.to_thread(run)
        except Exception as exc:
            log.error("engine: applying the warmup tags to the stored mail failed: %s: %s", type(exc).__name__, exc)
            return
        log.info("engine: warmup tags applied: %d messages now warmup, %d no longer", result.to_warmup,
                 result.from_warmup)

    async def _follow_changes(self) -> None:
        """Whenever the store changes (``app.store.changes``: any write in this process at once,
        another process's within a tick), wake the watchers that have a new pending op. A write by
        another connection (a terminal, the CLI) also wakes the follow-up clock and the dispatcher;
        the engine's own writes (a sync's batches) do not, or they would run after every batch:
        their own timers take what those writes bring. Changes made while one look runs make one
        more look."""
        assert self._db is not None

        def look(s: Store, mark: tuple[int, int] | None) -> tuple[tuple[int, int], dict[str, int] | None]:
            now = s.db.change_mark()
            return now, (s.newest_pending_ops() if now != mark else None)
        mark: tuple[int, int] | None = None
        woken: dict[str, int] = {}
        with watch(self.store_path, self.tick) as changes:
            while True:
                seen, before = changes.count, mark
                try:
                    mark, newest = await self._db.call(look, mark)
                except Exception:
                    log.exception("engine: looking for pending ops failed")
                    newest = None
                if newest is not None:
                    # only a new op wakes a watcher: one waiting for its retry has its own timer,
                    # and waking it again would make it write (sync marks) and wake itself
                    for account, op_id in newest.items():
                        watcher = self.watchers.get(account)
                        if watcher is not None and op_id > woken.get(account, 0):
                            woken[account] = op_id
                            watcher.wake()
                if newest is not None and mark is not None and (before is None or mark[0] != before[0]):
                    if self.followups is not None:
                        self.followups.kick()  # a snooze or a reply from a terminal: schedule now
                    if self.dispatcher is not None:
                        self.dispatcher.kick()  # a label or a suppression from a terminal: deliver now
                await changes.wait(seen)

    async def stop(self) -> None:
        if not self.running:
            return
        self.running = False
        self._stopping.set()
        for task in (self._leaser, self._poller, self._drainer, self._followup_task, self._dispatch_task):
            if task is not None:
                task.cancel()
        ids = list(self._tasks)
        accounts = [w.account for w in self.watchers.values()]
        await self._stop_watchers(ids)
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait([t for t in (self._poller, self._drainer, self._followup_task, self._dispatch_task)
                                if t is not None],
                               timeout=1.0)
        if self._db is not None:
            await self._mark(accounts, AccountState.STOPPED)
            if self.leasing:  # given back for the other engines to take at once
                with contextlib.suppress(Exception):  # unreachable: they expire by themselves
                    await self._db.call(Store.release_leases, self.owner, None)
                self.held.clear()
            await self._db.close()
        if self._parser is not None:
            self._parser.close()
        log.info("engine: stopped")
        if self._log_handler is not None:
            logging.getLogger("app").removeHandler(self._log_handler)
            self._log_handler.close()
        self._lock.release()
