"""``replydesk sync``: the engine headless (IMAP IDLE on every mailbox, the outbox) until SIGINT
or SIGTERM, then a clean exit within 5 s. SIGHUP reloads the config: accounts added or removed
start or stop, the others keep their connections.

One log line per state change, on stderr and in the log file beside the database.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from app.commands.common import load
from app.engine import Engine
from app.errors import ReplydeskError

log = logging.getLogger("app.commands.sync")

STOP_DEADLINE = 5.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", action="store_true", help="log to the log file only, not to stderr")


def run(args: argparse.Namespace) -> int:
    config = load(args)
    handler: logging.Handler | None = None
    if not args.quiet:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        logging.getLogger("app").addHandler(handler)
        logging.getLogger("app").setLevel(logging.INFO)
    try:
        return asyncio.run(_main(args, config))
    finally:
        if handler is not None:
            logging.getLogger("app").removeHandler(handler)


async def _main(args: argparse.Namespace, config) -> int:
    engine = Engine(config)
    await engine.start()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    reloads: list[asyncio.Task] = []

    def reload() -> None:
        async def apply() -> None:
            try:
                await engine.reload(load(args))
            except ReplydeskError as exc:
                log.info("engine: config not reloaded: %s", exc)
        reloads.append(asyncio.create_task(apply()))

    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGHUP, reload)
    try:
        await stop.wait()
        log.info("engine: stopping")
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(sig)
        for task in reloads:
            task.cancel()
        try:
            await asyncio.wait_for(engine.stop(), STOP_DEADLINE - 0.5)
        except TimeoutError:
            log.info("engine: stop took too long; exiting anyway")
    return 0
