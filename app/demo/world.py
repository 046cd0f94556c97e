"""The demo's world: IMAP and SMTP servers, the sending mailboxes and the prospects behind them.

Runs as its own process (``python -m app.demo.world DIR``, started by ``replydesk demo``) so
the inbox in the foreground talks to it over real sockets, exactly as it talks to a provider.
It seeds the mailboxes, prints one JSON line with its ports when ready, then delivers a new
reply every ``--interval`` seconds. A reply sent to a prospect lands in the prospect's own
mailbox, and some prospects answer back a few seconds later.

Passwords come from the environment (never the command line). The process stops when its
stdin closes (its parent exited, however it exited) or on SIGTERM, and then removes DIR.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from app.demo import letters, scenario
from app.demo.certs import make_certificate
from app.demo.imap_server import DemoImapServer
from app.demo.smtp_server import DemoSmtpServer

SENDER_PASSWORD_ENV = "REPLYDESK_DEMO_PW_{n}"
"""The n-th sending mailbox's password (n from 1), set by ``replydesk demo``."""
PROSPECT_PASSWORD_ENV = "REPLYDESK_DEMO_PROSPECT_PW"
"""The password of every prospect's mailbox, to look into what they received."""
COLD_EMAIL_AGE = timedelta(days=2)
UNANSWERED_PER_MAILBOX = 24
"""Cold emails in each Sent folder that got no reply, so reply and bounce rates look real."""

log = logging.getLogger("replydesk.demo")


def sender_password_env(index: int) -> str:
    return SENDER_PASSWORD_ENV.format(n=index + 1)


class World:
    def __init__(self, directory: Path, *, interval: float, answer_delay: float, seed: int) -> None:
        self.directory = directory
        self.interval = interval
        self.answer_delay = answer_delay
        self.seed = seed
        self.passwords: dict[str, str] = {}
        self.prospects = {p.email: p for p in scenario.PROSPECTS}
        self.senders = {s.email: s for s in scenario.SENDERS}
        self.imap: DemoImapServer | None = None
        self._answers_given: dict[str, itertools.count[int]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def _read_passwords(self) -> None:
        for i, sender in enumerate(scenario.SENDERS):
            self.passwords[sender.email] = os.environ[sender_password_env(i)]
        self.prospect_password = os.environ[PROSPECT_PASSWORD_ENV]

    async def run(self, stop: asyncio.Event, ready: Callable[[dict[str, object]], None]) -> None:
        self._read_passwords()
        cert, key = make_certificate(self.directory)
        async with AsyncExitStack() as stack:
            self.imap = DemoImapServer(cert, key)
            imap_port = await self.imap.start(stack)
            for email, password in self.passwords.items():
                await self.imap.add_user(email, password)
            for p in scenario.PROSPECTS:
                await self.imap.add_user(p.email, self.prospect_password)
            await self._seed()
            smtp = DemoSmtpServer(cert, key, self._check_password, self.imap.has_user, self._on_message)
            smtp_port = await smtp.start(stack)
            log.info("imap on %d, smtp on %d", imap_port, smtp_port)
            ready({"imap_port": imap_port, "smtp_port": smtp_port, "ca_file": str(cert)})
            self._spawn(self._drip())
            await stop.wait()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _check_password(self, login: str, password: str) -> bool:
        return self.passwords.get(login.lower()) == password

    # -- mail arriving -------------------------------------------------------------------

    async def _deliver_reply(self, reply: scenario.Reply, when: datetime) -> None:
        assert self.imap is not None
        sender = scenario.SENDERS[reply.sender]
        prospect = self.prospects.get(reply.prospect) or scenario.prospect(reply.prospect)
        cold = letters.cold_email(sender, prospect, when - COLD_EMAIL_AGE)
        await self.imap.deliver(sender.email, cold.raw, folder="Sent", when=cold.when, seen=True)
        if self.imap.has_user(prospect.email):
            await self.imap.deliver(prospect.email, cold.raw, when=cold.when)
        raw = letters.reply(reply, sender, prospect, cold, when)
        await self.imap.deliver(sender.email, raw, when=when)
        log.info("%s -> %s: %s", prospect.email, sender.email, reply.expect)

    async def _seed(self) -> None:
        assert self.imap is not None
        now = datetime.now(timezone.utc)
        for i, sender in enumerate(scenario.SENDERS):
            for n, quiet in enumerate(scenario.quiet_prospects(i, UNANSWERED_PER_MAILBOX)):
                cold = letters.cold_email(sender, quiet, now - timedelta(days=6, hours=-5 * n))
                await self.imap.deliver(sender.email, cold.raw, folder="Sent", when=cold.when, seen=True)
        for reply in scenario.SEEDED:
            await self._deliver_reply(reply, now - timedelta(hours=reply.hours_ago))

    async def _drip(self) -> None:
        assert self.imap is not None
        for reply, newcomer in scenario.live_replies(self.seed):
            await asyncio.sleep(self.interval)
            if newcomer is not None:
                self.prospects[newcomer.email] = newcomer
                await self.imap.add_user(newcomer.email, self.prospect_password)
            await self._deliver_reply(reply, datetime.now(timezone.utc))

    async def _on_message(self, mail_from: str, rcpt_tos: list[str], raw: bytes) -> None:
        """A message accepted by the SMTP server: into each recipient's INBOX."""
        assert self.imap is not None
        for rcpt in rcpt_tos:
            await self.imap.deliver(rcpt, raw)
            log.info("delivered %s -> %s", mail_from, rcpt)
            prospect = self.prospects.get(rcpt.lower())
            if prospect is not None and prospect.answers_back and mail_from.lower() in self.senders:
                self._spawn(self._answer_back(prospect, raw))

    async def _answer_back(self, prospect: scenario.Prospect, received: bytes) -> None:
        assert self.imap is not None
        await asyncio.sleep(self.answer_delay)
        turn = next(self._answers_given.setdefault(prospect.email, itertools.count()))
        text = prospect.answers_back[turn % len(prospect.answers_back)]
        raw = letters.answer_back(prospect, received, text, datetime.now(timezone.utc))
        # the reply came from a demo mailbox: deliver the answer there directly
        to = parseaddr(_header(received, "From"))[1].lower()
        if self.imap.has_user(to):
            await self.imap.deliver(to, raw)
            log.info("%s answered back to %s", prospect.email, to)


def _header(raw: bytes, name: str) -> str:
    return str(message_from_bytes(raw, policy=policy.default).get(name, ""))


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """The parent holds our stdin open for as long as it runs; EOF means it is gone."""
    def wait() -> None:
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            loop.call_soon_threadsafe(stop.set)
    threading.Thread(target=wait, name="demo-parent-watch", daemon=True).start()


async def _serve(world: World) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    _watch_stdin(loop, stop)

    def ready(info: dict[str, object]) -> None:
        print(json.dumps(info), flush=True)

    await world.run(stop, ready)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.demo.world")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--interval", type=float, default=6.0)
    parser.add_argument("--answer-delay", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    logging.basicConfig(filename=args.directory / "world.log", level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    world = World(args.directory, interval=args.interval, answer_delay=args.answer_delay, seed=args.seed)
    try:
        asyncio.run(_serve(world))
    except KeyError as exc:
        print(f"demo servers: environment variable {exc.args[0]} is not set", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(args.directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
