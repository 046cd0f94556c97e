"""``replydesk doctor [ACCOUNT]``: check IMAP and SMTP of every account, one line per check.

Exit status 1 when any account fails a check (warnings do not count).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from app.commands.common import load
from app.doctor import TIMEOUT, Result, diagnose
from app.errors import UsageError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("account", nargs="?", metavar="ACCOUNT", help="only this account (id or email)")
    p.add_argument("--timeout", type=float, default=TIMEOUT, metavar="S",
                   help=f"seconds to wait for each step (default {TIMEOUT:.0f})")
    p.add_argument("--concurrency", type=int, default=16, metavar="N",
                   help="accounts checked at once (default 16)")


def run(args: argparse.Namespace) -> int:
    config = load(args)
    if args.account:
        accounts = [config.account(args.account)]
    else:
        accounts = [a for a in config.accounts if a.enabled]
    if not accounts:
        raise UsageError("no accounts to check", "add one with: replydesk accounts add")
    width = min(32, max(len(a.id) for a in accounts))

    def show(results: list[Result]) -> None:
        for result in results:
            print(result.line(width), flush=True)

    results = asyncio.run(diagnose(accounts, concurrency=max(1, args.concurrency), timeout=args.timeout,
                                   on_account=show))
    failing = sorted({r.account for r in results if r.status == "FAIL"})
    from app.auth.keyring_store import KEYRING_WARNING, plaintext_keyring
    if config.reads_keyring and (plain := plaintext_keyring()) is not None:
        print(KEYRING_WARNING.format(name=plain), file=sys.stderr)
    print(f"{len(accounts)} account(s) checked: {len(accounts) - len(failing)} ok, {len(failing)} failing"
          + (f" ({', '.join(failing[:10])}{' …' if len(failing) > 10 else ''})" if failing else ""),
          file=sys.stderr)
    return 1 if failing else 0
