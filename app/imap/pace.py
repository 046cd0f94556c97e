"""How fast the engine opens IMAP connections (``[general] connect_concurrency`` and
``connects_per_second``), and how much fetched mail it holds at once (``fetch_ahead_batches``)."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class ConnectPace:
    """At most ``concurrency`` TLS handshakes and logins at once (the engine's CPU), and new ones
    to each server host started no faster than ``per_second`` (that provider's budget): a cold
    start of 5,000 mailboxes reaches each provider as a steady stream, not a burst, and mailboxes
    at one provider do not wait behind another's. Used as ``async with pace.slot(host):``."""

    def __init__(self, concurrency: int, per_second: float) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._gap = 1.0 / per_second
        self._next: dict[str, float] = {}
        self._turn: dict[str, asyncio.Lock] = {}
        self.waiting = 0
        """Connects asked for and not started yet: a cold start is under way while above zero."""

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        # one connect per host at a time waits for its turn and then for a free handshake: the
        # hosts' next connects queue for the handshakes in turn, so a host with thousands waiting
        # holds no more than one place in that queue (no provider waits behind another's backlog)
        host = host.lower()
        self.waiting += 1
        try:
            async with self._turn.setdefault(host, asyncio.Lock()):
                loop = asyncio.get_running_loop()
                wait = self._next.get(host, 0.0) - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                await self._slots.acquire()
                self._next[host] = loop.time() + self._gap  # from the moment it really starts
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self._slots.release()


class FetchGate:
    """At most ``size`` fetched batches held at once, engine-wide, from before their FETCH until
    they are stored: the servers of a cold start send mail no faster than the parse workers and
    the store take it in. A mailbox's new mail (``urgent``: a sync of one batch) is let through
    before history still waiting (a sync of many). ``await gate.acquire(urgent)``, then one
    ``gate.release()`` for each acquire that returned."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.held = 0
        self.peak = 0
        """The most batches held at once so far."""
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    async def acquire(self, urgent: bool) -> None:
        if self.held < self.size and not self._waiting:
            self._take()
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (0 if urgent else 1, next(self._order), future)
        heapq.heappush(self._waiting, entry)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # handed a place just as it was cancelled: pass it on
            elif entry in self._waiting:  # (a disconnect: rare) out of the queue
                self._waiting.remove(entry)
                heapq.heapify(self._waiting)
            raise

    def _take(self) -> None:
        self.held += 1
        self.peak = max(self.peak, self.held)

    def release(self) -> None:
        self.held -= 1
        while self._waiting:
            _, _, future = heapq.heappop(self._waiting)
            if not future.done():
                self._take()
                future.set_result(None)
                return
