"""Fetched mail into the store: the parse off the event loop (``ParsePool``) and one batch per
transaction (``store_batch``). The store thread itself is ``app.store.thread.StoreThread``."""

from __future__ import annotations

import asyncio
import os
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from app.imap.pace import FetchGate
from app.imap.parsework import ForkServer, Job, MessageWorker
from app.imap.responses import Fetched
from app.mail import NoiseContext, bounce
from app.mail.rules import Rules
from app.mail.types import Classification, ParsedMessage
from app.store import IncomingMessage, Store
from app.store.triage import keyword_label


def incoming(folder: str, uidvalidity: int, direction: str, items: list[Fetched],
             readings: list[tuple[ParsedMessage, Classification | None]]) -> list[IncomingMessage]:
    """The fetched messages that have a body (``items``) with what was read of each, ready to store."""
    out = []
    for item, (parsed, classification) in zip(items, readings, strict=True):
        assert item.body is not None
        if item.size:
            if item.size > len(item.body) and parsed.attachments:
                # the fetch stops at MAX_FETCH_BYTES, so the part cut is the last one
                parsed.attachments[-1] = replace(parsed.attachments[-1], truncated=True)
            parsed.size = item.size
        out.append(IncomingMessage(
            folder=folder, uidvalidity=uidvalidity, uid=item.uid, parsed=parsed,
            classification=classification,
            flags=item.flags, received_at=item.internaldate, modseq=item.modseq, direction=direction))
    return out


def confirm_bounce_recipients(store: Store, account: str, batch: list[IncomingMessage]) -> None:
    """Where a bounce names an address this mailbox never wrote to (the notice's words or the
    returned headers left it open), read it again with the synced Sent folder as the judge:
    among the candidates, the address the mailbox did send to is the one that failed."""
    has_sent: bool | None = None
    for msg in batch:
        c = msg.classification
        if msg.direction != "in" or c is None or c.kind != "bounce" or not c.bounce_recipients:
            continue
        if all(store.sent_to(account, r.address) for r in c.bounce_recipients):
            continue
        if has_sent is None:
            has_sent = store.has_sent_mail(account)
        if not has_sent:
            return
        report = bounce.analyze(msg.parsed, lambda address: store.sent_to(account, address))
        if report.recipients:
            c.bounce_recipients = report.recipients


def store_batch(store: Store, account: str, folder: str, batch: list[IncomingMessage],
                folder_fields: dict[str, Any], progress: dict[str, Any]) -> list[int]:
    """A fetched batch and the folder's new high-water mark in one transaction: after a crash
    either both are there or neither (and the dedup key makes a refetch harmless)."""
    with store.db.tx():
        labels = {m.parsed.message_id: label for m in batch
                  if m.direction == "in" and m.parsed.message_id and (label := keyword_label(m.flags))}
        if labels:
            store.adopt_server_labels(account, labels)
        confirm_bounce_recipients(store, account, batch)
        ids = store.add_messages(account, batch)
        sent = [a.email for m in batch if m.direction == "out" for a in (*m.parsed.to, *m.parsed.cc)]
        if ids and sent:
            store.reconfirm_bounces(account, sent)
        store.save_folder(account, folder, **folder_fields)
        if progress:
            store.update_account(account, **progress)
    return ids


