"""The engine's way into the store: one connection on a thread of its own, so SQLite calls
(and their waits for the write lock, up to the busy timeout) never block the event loop that
hundreds of IDLE connections and the outbox share. Every commit made through it wakes the
database's ``app.store.changes`` waiters, like any other connection's."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from app.store import Store
from app.store.activity import ENGINE_USER
from app.store.health import StoreStatusFile

T = TypeVar("T")


class StoreThread:
    """Runs ``fn(store, *args)`` on a thread that owns one ``Store`` connection."""

    def __init__(self, path: Path | str) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="replydesk-store")
        self._store: Store | None = None
        self.status = StoreStatusFile(path)
        """Says "disk full" (and the like) where the store itself cannot be written."""

    def _get(self) -> Store:
        if self._store is None:
            self._store = Store(self.path, ENGINE_USER)
            # this thread writes every batch of mail: it does not wait on the disk for checkpoints
            self._store.db.checkpoint_in_background()
        return self._store

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(self._get(), *args, **kwargs))

    async def close(self) -> None:
        def shut(store: Store) -> None:
            store.close()
            self._store = None
        await self.call(shut)
        self._executor.shutdown(wait=False)
