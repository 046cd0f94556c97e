"""``replydesk demo``: the whole product on embedded local servers, no account, no network.

It starts the demo's IMAP and SMTP servers (``app.demo``), writes an ordinary config for ten
sending mailboxes on them into a temporary directory, and then runs exactly what ``replydesk``
runs on that config: the inbox with the engine in-process. With ``--headless`` it runs what
``replydesk sync`` runs instead, for scripts and servers. Every file is removed on exit.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time

from app.demo.session import start_demo
from app.errors import UsageError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--interval", type=float, default=6.0, metavar="SECONDS",
                   help="seconds between new replies arriving (default 6)")
    p.add_argument("--answer-delay", type=float, default=4.0, metavar="SECONDS",
                   help="seconds before a prospect answers a reply you sent (default 4)")
    p.add_argument("--headless", action="store_true",
                   help="run the engine without the inbox (as `replydesk sync` does) and print where "
                        "the demo's config is, to try the other commands on it")
    p.add_argument("--duration", type=float, metavar="SECONDS",
                   help="stop after this many seconds (default: run until Ctrl-C)")


def _stop_after(seconds: float) -> None:
    """End the demo like a Ctrl-C would, wherever the main thread is."""
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.daemon = True
    timer.start()


def _as_interrupt(signum: int, frame: object) -> None:
    signal.raise_signal(signal.SIGINT)


def run(args: argparse.Namespace) -> int:
    if args.interval <= 0 or args.answer_delay < 0:
        raise UsageError("--interval must be above 0 and --answer-delay not below 0")
    # SIGTERM ends the demo as Ctrl-C (SIGINT) does: whoever handles SIGINT at that moment (the
    # inbox's event loop, the engine's, or Python's KeyboardInterrupt) stops it cleanly, so
    # the servers stop and the temporary files go.
    previous = signal.signal(signal.SIGTERM, _as_interrupt)
    # Started with interrupts ignored (in the background of a shell without job control): the
    # demo takes them back, so that SIGTERM and Ctrl-C stop it by the same clean path (the event
    # loops install their handlers only over Python's own), not by an exception raised wherever
    # the main thread happens to be.
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        # what happens in the seconds before the inbox appears, said as it happens
        started = time.monotonic()
        print("replydesk demo: starting local IMAP and SMTP servers for 10 sending mailboxes…",
              file=sys.stderr, flush=True)
        with start_demo(interval=args.interval, answer_delay=args.answer_delay) as demo:
            print(f"replydesk demo: servers up in {time.monotonic() - started:.1f} s; "
                  f"{'starting the engine' if args.headless else 'opening the inbox'}, which connects the mailboxes…",
                  file=sys.stderr, flush=True)
            sub = argparse.Namespace(**{"quiet": False, **vars(args), "config": str(demo.config_path)})
            if args.duration:
                _stop_after(args.duration)
            if args.headless:
                print(f"replydesk demo: 10 mailboxes on local servers; config {demo.config_path}\n"
                      f"  try: replydesk --config {demo.config_path} list\n"
                      f"  engine log: {demo.log_file}", flush=True)
                from app.commands import sync
                code = sync.run(sub)
            else:
                from app.commands import tui
                code = tui.run(sub)
            return int(code or 0)
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        sys.stdout.flush()