class ParsePool:
    """Where fetched batches are read: ``workers`` threads, each with a worker process
    (``app.imap.parsework``) that parses and classifies one message at a time within the read
    budget. The event loop keeps serving hundreds of connections meanwhile, a message that is slow
    to read holds up one worker only, and a second core is used where there is one.

    Batches wait in one queue; a thread takes the next when its worker has nothing, and also,
    when no other thread is free, one ahead of the batch its worker is on (``LOOKAHEAD``): the
    worker then goes on to it without waiting for the answers to be taken in. A batch taken
    ahead waits behind a message that overruns (up to the budget), as a batch in the queue
    waits when every worker is busy."""

    def __init__(self, workers: int = 2, budget: float = 10.0, rules: Rules | None = None,
                 fetch_ahead: int = 8) -> None:
        self.gate = FetchGate(fetch_ahead)
        """Fetched batches waiting to be read and stored, engine-wide (``[general] fetch_ahead_batches``)."""
        self.budget = budget
        self.rules = rules
        self.forks = ForkServer()
        """Where the threads' worker processes are forked from, warm (started with the first)."""
        self._size = max(1, workers)
        self._queue: deque[_Batch] = deque()
        self._cond = threading.Condition()
        self._readers: list[_Reader] = []
        self._idle = 0
        """Threads whose worker has nothing to read, waiting for a batch."""
        self._starting = 0
        """Threads started (for a batch, or the first ahead of the mail) that have not asked for
        one yet: free all the same, so a busy thread does not take a batch ahead of them while
        their worker starts."""
        self._closed = False

    def start(self) -> None:
        """The first thread and its worker process now, before the first batch: a first sync's
        mail is read as soon as it is fetched, not after the worker has started and built the
        classifier's patterns (~0.35 s, while the connections log in). The others start when
        there is mail for them, as ever."""
        with self._cond:
            if self._closed or self._readers:
                return
            self._add_reader(warm=True)

    @property
    def ready_workers(self) -> int:
        """Worker processes up and ready to read at this moment."""
        with self._cond:
            readers = list(self._readers)
        return sum(r.worker.ready for r in readers)

    async def parse(self, folder: str, uidvalidity: int, direction: str, fetched: list[Fetched],
                    noise: NoiseContext | None = None,
                    examples: tuple[tuple[str, str], ...] = ()) -> list[IncomingMessage]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[IncomingMessage]] = loop.create_future()
        items = [item for item in fetched if item.body is not None]

        def done(job: Job) -> None:  # in the reading thread
            try:
                result: list[IncomingMessage] | None = incoming(folder, uidvalidity, direction, items, job.readings)
                error: BaseException | None = None
            except BaseException as exc:  # the worker could not start, or the engine is closing
                result, error = None, exc
            try:
                loop.call_soon_threadsafe(_settle, future, result, error)
            except RuntimeError:  # the loop is closed: nobody waits
                pass

        context = (noise, self.rules, examples if direction == "in" else ())
        self._submit(_Batch([item.body for item in items if item.body is not None], direction, context, done,
                            future))
        return await future

    def _submit(self, batch: _Batch) -> None:
        with self._cond:
            if self._closed:
                raise RuntimeError("the parse worker is closed (the engine is stopping)")
            self._queue.append(batch)
            # a thread for it unless a free one will take it: an idle thread woken for a batch
            # given just before counts as idle until it runs, so free threads are counted
            # against the batches waiting, not merely looked for
            if len(self._readers) < self._size and len(self._queue) > self._idle + self._starting:
                self._add_reader()
            self._cond.notify()
            busy = [r for r in self._readers if not r.idle]
        for reader in busy:  # one of them may take it ahead
            reader.wake()

    def _add_reader(self, warm: bool = False) -> None:
        """A new thread (with ``self._cond`` held), free while its worker starts: a batch given
        meanwhile is one for it, not one for a busy thread to take ahead of the batch it reads."""
        reader = _Reader(self, warm)
        reader.starting = True
        self._starting += 1
        self._readers.append(reader)
        reader.start()

    def _next(self, reader: _Reader, wait: bool) -> _Batch | None:
        """The next batch for ``reader``: waiting for one when ``wait`` (its worker has
        nothing); else only if no other thread is free to take it. None when closed."""
        with self._cond:
            if reader.starting:
                reader.starting = False
                self._starting -= 1
            while True:
                while self._queue and self._queue[0].future.done():  # given up meanwhile (cancelled)
                    self._queue.popleft()
                if self._closed:
                    return None
                if self._queue and (wait or (self._idle == 0 and self._starting == 0)):
                    return self._queue.popleft()
                if not wait:
                    return None
                reader.idle = True
                self._idle += 1
                try:
                    self._cond.wait()
                finally:
                    reader.idle = False
                    self._idle -= 1

    def close(self) -> None:
        with self._cond:
            self._closed = True
            waiting, self._queue = self._queue, deque()
            self._cond.notify_all()
            readers = list(self._readers)
        for batch in waiting:  # nobody will read them: their waiters hear why
            error = RuntimeError("the parse worker is closed (the engine is stopping)")
            try:
                batch.future.get_loop().call_soon_threadsafe(_settle, batch.future, None, error)
            except RuntimeError:  # the loop is closed: nobody waits
                pass
        for reader in readers:
            reader.worker.close()
            reader.wake()
        self.forks.close()


@dataclass
class _Batch:
    raws: list[bytes]
    direction: str
    context: tuple[Any, ...]
    done: Callable[[Job], None]
    future: asyncio.Future[list[IncomingMessage]]


def _settle(future: asyncio.Future[list[IncomingMessage]], result: list[IncomingMessage] | None,
            error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result or [])


class _Reader(threading.Thread):
    """A thread of the parse pool and its worker process: it sends the worker its batches (one
    ahead, when it can) and takes the answers in."""

    def __init__(self, pool: ParsePool, warm: bool = False) -> None:
        super().__init__(name="replydesk-parse", daemon=True)
        self.pool = pool
        self.warm = warm
        """Start the worker before taking a batch (the pool's first, started ahead of the mail).
        A thread started for a batch takes it first: while its worker starts, another thread
        must not take the batch ahead of its own."""
        self.idle = False
        self.starting = False
        """Started and not yet asking for a batch (``ParsePool._starting``)."""
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._wake_lock = threading.Lock()
        self._wake_open = True
        """The pipe is open: once the thread has closed it, its descriptor numbers may name another
        file, which a late ``wake`` must not write to."""
        self.worker = MessageWorker(pool.budget, wake=self._wake_r, forks=pool.forks)

    def wake(self) -> None:
        with self._wake_lock:
            if not self._wake_open:
                return
            try:
                os.write(self._wake_w, b"\0")
            except BlockingIOError:  # woken already (a full pipe)
                pass

    def run(self) -> None:
        worker = self.worker
        try:
            if self.warm:
                worker.warm()
            while True:
                if not worker.busy or worker.has_room:
                    batch = self.pool._next(self, wait=not worker.busy)
                    if batch is None and not worker.busy:
                        return  # closed
                    if batch is not None:
                        worker.take(batch.raws, batch.direction, batch.context, batch.done)
                    # the worker's job holds what it reads: the batch (its mail, its future) is not
                    # kept by this thread while it waits for the next one
                    del batch
                worker.step()
        finally:
            worker.close()
            with self._wake_lock:
                self._wake_open = False
                for fd in (self._wake_r, self._wake_w):
                    os.close(fd)
