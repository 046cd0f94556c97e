"""``replydesk list``: the unified inbox, newest first (or oldest first, or by mailbox)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from app.commands.common import load
from app.errors import UsageError
from app.mail.categories import category_name, parse_category
from app.mail.noise import KINDS
from app.store import Store
from app.store.inbox import MESSAGE_SORTS


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="at most N messages")
    p.add_argument("--account", metavar="A", help="only this account (id or email)")
    p.add_argument("--category", metavar="C", help="only this category, by name ('do not contact') or id")
    p.add_argument("--unread", action="store_true", help="only unread messages")
    p.add_argument("--kind", metavar="K", help=f"only this kind: {', '.join(KINDS)}")
    p.add_argument("--sort", choices=MESSAGE_SORTS, default="newest",
                   help="newest first (default), oldest first, or by mailbox (newest first in each)")


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat() if ts is not None else None


def _category(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return parse_category(text)
    except ValueError as exc:
        raise UsageError(f"--category: {exc}") from None


def run(args: argparse.Namespace) -> int:
    if args.kind is not None and args.kind not in KINDS:
        raise UsageError(f"--kind: unknown kind {args.kind!r} (one of {', '.join(KINDS)})")
    if args.limit is not None and args.limit < 1:
        # SQLite reads a negative LIMIT as "no limit": -1 would list everything
        raise UsageError(f"--limit: expected a number of messages of 1 or more, got {args.limit}")
    category = _category(args.category)
    config = load(args)
    if not config.accounts and isinstance(config.database, Path) and not config.database.exists():
        # nothing set up yet: say how to start, and leave no empty database behind
        print("no accounts yet: replydesk accounts add, or replydesk accounts import FILE.csv "
              "(replydesk demo tries it all on local servers)", file=sys.stderr if args.json else sys.stdout)
        return 0
    store = Store(config.database)
    account = config.account(args.account).id if args.account else None
    rows = store.list_messages(limit=args.limit, account=account, category=category,
                               unread=args.unread, kind=args.kind, sort=args.sort)
    out = sys.stdout
    for row in rows:
        date, name = _iso(row["sent_at"] or row["received_at"]), category_name(row["category"])
        item = {
            "id": row["id"], "account": row["account"], "folder": row["folder"], "uid": row["uid"],
            "message_id": row["message_id"], "from": row["from"], "from_name": row["from_name"],
            "subject": row["subject"], "date": date,
            "received": _iso(row["received_at"]), "kind": row["kind"], "category": row["category"],
            "category_name": name, "category_source": row["category_source"], "seen": bool(row["seen"]),
            "answered": bool(row["answered"]), "archived": bool(row["archived"]),
            "conversation": row["conversation"], "reason": row["reason"],
        }
        if args.json:
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
        else:
            when = (date or "")[:16].replace("T", " ")
            flag = " " if row["seen"] else "*"
            out.write(f"{flag} {when:16}  {row['kind']:<9} {name:<15} {row['account'][:24]:<24} "
                      f"{(row['from'] or '')[:30]:<30} {row['subject'][:60]}\n")
    return 0
