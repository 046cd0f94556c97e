"""How fast the engine opens IMAP connections (``[general] connect_concurrency`` and
``connects_per_second``)."""

from __future__ import annotations

import asyncio
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
