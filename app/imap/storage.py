"""Fetched mail into the store: the parse off the event loop (``ParsePool``) and one batch per
transaction (``store_batch``). The store thread itself is ``app.store.thread.StoreThread``."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from app.imap.pace import FetchGate
from app.imap.parsework import MessageWorker
from app.imap.responses import Fetched
from app.mail import NoiseContext, bounce, classify, parse
from app.mail.learn import examples_from
from app.mail.rules import Rules
from app.mail.types import Classification, ParsedMessage
from app.store import IncomingMessage, Store
from app.store.triage import keyword_label


def to_incoming(folder: str, uidvalidity: int, direction: str, fetched: list[Fetched],
                noise: NoiseContext | None = None, examples: tuple[tuple[str, str], ...] = (), *,
                read_many: Callable[[list[bytes], str], list[tuple[ParsedMessage, Classification | None]]]
                | None = None) -> list[IncomingMessage]:
    """Parse and classify one fetched batch. ``read_many`` reads the messages (the parse pool's
    worker, within its time budget); without it, here, with ``noise`` (the account's warmup tags
    and own addresses) and ``examples`` (the user's labelled replies, which the classifier learns
    from)."""
    items = [item for item in fetched if item.body is not None]
    if read_many is None:
        learned = examples_from(examples) if examples and direction == "in" else None

        def read_many(raws: list[bytes], direction: str) -> list[tuple[ParsedMessage, Classification | None]]:
            out = []
            for raw in raws:
                parsed = parse(raw)
                out.append((parsed, classify(parsed, context=noise, examples=learned) if direction == "in" else None))
            return out
    readings = read_many([item.body for item in items if item.body is not None], direction)
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
    to read holds up one worker only, and a second core is used where there is one."""

    def __init__(self, workers: int = 2, budget: float = 10.0, rules: Rules | None = None,
                 fetch_ahead: int = 8) -> None:
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="replydesk-parse")
        self.gate = FetchGate(fetch_ahead)
        """Fetched batches waiting to be read and stored, engine-wide (``[general] fetch_ahead_batches``)."""
        self.budget = budget
        self.rules = rules
        self._local = threading.local()
        self._workers: list[MessageWorker] = []
        self._lock = threading.Lock()

    def _worker(self) -> MessageWorker:
        worker = getattr(self._local, "worker", None)
        if worker is None:
            worker = self._local.worker = MessageWorker(self.budget)
            with self._lock:
                self._workers.append(worker)
        return worker

    async def parse(self, folder: str, uidvalidity: int, direction: str, fetched: list[Fetched],
                    noise: NoiseContext | None = None,
                    examples: tuple[tuple[str, str], ...] = ()) -> list[IncomingMessage]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._read, folder, uidvalidity, direction, fetched,
                                          noise, examples)

    def _read(self, folder: str, uidvalidity: int, direction: str, fetched: list[Fetched],
              noise: NoiseContext | None, examples: tuple[tuple[str, str], ...]) -> list[IncomingMessage]:
        worker = self._worker()
        worker.set_context(noise, self.rules, examples if direction == "in" else ())
        return to_incoming(folder, uidvalidity, direction, fetched, read_many=worker.read_many)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            for worker in self._workers:
                worker.close()
