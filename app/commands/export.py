"""``replydesk export``: the suppression list (for the sending platform) or the inbox, as CSV or JSON."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import datetime, timezone
from typing import Any, TextIO

from app.commands.common import open_config_and_store
from app.errors import UsageError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("what", choices=("suppressions", "messages"), nargs="?", default="suppressions",
                   help="suppressions (default): bounced and unsubscribed addresses; messages: the inbox")
    p.add_argument("--format", choices=("csv", "json"), default="csv", help="csv (default) or json lines")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")


def _iso(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat() if ts else ""


def _rows(store: Any, what: str) -> tuple[list[str], list[dict[str, Any]]]:
    if what == "suppressions":
        cols = ["address", "reason", "detail", "created_at"]
        return cols, [{**r, "created_at": _iso(r["created_at"])} for r in store.suppressions()]
    cols = ["id", "account", "from", "subject", "date", "kind", "category", "category_source", "seen"]
    return cols, [{**r, "date": _iso(r["sent_at"] or r["received_at"])} for r in store.list_messages()]


def _write(out: TextIO, fmt: str, cols: list[str], rows: list[dict[str, Any]]) -> None:
    if fmt == "json":
        for r in rows:
            out.write(json.dumps({c: r.get(c) for c in cols}, ensure_ascii=False) + "\n")
        return
    writer = csv.DictWriter(out, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def run(args: argparse.Namespace) -> int:
    _, store = open_config_and_store(args)
    cols, rows = _rows(store, args.what)
    if args.output:
        try:
            with open(args.output, "w", newline="", encoding="utf-8") as fh:
                _write(fh, args.format, cols, rows)
        except OSError as exc:
            raise UsageError(f"{args.output}: cannot write: {exc.strerror}") from None
        print(f"{len(rows)} {args.what} written to {args.output}", file=sys.stderr)
    else:
        _write(sys.stdout, args.format, cols, rows)
    return 0
